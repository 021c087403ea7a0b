import Foundation
import SMTACore
import Testing
import SMTAPayload

/// A Payload database built by the test with Payload's exact DDL, holding five auth
/// collections: `users` (numeric ids, `useAPIKey` and `trash` on: columns `enable_a_p_i_key`,
/// `api_key`, `api_key_index`, `deleted_at`), `admins` (numeric ids, `auth.verify` on),
/// `team-members` (UUID ids, tables `team_members`, `team_members_sessions`), `teamLeads`
/// (numeric ids, tables `team_leads`, `team_leads_sessions`, as Payload names them) and `apps`
/// (numeric ids, `useSessions: false` and `dbName: 'cms_apps'`: one table, no sessions table).
protocol PayloadFixture: Sendable {
    /// Adds a user; `verified` fills `_verified` for `admins`.
    func addUser(_ collection: String, id: PayloadUserID, email: String, verified: Bool) async throws
    /// Adds a session row for a user.
    func addSession(_ collection: String, user: PayloadUserID, sid: String, expiresAt: Date) async throws
    /// Deletes a session row (Payload's logout).
    func deleteSession(_ collection: String, sid: String) async throws
    /// Deletes a user (its sessions go with it: on delete cascade).
    func deleteUser(_ collection: String, id: PayloadUserID) async throws
    /// Moves a `users` user to the trash (`deleted_at` = now), as Payload's soft delete does.
    func trashUser(id: PayloadUserID) async throws
    /// Sets a `users` user's `enable_a_p_i_key` and `api_key_index`, as Payload's hooks write them.
    func setAPIKey(user: PayloadUserID, enabled: Bool, index: String?) async throws
    /// A session store reading this database.
    func makeStore() async throws -> any PayloadSessionStore
}

/// The table Payload keeps `collection` in, written out by hand for the fixture's collections
/// (not derived by the adapter's code it checks).
func tableName(_ collection: String) -> String {
    ["users": "users", "admins": "admins", "team-members": "team_members", "teamLeads": "team_leads", "apps": "cms_apps"][collection]
        ?? collection
}

extension PayloadFixture {
    /// Adds a user with an unexpired session and returns a token for it.
    func signedInUser(
        _ collection: String = "users", id: PayloadUserID, email: String, verified: Bool = true
    ) async throws -> (sid: String, token: String) {
        try await addUser(collection, id: id, email: email, verified: verified)
        let sid = UUID().uuidString.lowercased()
        try await addSession(collection, user: id, sid: sid, expiresAt: Date().addingTimeInterval(7200))
        let jsonID: Any =
            switch id {
            case .number(let number): number
            case .text(let text): text
            }
        return (sid, PayloadTokenMinter.token(PayloadTokenMinter.claims(id: jsonID, collection: collection, email: email, sid: sid)))
    }

    /// Runs `body` with an adapter over this fixture's database, its store running meanwhile.
    func withAdapter<Result: Sendable>(
        allowedOrigins: [String] = [], previousSecrets: [String] = [], _ body: @Sendable (PayloadAdapter) async throws -> Result
    ) async throws -> Result {
        let settings = PayloadSettings(
            secret: PayloadTokenMinter.secret, previousSecrets: previousSecrets, database: .sqlite(path: "unused"),
            collections: [
                try PayloadCollection(slug: "users", usesAPIKeys: true),
                try PayloadCollection(slug: "admins", requiresVerification: true),
                try PayloadCollection(slug: "team-members"),
                try PayloadCollection(slug: "teamLeads"),
                try PayloadCollection(slug: "apps", usesSessions: false, dbName: "cms_apps"),
            ],
            allowedOrigins: allowedOrigins)
        let adapter = PayloadAdapter(settings: settings, store: try await makeStore())
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await adapter.run() }
            defer { group.cancelAll() }
            return try await body(adapter)
        }
    }
}

/// The two session stores every behaviour test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh fixture database of this kind.
    func makeFixture() async throws -> any PayloadFixture {
        switch self {
        case .sqlite: try SQLitePayloadFixture()
        case .postgres: try await PostgresPayloadFixture()
        }
    }
}
