import Foundation
import SMTACore
import SMTAPayload
import Testing

@Suite("Accepted Payload credentials")
struct AcceptedCredentialsTests {
    @Test("a token in Authorization: JWT yields the user, linked as users:<id>, email from the users table", arguments: StoreKind.allCases)
    func jwtHeader(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (sid, token) = try await fixture.signedInUser(id: .number(7), email: "ada@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.role == .authenticated)
            #expect(identity.userID == nil)
            #expect(identity.email == "ada@example.com")
            #expect(identity.link == Identity.Link(provider: "payload", subject: "users:7", email: "ada@example.com"))
            #expect(identity.source == "payload:users")
            let claims = try JSONSerialization.jsonObject(with: Data(identity.claimsJSON.utf8)) as? [String: String]
            #expect(claims == ["role": "authenticated", "sub": "users:7", "email": "ada@example.com", "collection": "users", "sid": sid])
        }
    }

    @Test("only a user of a collection that verifies email is marked email_verified in the claims", arguments: StoreKind.allCases)
    func emailVerifiedClaim(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, adminToken) = try await fixture.signedInUser("admins", id: .number(3), email: "grace@example.com", verified: true)
        let (_, userToken) = try await fixture.signedInUser(id: .number(4), email: "ada@example.com")
        try await fixture.withAdapter { adapter in
            let admin = try await adapter.identify(.jwt(adminToken))
            let adminClaims = try JSONSerialization.jsonObject(with: Data(admin.claimsJSON.utf8)) as? [String: Any]
            #expect(adminClaims?["email_verified"] as? Bool == true)
            #expect(admin.claimsJSON.contains(#""email_verified":true"#))
            let user = try await adapter.identify(.jwt(userToken))
            let userClaims = try JSONSerialization.jsonObject(with: Data(user.claimsJSON.utf8)) as? [String: Any]
            #expect(userClaims?["email_verified"] == nil)
        }
    }

    @Test("the email comes from the users table, not from the token", arguments: StoreKind.allCases)
    func emailFromTable(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(8), email: "real@example.com", verified: true)
        let sid = UUID().uuidString.lowercased()
        try await fixture.addSession("users", user: .number(8), sid: sid, expiresAt: Date().addingTimeInterval(600))
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 8, email: "forged@example.com", sid: sid))
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.email == "real@example.com")
            #expect(identity.link?.email == "real@example.com")
        }
    }

    @Test("a token in Authorization: Bearer is accepted", arguments: StoreKind.allCases)
    func bearerHeader(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(1), email: "b@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(Credentials(headers: [("authorization", "Bearer " + token)]))
            #expect(identity.link?.subject == "users:1")
        }
    }

    @Test("a UUID id passes through as the user id and the subject", arguments: StoreKind.allCases)
    func uuidID(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let id = UUID()
        let (_, token) = try await fixture.signedInUser("team-members", id: .text(id.uuidString.lowercased()), email: "t@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.userID == id)
            #expect(identity.link?.subject == id.uuidString.lowercased())
            #expect(identity.source == "payload:team-members")
        }
    }

    @Test("a camelCase slug is looked up in Payload's snake_case tables", arguments: StoreKind.allCases)
    func camelCaseSlug(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser("teamLeads", id: .number(7), email: "lead@example.com")
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(.jwt(token))
            #expect(identity.link?.subject == "teamLeads:7")
            #expect(identity.source == "payload:teamLeads")
        }
    }

    @Test("user 1 of a second collection is another identity than users:1", arguments: StoreKind.allCases)
    func secondCollection(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, userToken) = try await fixture.signedInUser(id: .number(1), email: "u1@example.com")
        let (_, adminToken) = try await fixture.signedInUser("admins", id: .number(1), email: "a1@example.com")
        try await fixture.withAdapter { adapter in
            let user = try await adapter.identify(.jwt(userToken))
            let admin = try await adapter.identify(.jwt(adminToken))
            #expect(user.link?.subject == "users:1")
            #expect(admin.link?.subject == "admins:1")
            #expect(admin.email == "a1@example.com")
        }
    }

    @Test("no credential at all yields the anonymous identity", arguments: StoreKind.allCases)
    func anonymous(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.identify(Credentials(headers: [("Origin", "https://evil.example")]))
            #expect(identity == .anonymous(source: "payload"))
        }
    }
}
