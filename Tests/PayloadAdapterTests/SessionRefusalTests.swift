import Foundation
import SMTACore
import SMTAPayload
import Testing

@Suite("A validly signed token is refused when its session or user is gone")
struct SessionRefusalTests {
    @Test("an unknown sid is refused as revoked", arguments: StoreKind.allCases)
    func unknownSession(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        _ = try await fixture.signedInUser(id: .number(1), email: "a@example.com")
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, sid: UUID().uuidString.lowercased()))
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(.jwt(token))?.kind == .revoked)
        }
    }

    @Test("another user's sid is refused as revoked", arguments: StoreKind.allCases)
    func anotherUsersSession(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        _ = try await fixture.signedInUser(id: .number(1), email: "a@example.com")
        let (otherSid, otherToken) = try await fixture.signedInUser(id: .number(2), email: "b@example.com")
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, sid: otherSid))
        try await fixture.withAdapter { adapter in
            let accepted = try await adapter.accepted(.jwt(otherToken))
            #expect(accepted.link?.subject == "users:2")
            #expect(await adapter.refusal(.jwt(token))?.kind == .revoked)
        }
    }

    @Test("after logout (session row deleted) the token is refused; the user's other session still works", arguments: StoreKind.allCases)
    func logout(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (sid, token) = try await fixture.signedInUser(id: .number(1), email: "a@example.com")
        let secondSid = UUID().uuidString.lowercased()
        try await fixture.addSession("users", user: .number(1), sid: secondSid, expiresAt: Date().addingTimeInterval(600))
        let secondToken = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, sid: secondSid))
        try await fixture.withAdapter { adapter in
            let accepted = try await adapter.accepted(.jwt(token))
            #expect(accepted.link?.subject == "users:1")
            try await fixture.deleteSession("users", sid: sid)
            #expect(await adapter.refusal(.jwt(token))?.kind == .revoked)
            let other = try await adapter.accepted(.jwt(secondToken))
            #expect(other.link?.subject == "users:1")
        }
    }

    @Test("a session row whose expires_at is past is refused as expired", arguments: StoreKind.allCases)
    func expiredSessionRow(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(1), email: "a@example.com", verified: true)
        let sid = UUID().uuidString.lowercased()
        try await fixture.addSession("users", user: .number(1), sid: sid, expiresAt: Date().addingTimeInterval(-5))
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, sid: sid))
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(.jwt(token))?.kind == .expired)
        }
    }

    @Test("a deleted user is refused as revoked", arguments: StoreKind.allCases)
    func deletedUser(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(1), email: "a@example.com")
        let (_, uuidToken) = try await fixture.signedInUser("team-members", id: .text(UUID().uuidString.lowercased()), email: "t@example.com")
        try await fixture.withAdapter { adapter in
            let accepted = try await adapter.accepted(.jwt(token))
            #expect(accepted.link != nil)
            try await fixture.deleteUser("users", id: .number(1))
            let refusal = await adapter.refusal(.jwt(token))
            #expect(refusal?.kind == .revoked)
            #expect(refusal?.reason.contains("no longer exists") == true)
            let uuidUser = try await adapter.accepted(.jwt(uuidToken))
            #expect(uuidUser.userID != nil)
        }
    }

    @Test("an unverified user of a collection with auth.verify is refused; a verified one is accepted", arguments: StoreKind.allCases)
    func unverifiedUser(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, unverified) = try await fixture.signedInUser("admins", id: .number(1), email: "u@example.com", verified: false)
        let (_, verified) = try await fixture.signedInUser("admins", id: .number(2), email: "v@example.com", verified: true)
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(.jwt(unverified))?.kind == .revoked)
            let accepted = try await adapter.accepted(.jwt(verified))
            #expect(accepted.link?.subject == "admins:2")
        }
    }
}
