import Foundation
import GRDB
import NIOConcurrencyHelpers
import SMTACore

/// Payload's users and sessions in a SQLite file (`@payloadcms/db-sqlite`, local development).
///
/// Opens the file read-only with a pool of concurrent readers and a busy timeout, so lookups
/// keep working while Payload writes the same file (logins, logouts, user updates), in either
/// journal mode. `expires_at` is ISO-8601 text there (`2026-01-12T20:49:47.977Z`); SQLite's
/// own date functions read it.
///
/// Every lookup reads the file now at `path`: an open connection would go on reading a file
/// deleted or replaced under it (a restore, a fresh `payload migrate`), so a lookup finds the
/// file missing (an error: the adapter answers `unavailable`) or, when another file is there,
/// opens that one. A lookup also ends when its task is cancelled, whatever SQLite is doing: a
/// read waiting out the busy timeout behind Payload's write lock goes on unobserved, since
/// `sqlite3_interrupt` does not end that wait.
public struct SQLitePayloadSessionStore: PayloadSessionStore {
    /// The file is not at its path (deleted, or renamed away).
    public struct MissingFile: Error, CustomStringConvertible {
        /// The path looked at.
        public var path: String
        public var description: String { "no SQLite file at \(path)" }
    }

    /// Which file a path names: its device and inode.
    private struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        /// The identity of the file at `path`; nil when there is none.
        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(truncatingIfNeeded: info.st_dev)
            inode = UInt64(truncatingIfNeeded: info.st_ino)
        }
    }

    private let path: String
    private let configuration: GRDB.Configuration
    /// The pool reading the file at `path` and which file that is.
    private let opened: NIOLockedValueBox<(pool: DatabasePool, file: FileIdentity?)>

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
        configuration.busyMode = .timeout(busyTimeout.inSeconds)
        configuration.label = "smta.payload.sessions"
        let file = FileIdentity(path: path)
        self.path = path
        self.configuration = configuration
        self.opened = NIOLockedValueBox((try DatabasePool(path: path, configuration: configuration), file))
    }

    /// Runs `body` in a read transaction on the file now at `path`, giving up when the calling
    /// task is cancelled.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let pool = try currentPool()
        return try await abandoningOnCancellation { try await pool.read(body) }
    }

    /// The pool over the file now at `path`, opened anew when another file took its place.
    private func currentPool() throws -> DatabasePool {
        guard let file = FileIdentity(path: path) else {
            throw MissingFile(path: path)
        }
        return try opened.withLockedValue { opened in
            if opened.file != file {
                opened = (try DatabasePool(path: path, configuration: configuration), file)
            }
            return opened.pool
        }
    }

    public func user(_ id: PayloadUserID, session sid: String?, in collection: PayloadCollection) async throws -> PayloadUserRecord? {
        let sessions = Self.quoted(collection.sessionsTableName)
        let session =
            sid == nil
            ? (join: "", columns: "0, null")
            : (join: "left join \(sessions) as s on s.\"_parent_id\" = u.\"id\" and s.\"id\" = ?", columns: "s.\"id\" is not null, (julianday(s.\"expires_at\") - 2440587.5) * 86400.0")
        let userArgument: any DatabaseValueConvertible & Sendable =
            switch id {
            case .number(let number): number
            case .text(let text): text
            }
        let arguments: StatementArguments = sid.map { [$0, userArgument] } ?? [userArgument]
        return try await read { database in
            let sql = try Self.userSelect(collection, in: database) + " \(session.columns) from \(Self.quoted(collection.tableName)) as u \(session.join) where u.\"id\" = ? limit 1"
            return try Row.fetchOne(database, sql: sql, arguments: arguments).map(Self.record)
        }
    }

    public func user(apiKeyIndexes: [String], in collection: PayloadCollection) async throws -> PayloadUserRecord? {
        guard !apiKeyIndexes.isEmpty else { return nil }
        let placeholders = Array(repeating: "?", count: apiKeyIndexes.count).joined(separator: ", ")
        return try await read { database in
            let sql = try Self.userSelect(collection, in: database) + """
                 0, null from \(Self.quoted(collection.tableName)) as u \
                where u."api_key_index" in (\(placeholders)) and coalesce(u."enable_a_p_i_key", 0) <> 0 limit 1
                """
            return try Row.fetchOne(database, sql: sql, arguments: StatementArguments(apiKeyIndexes)).map(Self.record)
        }
    }

    /// `select` and the user's columns (id, email, verified, trashed), each followed by a comma.
    /// Whether the table has `deleted_at` (collections with `trash: true`) is read on every
    /// lookup, in the same snapshot, so that enabling the trash in Payload never lets a trashed
    /// user through.
    private static func userSelect(_ collection: PayloadCollection, in database: Database) throws -> String {
        let hasTrash = try Bool.fetchOne(
            database, sql: "select exists (select 1 from pragma_table_info(?) where name = 'deleted_at')",
            arguments: [collection.tableName]) ?? false
        let verified = collection.requiresVerification ? "coalesce(u.\"_verified\", 0) <> 0" : "1"
        let trashed = hasTrash ? "u.\"deleted_at\" is not null" : "0"
        return "select u.\"id\", u.\"email\", \(verified), \(trashed),"
    }

    private static func record(_ row: Row) -> PayloadUserRecord {
        let idValue: DatabaseValue = row[0]
        let id: PayloadUserID =
            switch idValue.storage {
            case .int64(let number): .number(number)
            case .string(let text): .text(text)
            default: .text(idValue.description)
            }
        let expiry: Double? = row[5]
        return PayloadUserRecord(
            id: id, email: row[1], isVerified: row[2], isTrashed: row[3], hasSession: row[4],
            sessionExpiresAt: expiry.map { Date(timeIntervalSince1970: $0) })
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
