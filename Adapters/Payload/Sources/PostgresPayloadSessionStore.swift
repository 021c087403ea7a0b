import Foundation
import Logging
import PostgresNIO
import SMTACore

/// Payload's users and sessions in PostgreSQL (`@payloadcms/db-postgres`, production), possibly
/// in another database or schema than SMTA's tenant data.
///
/// The store owns a `PostgresClient` pool: ``run()`` must run (in a task or a service group)
/// for as long as the store is used; lookups wait for it. Ids are bound as parameters: a
/// number as `int8`, a UUID as `uuid`, any other text as `text`.
public struct PostgresPayloadSessionStore: PayloadSessionStore {
    private let client: PostgresClient
    private let schema: String
    private let logger: Logger

    /// Creates a store for Payload's database at `url`.
    /// - Parameters:
    ///   - url: Payload's database.
    ///   - schema: the schema holding Payload's tables (`public` unless Payload's
    ///     `schemaName` says otherwise).
    ///   - logger: the pool's logger.
    /// - Throws: when `url`'s TLS configuration cannot be built.
    public init(url: DatabaseURL, schema: String = "public", logger: Logger = Logger(label: "smta.payload.sessions")) throws {
        self.client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: logger)
        self.schema = schema
        self.logger = logger
    }

    public func user(_ id: PayloadUserID, session sid: String?, in collection: PayloadCollection) async throws -> PayloadUserRecord? {
        switch id {
        case .number(let number):
            try await lookup(number, session: sid, in: collection)
        case .text(let text):
            if let uuid = UUID(uuidString: text) {
                try await lookup(uuid, session: sid, in: collection)
            } else {
                try await lookup(text, session: sid, in: collection)
            }
        }
    }

    public func user(apiKeyIndexes: [String], in collection: PayloadCollection) async throws -> PayloadUserRecord? {
        guard !apiKeyIndexes.isEmpty else { return nil }
        let query: PostgresQuery = """
            select \(unescaped: userColumns(collection)), false, null::timestamptz
            from \(unescaped: table(collection.tableName)) as u
            where u."api_key_index" = any(\(apiKeyIndexes)) and coalesce(u."enable_a_p_i_key", false)
            limit 1
            """
        return try await first(query)
    }

    private func lookup<ID: PostgresNonThrowingEncodable & Sendable>(
        _ id: ID, session sid: String?, in collection: PayloadCollection
    ) async throws -> PayloadUserRecord? {
        let users = table(collection.tableName)
        guard let sid else {
            return try await first(
                """
                select \(unescaped: userColumns(collection)), false, null::timestamptz
                from \(unescaped: users) as u where u."id" = \(id) limit 1
                """)
        }
        return try await first(
            """
            select \(unescaped: userColumns(collection)), s."id" is not null, s."expires_at"
            from \(unescaped: users) as u
            left join \(unescaped: table(collection.sessionsTableName)) as s on s."_parent_id" = u."id" and s."id" = \(sid)
            where u."id" = \(id)
            limit 1
            """)
    }

    /// The user's id (as text, and whether it is numeric), email, verified and trashed flags.
    /// `deleted_at` is read through `to_jsonb` so that the query works whether or not the
    /// collection has the trash enabled, and a trashed user is refused as soon as it has.
    private func userColumns(_ collection: PayloadCollection) -> String {
        let verified = collection.requiresVerification ? "coalesce(u.\"_verified\", false)" : "true"
        return """
            u."id"::text, pg_typeof(u."id") in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype), \
            u."email"::text, \(verified), (to_jsonb(u) ->> 'deleted_at') is not null
            """
    }

    private func first(_ query: PostgresQuery) async throws -> PayloadUserRecord? {
        let rows = try await client.query(query, logger: logger)
        for try await (id, isNumber, email, isVerified, isTrashed, hasSession, expiresAt) in rows.decode(
            (String, Bool, String?, Bool, Bool, Bool, Date?).self)
        {
            let userID: PayloadUserID = isNumber ? Int64(id).map(PayloadUserID.number) ?? .text(id) : .text(id)
            return PayloadUserRecord(
                id: userID, email: email, isVerified: isVerified, isTrashed: isTrashed, hasSession: hasSession, sessionExpiresAt: expiresAt)
        }
        return nil
    }

    private func table(_ name: String) -> String { Self.quoted(schema) + "." + Self.quoted(name) }

    /// Runs the connection pool until the calling task is cancelled. A pool cannot be
    /// restarted: create a new store after cancelling.
    public func run() async {
        await client.run()
    }

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
