import Foundation
import GRDB

/// The development Payload database: a SQLite file with the tables `@payloadcms/db-sqlite`
/// creates for the `users` auth collection (`users`, `users_sessions`), written as Payload
/// writes them, so the Payload adapter reads it exactly as it reads a real app's.
struct DevPayloadDatabase {
    private let queue: DatabaseQueue

    /// Opens `path`, creating the file and Payload's tables when absent.
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { database in
            guard try !database.tableExists("users") else { return }
            try database.execute(sql: Self.ddl)
        }
    }

    /// The id of the user with `email`, created when missing.
    func userID(email: String) throws -> Int {
        try queue.write { database in
            if let id = try Int.fetchOne(database, sql: "select id from users where email = ?", arguments: [email]) {
                return id
            }
            try database.execute(sql: "insert into users (email) values (?)", arguments: [email])
            return Int(database.lastInsertedRowID)
        }
    }

    /// Opens a session for `userID` valid for `lifetime` seconds, as Payload's login does, and
    /// returns its id (the token's `sid`).
    func openSession(userID: Int, lifetime: TimeInterval) throws -> String {
        let sid = UUID().uuidString.lowercased()
        try queue.write { database in
            let order = try Int.fetchOne(
                database, sql: "select count(*) + 1 from users_sessions where _parent_id = ?", arguments: [userID]) ?? 1
            try database.execute(
                sql: "insert into users_sessions (_order, _parent_id, id, created_at, expires_at) values (?, ?, ?, ?, ?)",
                arguments: [order, userID, sid, Self.timestamp(Date()), Self.timestamp(Date().addingTimeInterval(lifetime))])
        }
        return sid
    }

    /// Payload's timestamp text: `2026-01-12T20:49:47.977Z`.
    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// `@payloadcms/db-sqlite`'s DDL for the `users` collection with sessions.
    private static let ddl = """
        CREATE TABLE `users` (
          `id` integer PRIMARY KEY NOT NULL,
          `updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
          `created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
          `email` text NOT NULL,
          `reset_password_token` text,
          `reset_password_expiration` text,
          `salt` text,
          `hash` text,
          `login_attempts` numeric DEFAULT 0,
          `lock_until` text
        );
        CREATE UNIQUE INDEX `users_email_idx` ON `users` (`email`);
        CREATE INDEX `users_updated_at_idx` ON `users` (`updated_at`);
        CREATE INDEX `users_created_at_idx` ON `users` (`created_at`);
        CREATE TABLE `users_sessions` (
          `_order` integer NOT NULL,
          `_parent_id` integer NOT NULL,
          `id` text PRIMARY KEY NOT NULL,
          `created_at` text,
          `expires_at` text NOT NULL,
          FOREIGN KEY (`_parent_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
        );
        CREATE INDEX `users_sessions_order_idx` ON `users_sessions` (`_order`);
        CREATE INDEX `users_sessions_parent_id_idx` ON `users_sessions` (`_parent_id`);
        """
}
