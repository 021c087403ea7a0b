import Foundation
import SMTACore
import SMTAPayload
import Testing

/// `Authorization: <slug> API-Key <key>` as Payload's `APIKeyAuthentication` strategy accepts it:
/// the user whose `api_key_index` is the key's HMAC under a keyring secret, with
/// `enable_a_p_i_key` on. The index is written here as Payload's hook writes it, computed by
/// ``PayloadTokenMinter`` independently of the adapter.
@Suite("Payload API keys")
struct APIKeyTests {
    static let apiKey = "0f3c6d1e-5b7a-4c2e-9d8f-1a2b3c4d5e6f"

    static func header(_ key: String = apiKey, collection: String = "users") -> Credentials {
        Credentials(headers: [("Authorization", "\(collection) API-Key \(key)")])
    }

    @Test("an enabled key with a SHA-256 index (Payload ≥ 3.46) or a SHA-1 index (older keys) yields its user", arguments: StoreKind.allCases)
    func accepted(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(5), email: "robot@example.com", verified: true)
        try await fixture.addUser("users", id: .number(6), email: "legacy@example.com", verified: true)
        try await fixture.setAPIKey(user: .number(5), enabled: true, index: PayloadTokenMinter.apiKeyIndex(Self.apiKey))
        try await fixture.setAPIKey(user: .number(6), enabled: true, index: PayloadTokenMinter.apiKeyIndex("legacy-key", sha1: true))
        try await fixture.withAdapter { adapter in
            let robot = try await adapter.accepted(Self.header())
            #expect(robot.link?.subject == "users:5")
            #expect(robot.email == "robot@example.com")
            #expect(robot.role == .authenticated)
            #expect(robot.source == "payload:users")
            #expect(!robot.claimsJSON.contains("sid"))
            let legacy = try await adapter.accepted(Self.header("legacy-key"))
            #expect(legacy.link?.subject == "users:6")
        }
    }

    @Test("a key indexed under a previous secret is accepted only while that secret is listed", arguments: StoreKind.allCases)
    func previousSecret(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(7), email: "old@example.com", verified: true)
        try await fixture.setAPIKey(user: .number(7), enabled: true, index: PayloadTokenMinter.apiKeyIndex(Self.apiKey, secret: "the-old-secret"))
        try await fixture.withAdapter(previousSecrets: ["the-old-secret"]) { adapter in
            let rotated = try await adapter.accepted(Self.header())
            #expect(rotated.link?.subject == "users:7")
        }
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(Self.header())?.kind == .revoked)
        }
    }

    @Test("a wrong key, a disabled key, a trashed user and a collection without API keys are refused, the key never echoed", arguments: StoreKind.allCases)
    func refused(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(8), email: "off@example.com", verified: true)
        try await fixture.addUser("users", id: .number(9), email: "binned@example.com", verified: true)
        try await fixture.setAPIKey(user: .number(8), enabled: false, index: PayloadTokenMinter.apiKeyIndex(Self.apiKey))
        try await fixture.setAPIKey(user: .number(9), enabled: true, index: PayloadTokenMinter.apiKeyIndex("binned-key"))
        try await fixture.trashUser(id: .number(9))
        try await fixture.withAdapter { adapter in
            let cases: [(String, Credentials, AuthenticationError.Kind)] = [
                ("disabled", Self.header(), .revoked),
                ("unknown key", Self.header("no-such-key"), .revoked),
                ("trashed user", Self.header("binned-key"), .revoked),
                ("index used as the key", Self.header(PayloadTokenMinter.apiKeyIndex(Self.apiKey)), .revoked),
                ("collection without useAPIKey", Self.header(collection: "admins"), .malformed),
                ("unconfigured collection", Self.header(collection: "robots"), .malformed),
            ]
            for (name, credentials, kind) in cases {
                let refusal = await adapter.refusal(credentials)
                #expect(refusal?.kind == kind, "\(name)")
                #expect(refusal?.reason.contains(Self.apiKey) == false, "\(name)")
                #expect(refusal?.reason.contains("binned-key") == false, "\(name)")
            }
        }
    }
}
