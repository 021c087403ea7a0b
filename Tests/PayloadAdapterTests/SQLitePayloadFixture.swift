import Foundation
import GRDB
import SMTAPayload

/// A Payload SQLite file (`@payloadcms/db-sqlite`'s DDL) in a temporary folder, written through
/// its own connection as Payload would.
struct SQLitePayloadFixture: PayloadFixture {
    let path: String
    let writer: DatabaseQueue

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/payload-\(UUID().uuidString).db"
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        writer = try DatabaseQueue(path: path, configuration: configuration)
        try writer.write { database in
            let extras = [
                "users": "`enable_a_p_i_key` integer, `api_key` text, `api_key_index` text, `deleted_at` text,",
                "admins": "`_verified` integer, `_verificationtoken` text,",
                "team_leads": "",
            ]
            for (table, extra) in extras {
                try database.execute(sql: Self.usersDDL(table: table, id: "`id` integer PRIMARY KEY NOT NULL", extra: extra))
                try database.execute(sql: Self.sessionsDDL(table: table, parentID: "integer"))
            }
            try database.execute(sql: Self.usersDDL(table: "cms_apps", id: "`id` integer PRIMARY KEY NOT NULL", extra: ""))
            try database.execute(sql: Self.usersDDL(table: "team_members", id: "`id` text PRIMARY KEY NOT NULL", extra: ""))
            try database.execute(sql: Self.sessionsDDL(table: "team_members", parentID: "text(36)"))
        }
    }

    static func usersDDL(table: String, id: String, extra: String) -> String {
        """
        CREATE TABLE `\(table)` (
          \(id),
          `updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
          `created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
          `email` text NOT NULL,
          `reset_password_token` text,
          `reset_password_expiration` text,
          `salt` text,
          `hash` text,
          \(extra)
          `login_attempts` numeric DEFAULT 0,
          `lock_until` text
        );
        CREATE UNIQUE INDEX `\(table)_email_idx` ON `\(table)` (`email`);
        CREATE INDEX `\(table)_updated_at_idx` ON `\(table)` (`updated_at`);
        CREATE INDEX `\(table)_created_at_idx` ON `\(table)` (`created_at`);
        """
    }

    static func sessionsDDL(table: String, parentID: String) -> String {
        """
        CREATE TABLE `\(table)_sessions` (
          `_order` integer NOT NULL,
          `_parent_id` \(parentID) NOT NULL,
          `id` text PRIMARY KEY NOT NULL,
          `created_at` text,
          `expires_at` text NOT NULL,
          FOREIGN KEY (`_parent_id`) REFERENCES `\(table)`(`id`) ON UPDATE no action ON DELETE cascade
        );
        CREATE INDEX `\(table)_sessions_order_idx` ON `\(table)_sessions` (`_order`);
        CREATE INDEX `\(table)_sessions_parent_id_idx` ON `\(table)_sessions` (`_parent_id`);
        """
    }

    /// Payload's timestamp text: `2026-01-12T20:49:47.977Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func table(_ collection: String) -> String { tableName(collection) }

    static func value(_ id: PayloadUserID) -> DatabaseValue {
        switch id {
        case .number(let number): number.databaseValue
        case .text(let text): text.databaseValue
        }
    }

    func addUser(_ collection: String, id: PayloadUserID, email: String, verified: Bool) async throws {
        let table = Self.table(collection)
        try await writer.write { database in
            if collection == "admins" {
                try database.execute(
                    sql: "insert into `\(table)` (id, email, _verified) values (?, ?, ?)",
                    arguments: [Self.value(id), email, verified ? 1 : 0])
            } else {
                try database.execute(sql: "insert into `\(table)` (id, email) values (?, ?)", arguments: [Self.value(id), email])
            }
        }
    }

    func addSession(_ collection: String, user: PayloadUserID, sid: String, expiresAt: Date) async throws {
        let table = Self.table(collection)
        try await writer.write { database in
            let order = try Int.fetchOne(
                database, sql: "select count(*) + 1 from `\(table)_sessions` where _parent_id = ?", arguments: [Self.value(user)]) ?? 1
            try database.execute(
                sql: "insert into `\(table)_sessions` (_order, _parent_id, id, created_at, expires_at) values (?, ?, ?, ?, ?)",
                arguments: [order, Self.value(user), sid, Self.timestamp(Date()), Self.timestamp(expiresAt)])
        }
    }

    func deleteSession(_ collection: String, sid: String) async throws {
        try await writer.write { database in
            try database.execute(sql: "delete from `\(Self.table(collection))_sessions` where id = ?", arguments: [sid])
        }
    }

    func deleteUser(_ collection: String, id: PayloadUserID) async throws {
        try await writer.write { database in
            try database.execute(sql: "delete from `\(Self.table(collection))` where id = ?", arguments: [Self.value(id)])
        }
    }

    func trashUser(id: PayloadUserID) async throws {
        try await writer.write { database in
            try database.execute(sql: "update `users` set deleted_at = ? where id = ?", arguments: [Self.timestamp(Date()), Self.value(id)])
        }
    }

    func setAPIKey(user: PayloadUserID, enabled: Bool, index: String?) async throws {
        try await writer.write { database in
            try database.execute(
                sql: "update `users` set enable_a_p_i_key = ?, api_key = ?, api_key_index = ? where id = ?",
                arguments: [enabled ? 1 : 0, index.map { _ in "encrypted-by-payload" }, index, Self.value(user)])
        }
    }

    func makeStore() async throws -> any PayloadSessionStore {
        try SQLitePayloadSessionStore(path: path)
    }
}
