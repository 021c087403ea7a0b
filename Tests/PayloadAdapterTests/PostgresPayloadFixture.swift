import Foundation
import PostgresNIO
import SMTACore
import SMTAPayload
import SMTATestSupport

/// A Payload PostgreSQL schema (`@payloadcms/db-postgres`'s DDL) in schema `payload` of a fresh
/// database, so that the store's schema setting is exercised.
struct PostgresPayloadFixture: PayloadFixture {
    let url: DatabaseURL

    init() async throws {
        url = try await TestCluster.shared.emptyDatabase()
        var statements = [#"CREATE SCHEMA "payload""#]
        let extras = [
            "users": #""enable_a_p_i_key" boolean, "api_key" varchar, "api_key_index" varchar, "deleted_at" timestamp(3) with time zone,"#,
            "admins": #""_verified" boolean, "_verificationtoken" varchar,"#,
            "team_leads": "",
        ]
        for (table, extra) in extras {
            statements += Self.ddl(table: table, id: #""id" serial PRIMARY KEY NOT NULL"#, parentID: "integer", extra: extra)
        }
        // useSessions: false — no sessions table.
        statements += Self.ddl(table: "cms_apps", id: #""id" serial PRIMARY KEY NOT NULL"#, parentID: "integer", extra: "").prefix(1)
        statements += Self.ddl(table: "team_members", id: #""id" uuid PRIMARY KEY NOT NULL"#, parentID: "uuid", extra: "")
        for statement in statements {
            try await TestSQL.execute(statement, on: url)
        }
    }

    static func ddl(table: String, id: String, parentID: String, extra: String) -> [String] {
        [
            """
            CREATE TABLE "payload"."\(table)" (
              \(id),
              "updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
              "created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
              "email" varchar NOT NULL,
              "reset_password_token" varchar,
              "reset_password_expiration" timestamp(3) with time zone,
              "salt" varchar,
              "hash" varchar,
              \(extra)
              "login_attempts" numeric DEFAULT 0,
              "lock_until" timestamp(3) with time zone
            )
            """,
            """
            CREATE TABLE "payload"."\(table)_sessions" (
              "_order" integer NOT NULL,
              "_parent_id" \(parentID) NOT NULL,
              "id" varchar PRIMARY KEY NOT NULL,
              "created_at" timestamp(3) with time zone,
              "expires_at" timestamp(3) with time zone NOT NULL
            )
            """,
            #"ALTER TABLE "payload"."\#(table)_sessions" ADD CONSTRAINT "\#(table)_sessions_parent_id_fk" FOREIGN KEY ("_parent_id") REFERENCES "payload"."\#(table)"("id") ON DELETE cascade ON UPDATE no action"#,
            #"CREATE INDEX "\#(table)_sessions_order_idx" ON "payload"."\#(table)_sessions" USING btree ("_order")"#,
            #"CREATE INDEX "\#(table)_sessions_parent_id_idx" ON "payload"."\#(table)_sessions" USING btree ("_parent_id")"#,
            #"CREATE UNIQUE INDEX "\#(table)_email_idx" ON "payload"."\#(table)" USING btree ("email")"#,
        ]
    }

    static func table(_ collection: String) -> String { #""payload"."\#(tableName(collection))""# }

    /// Runs `query` on a fresh connection.
    func run(_ query: PostgresQuery) async throws {
        try await TestSQL.withConnection(to: url) { connection in
            _ = try await connection.query(query, logger: TestSQL.logger)
        }
    }

    func addUser(_ collection: String, id: PayloadUserID, email: String, verified: Bool) async throws {
        let table = Self.table(collection)
        let verifiedColumn = collection == "admins" ? #", "_verified""# : ""
        let verifiedValue = collection == "admins" ? (verified ? ", true" : ", false") : ""
        switch id {
        case .number(let number):
            try await run("insert into \(unescaped: table) (id, email\(unescaped: verifiedColumn)) values (\(Int32(number)), \(email)\(unescaped: verifiedValue))")
        case .text(let text):
            try await run("insert into \(unescaped: table) (id, email\(unescaped: verifiedColumn)) values (\(UUID(uuidString: text)!), \(email)\(unescaped: verifiedValue))")
        }
    }

    func addSession(_ collection: String, user: PayloadUserID, sid: String, expiresAt: Date) async throws {
        let table = Self.table(collection).dropLast() + #"_sessions""#
        switch user {
        case .number(let number):
            try await run("insert into \(unescaped: String(table)) (_order, _parent_id, id, created_at, expires_at) values (1, \(Int32(number)), \(sid), now(), \(expiresAt))")
        case .text(let text):
            try await run("insert into \(unescaped: String(table)) (_order, _parent_id, id, created_at, expires_at) values (1, \(UUID(uuidString: text)!), \(sid), now(), \(expiresAt))")
        }
    }

    func deleteSession(_ collection: String, sid: String) async throws {
        let table = Self.table(collection).dropLast() + #"_sessions""#
        try await run("delete from \(unescaped: String(table)) where id = \(sid)")
    }

    func deleteUser(_ collection: String, id: PayloadUserID) async throws {
        let table = Self.table(collection)
        switch id {
        case .number(let number): try await run("delete from \(unescaped: table) where id = \(Int32(number))")
        case .text(let text): try await run("delete from \(unescaped: table) where id = \(UUID(uuidString: text)!)")
        }
    }

    func trashUser(id: PayloadUserID) async throws {
        guard case .number(let number) = id else { throw UnsupportedID() }
        try await run(#"update "payload"."users" set deleted_at = now() where id = \#(Int32(number))"#)
    }

    func setAPIKey(user: PayloadUserID, enabled: Bool, index: String?) async throws {
        guard case .number(let number) = user else { throw UnsupportedID() }
        let apiKey = index.map { _ in "encrypted-by-payload" }
        try await run(
            #"update "payload"."users" set enable_a_p_i_key = \#(enabled), api_key = \#(apiKey), api_key_index = \#(index) where id = \#(Int32(number))"#)
    }

    /// `users` has numeric ids only.
    struct UnsupportedID: Error {}

    func makeStore() async throws -> any PayloadSessionStore {
        try PostgresPayloadSessionStore(url: url, schema: "payload")
    }
}
