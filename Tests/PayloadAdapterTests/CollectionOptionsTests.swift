import Foundation
import SMTACore
import SMTAPayload
import Testing

/// Collection options as Payload has them: `auth.useSessions: false`, `dbName`, `trash: true`.
@Suite("Payload collection options: sessions off, dbName, trash")
struct CollectionOptionsTests {
    @Test("with useSessions off, a token without sid is accepted while its user exists, from the dbName table", arguments: StoreKind.allCases)
    func sessionless(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("apps", id: .number(1), email: "app@example.com", verified: true)
        let withoutSID = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, collection: "apps", sid: nil))
        // Payload does not look at a sid when the collection has no sessions; there is no table to look in.
        let withSID = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, collection: "apps", sid: "made-up"))
        try await fixture.withAdapter { adapter in
            let identity = try await adapter.accepted(.jwt(withoutSID))
            #expect(identity.link?.subject == "apps:1")
            #expect(identity.email == "app@example.com")
            #expect(!identity.claimsJSON.contains("sid"))
            let ignoringSID = try await adapter.accepted(.jwt(withSID))
            #expect(ignoringSID.link?.subject == "apps:1")
        }
        try await fixture.deleteUser("apps", id: .number(1))
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(.jwt(withoutSID))?.kind == .revoked)
        }
    }

    @Test("with sessions on (the default), a token without sid is refused", arguments: StoreKind.allCases)
    func sessionRequired(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        try await fixture.addUser("users", id: .number(2), email: "s@example.com", verified: true)
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 2, sid: nil))
        try await fixture.withAdapter { adapter in
            #expect(await adapter.refusal(.jwt(token))?.kind == .invalidClaims)
        }
    }

    @Test("a user moved to the trash is refused at once, token and session still valid", arguments: StoreKind.allCases)
    func trashed(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (_, token) = try await fixture.signedInUser(id: .number(3), email: "t@example.com")
        let (_, other) = try await fixture.signedInUser(id: .number(4), email: "u@example.com")
        try await fixture.withAdapter { adapter in
            let beforeTrash = try await adapter.accepted(.jwt(token))
            #expect(beforeTrash.link?.subject == "users:3")
            try await fixture.trashUser(id: .number(3))
            let refusal = await adapter.refusal(.jwt(token))
            #expect(refusal?.kind == .revoked)
            #expect(refusal?.reason.contains("trash") == true)
            let otherUser = try await adapter.accepted(.jwt(other))
            #expect(otherUser.link?.subject == "users:4")
        }
    }

    @Test("payload_collections options are read; bad or repeated options and shared tables name the key")
    func options() throws {
        let settings = try PayloadSettings(configuration: Configuration(values: [
            .payloadSecret: "s", .payloadDatabase: "p.db",
            .payloadCollections: "users:apikey:nosessions, admins:verified:dbName=cms_admins",
        ]))
        let expected = [
            try PayloadCollection(slug: "users", usesSessions: false, usesAPIKeys: true),
            try PayloadCollection(slug: "admins", requiresVerification: true, dbName: "cms_admins"),
        ]
        #expect(settings.collections == expected)
        #expect(settings.collections[1].tableName == "cms_admins")
        #expect(settings.collections[1].sessionsTableName == "cms_admins_sessions")
        for list in ["users:verified:verified", "users:dbName=1x", "users:dbName=a-b", "users:dbName=", "users:apikeys", "a:dbName=t, b:dbName=t", "team_x, teamX"] {
            let error = #expect(throws: ConfigurationError.self, "\(list)") {
                try PayloadSettings(configuration: Configuration(values: [.payloadSecret: "s", .payloadDatabase: "p.db", .payloadCollections: list]))
            }
            #expect(error?.key == "SMTA_PAYLOAD_COLLECTIONS", "\(list)")
        }
    }

    @Test("payload_server_url joins the CSRF origins as Payload adds serverURL, so it alone restricts the cookie")
    func serverURL() throws {
        let base: [Configuration.Key: String] = [.payloadSecret: "s", .payloadDatabase: "p.db"]
        var values = base
        values[.payloadServerURL] = "https://cms.example.com"
        let settings = try PayloadSettings(configuration: Configuration(values: values))
        #expect(settings.allowedOrigins == ["https://cms.example.com"])
        values[.payloadCSRF] = "https://app.example.com"
        #expect(try PayloadSettings(configuration: Configuration(values: values)).allowedOrigins == ["https://app.example.com", "https://cms.example.com"])

        let extractor = PayloadTokenExtractor(allowedOrigins: settings.allowedOrigins)
        let fromServer = Credentials(headers: [("Cookie", "payload-token=a.b.c"), ("Origin", "https://cms.example.com")])
        #expect(try extractor.credential(in: fromServer) == .token("a.b.c"))
        let fromElsewhere = Credentials(headers: [("Cookie", "payload-token=a.b.c"), ("Origin", "https://elsewhere.example.com")])
        #expect((#expect(throws: AuthenticationError.self) { try extractor.credential(in: fromElsewhere) })?.kind == .forbiddenTransport)

        for bad in ["https://cms.example.com/admin", "cms.example.com"] {
            var invalid = base
            invalid[.payloadServerURL] = bad
            let error = #expect(throws: ConfigurationError.self, "\(bad)") { try PayloadSettings(configuration: Configuration(values: invalid)) }
            #expect(error?.key == "SMTA_PAYLOAD_SERVER_URL", "\(bad)")
        }
    }
}
