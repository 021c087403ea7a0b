import Foundation
import GRDB

/// Payload's users and sessions in a SQLite file (`@payloadcms/db-sqlite`, local development).
///
/// Opens the file read-only with a pool of concurrent readers and a busy timeout, so lookups
/// keep working while Payload writes the same file (logins, logouts, user updates), in either
/// journal mode. `expires_at` is ISO-8601 text there (`2026-01-12T20:49:47.977Z`); SQLite's
/// own date functions read it.
public struct SQLitePayloadSessionStore: PayloadSessionStore {
    private let pool: DatabasePool

    /// Opens `path` read-only.
    /// - Parameters:
    ///   - path: the Payload SQLite file.
    ///   - readers: the number of concurrent reading connections.
    ///   - busyTimeout: how long a read waits while Payload holds a write lock.
    /// - Throws: GRDB's `DatabaseError` when the file cannot be opened.
    public init(path: String, readers: Int = 4, busyTimeout: Duration = .seconds(5)) throws {
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        configuration.maximumReaderCount = readers
        let timeout = busyTimeout.components
        configuration.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        configuration.label = "smta.payload.sessions"
        self.pool = try DatabasePool(path: path, configuration: configuration)
    }

    public func user(_ id: PayloadUserID, session sid: String, in collection: PayloadCollection) async throws -> PayloadUserRecord? {
        let users = Self.quoted(collection.tableName)
        let sessions = Self.quoted(collection.sessionsTableName)
        let verified = collection.requiresVerification ? "coalesce(u.\"_verified\", 0) <> 0" : "1"
        let sql = """
            select u."email", \(verified), s."id" is not null, \
            (julianday(s."expires_at") - 2440587.5) * 86400.0 \
            from \(users) as u \
            left join \(sessions) as s on s."_parent_id" = u."id" and s."id" = ? \
            where u."id" = ? limit 1
            """
        let userArgument: any DatabaseValueConvertible & Sendable =
            switch id {
            case .number(let number): number
            case .text(let text): text
            }
        let arguments: StatementArguments = [sid, userArgument]
        return try await pool.read { database in
            guard let row = try Row.fetchOne(database, sql: sql, arguments: arguments) else { return nil }
            let expiry: Double? = row[3]
            return PayloadUserRecord(
                email: row[0], isVerified: row[1], hasSession: row[2],
                sessionExpiresAt: expiry.map { Date(timeIntervalSince1970: $0) })
        }
    }

    /// Nothing runs in the background: returns when the calling task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
