import SMTACore
import SMTAPayload
import Testing

@Suite("Payload settings are read from the configuration with clear errors")
struct PayloadSettingsTests {
    @Test("secret, SQLite path and collections with :verified are read")
    func sqlite() throws {
        let settings = try PayloadSettings(configuration: Configuration(values: [
            .payloadSecret: "s3cret", .payloadDatabase: "file:./payload.db", .payloadCollections: "users, team-members:verified",
        ]))
        #expect(settings.database == .sqlite(path: "./payload.db"))
        #expect(settings.collections == [try PayloadCollection(slug: "users"), try PayloadCollection(slug: "team-members", requiresVerification: true)])
        #expect(settings.collections[1].sessionsTableName == "team_members_sessions")
    }

    @Test("a postgres URL with schema= selects the schema; collections default to users")
    func postgres() throws {
        let settings = try PayloadSettings(configuration: Configuration(values: [
            .payloadSecret: "s3cret", .payloadDatabase: "postgres://payload:pw@db:5432/cms?schema=payload&sslmode=disable",
        ]))
        guard case .postgres(let url, let schema) = settings.database else {
            Issue.record("expected a postgres database")
            return
        }
        #expect(url.database == "cms")
        #expect(schema == "payload")
        #expect(settings.collections.map(\.slug) == ["users"])
        #expect(!settings.database.description.contains("pw"))
    }

    @Test("missing secret, bad slug, unknown option and duplicate slug name their key")
    func errors() {
        let cases: [([Configuration.Key: String], String)] = [
            ([.payloadDatabase: "p.db"], "SMTA_PAYLOAD_SECRET"),
            ([.payloadSecret: "s"], "SMTA_PAYLOAD_DATABASE"),
            ([.payloadSecret: "s", .payloadDatabase: "p.db", .payloadCollections: "1users"], "SMTA_PAYLOAD_COLLECTIONS"),
            ([.payloadSecret: "s", .payloadDatabase: "p.db", .payloadCollections: "users\"; drop"], "SMTA_PAYLOAD_COLLECTIONS"),
            ([.payloadSecret: "s", .payloadDatabase: "p.db", .payloadCollections: "users:admin"], "SMTA_PAYLOAD_COLLECTIONS"),
            ([.payloadSecret: "s", .payloadDatabase: "p.db", .payloadCollections: "users,users"], "SMTA_PAYLOAD_COLLECTIONS"),
            ([.payloadSecret: "s", .payloadDatabase: "mysql://x/y"], "SMTA_PAYLOAD_DATABASE"),
        ]
        for (values, key) in cases {
            let error = #expect(throws: ConfigurationError.self) { try PayloadSettings(configuration: Configuration(values: values)) }
            #expect(error?.key == key)
        }
    }

    @Test("tables are named as Payload's drizzle adapters name them: toSnakeCase of the slug")
    func tableNames() throws {
        // Expected names as Payload's `toSnakeCase` (the `to-snake-case` package) gives them;
        // `enableAPIKey` → `enable_a_p_i_key` is the column name in Payload's own auth schema.
        let expected = [
            "users": "users", "team-members": "team_members", "team_members": "team_members",
            "teamMembers": "team_members", "TeamMembers": "team_members", "enableAPIKey": "enable_a_p_i_key",
            "APIUsers": "a_p_i_users", "user2Accounts": "user2_accounts", "users2": "users2",
            "myTeam-x": "myteam_x", "team--members_": "team_members",
        ]
        for (slug, table) in expected {
            let collection = try PayloadCollection(slug: slug)
            #expect(collection.tableName == table, "slug \(slug)")
            #expect(collection.sessionsTableName == table + "_sessions", "slug \(slug)")
        }
    }

    @Test("a SQLite file that does not exist stops start-up naming SMTA_PAYLOAD_DATABASE")
    func missingFile() {
        let error = #expect(throws: ConfigurationError.self) {
            try PayloadAdapter(configuration: Configuration(values: [.payloadSecret: "s", .payloadDatabase: "/nonexistent/payload.db"]))
        }
        #expect(error?.key == "SMTA_PAYLOAD_DATABASE")
    }
}
