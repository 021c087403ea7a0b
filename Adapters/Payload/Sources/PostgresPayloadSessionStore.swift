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

    public func user(_ id: PayloadUserID, session sid: String, in collection: PayloadCollection) async throws -> PayloadUserRecord? {
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

    private func lookup<ID: PostgresNonThrowingEncodable & Sendable>(
        _ id: ID, session sid: String, in collection: PayloadCollection
    ) async throws -> PayloadUserRecord? {
        let users = Self.quoted(schema) + "." + Self.quoted(collection.tableName)
        let sessions = Self.quoted(schema) + "." + Self.quoted(collection.sessionsTableName)
        let verified = collection.requiresVerification ? "coalesce(u.\"_verified\", false)" : "true"
        let query: PostgresQuery = """
            select u."email"::text, \(unescaped: verified), s."id" is not null, s."expires_at"
            from \(unescaped: users) as u
            left join \(unescaped: sessions) as s on s."_parent_id" = u."id" and s."id" = \(sid)
            where u."id" = \(id)
            limit 1
            """
        let rows = try await client.query(query, logger: logger)
        for try await (email, isVerified, hasSession, expiresAt) in rows.decode((String?, Bool, Bool, Date?).self) {
            return PayloadUserRecord(email: email, isVerified: isVerified, hasSession: hasSession, sessionExpiresAt: expiresAt)
        }
        return nil
    }

    /// Runs the connection pool until the calling task is cancelled. A pool cannot be
    /// restarted: create a new store after cancelling.
    public func run() async {
        await client.run()
    }

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
