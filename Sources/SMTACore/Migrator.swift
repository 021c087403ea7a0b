import Foundation
import Logging
import PostgresNIO
import SMTASchema

/// Applies SMTA's migrations to a PostgreSQL database.
///
/// Each pending migration runs in its own transaction and is recorded, with the SHA-256 of its
/// text, in `smta.schema_migrations`. Each of those transactions first takes a
/// transaction-level advisory lock and then reads what is applied, so two runs against one
/// database never apply a migration twice: the second waits for the first's migration to
/// commit, then finds it applied. The lock ends with its transaction, so it cannot outlive the
/// run on a pooled server connection (PgBouncer in transaction mode keeps the server's session
/// after the client leaves: a session-level lock would stay held there, and the next run would
/// wait for it forever). Before applying anything the migrator checks what is already there: an
/// applied migration whose text changed, one this build does not know, or one of another
/// adapter stops the run with nothing applied.
public struct Migrator: Sendable {
    /// The migrations to apply, in order: the core's, then one adapter's.
    public let migrations: [Migration]
    private let logger: Logger

    /// The advisory-lock key every SMTA migrator takes (`"SMTAmigr"` in ASCII).
    static let lockKey: Int64 = 0x534D_5441_6D69_6772

    /// Creates a migrator for `migrations`, which must be in application order.
    public init(migrations: [Migration], logger: Logger = Logger(label: "smta.migrate")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Reports which migrations are applied and which are pending, changing nothing.
    public func status(of url: DatabaseURL) async throws(MigrationError) -> MigrationStatus {
        try await withConnection(to: url) { connection in
            let applied = try await appliedMigrations(on: connection)
            return MigrationStatus(known: migrations, applied: applied)
        }
    }

    /// Applies every pending migration and returns those it applied (empty when up to date);
    /// when it applied any, announces it with `NOTIFY smta, 'reload schema'`, which every bridge
    /// on the database listens for.
    ///
    /// - Parameters:
    ///   - url: the database to migrate.
    ///   - progress: called before and after each migration, for progress output.
    /// - Throws: ``MigrationError``; a failed migration is rolled back whole, and the migrations
    ///   applied before it stay applied.
    @discardableResult
    public func migrate(
        _ url: DatabaseURL, progress: @Sendable (MigrationProgress) -> Void = { _ in }
    ) async throws(MigrationError) -> [Migration] {
        try await withConnection(to: url) { connection in
            try await checkPrivileges(on: connection)
            var applied: [Migration] = []
            // One migration per transaction, each under the lock and decided inside it: what
            // another run applied meanwhile is seen, and its migrations are not applied again.
            while let migration = try await applyNext(on: connection, progress: progress) {
                applied.append(migration)
            }
            if !applied.isEmpty {
                // Every bridge on the database reloads its function catalog now, not at its next
                // periodic refresh: several bridges never disagree on what the schema holds.
                try await run(on: connection, "select pg_catalog.pg_notify('smta', 'reload schema')")
            }
            return applied
        }
    }

    // MARK: Steps

    private func withConnection<Result: Sendable>(
        to url: DatabaseURL, _ body: (PostgresConnection) async throws -> Result
    ) async throws(MigrationError) -> Result {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 1, logger: logger)
        } catch {
            throw .unreachable(location: url.location, reason: DatabaseError(connecting: error, to: url))
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch let error as MigrationError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw .database(step: "reading the migration state", DatabaseError(error))
        }
    }

    /// SMTA's SECURITY DEFINER functions run with the migrating role's rights, and every SMTA
    /// table forces row-level security: that role must be allowed to bypass it.
    private func checkPrivileges(on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            "select current_user::text, rolsuper or rolbypassrls from pg_catalog.pg_roles where rolname = current_user",
            logger: logger)
        for try await (role, canBypass) in rows.decode((String, Bool).self) where !canBypass {
            throw MigrationError.insufficientPrivileges(role: role)
        }
    }

    private func prepareBookkeeping(on connection: PostgresConnection) async throws {
        try await run(on: connection, "create schema if not exists smta")
        try await run(on: connection, "revoke all on schema smta from public")
        try await run(
            on: connection,
            """
            create table if not exists smta.schema_migrations (
                id text primary key,
                checksum text not null,
                applied_at timestamptz not null default pg_catalog.now(),
                applied_by text not null default current_user
            )
            """)
    }

    private func appliedMigrations(on connection: PostgresConnection) async throws -> [AppliedMigration] {
        let exists = try await connection.query(
            "select pg_catalog.to_regclass('smta.schema_migrations') is not null", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return [] }
        let rows = try await connection.query(
            "select id, checksum, applied_at from smta.schema_migrations order by applied_at, id",
            logger: logger)
        var applied: [AppliedMigration] = []
        for try await (id, checksum, appliedAt) in rows.decode((String, String, Date).self) {
            applied.append(AppliedMigration(id: id, checksum: checksum, appliedAt: appliedAt))
        }
        return applied
    }

    /// The extended protocol PostgresNIO speaks takes one statement per query; a migration is a
    /// script. A temporary PL/pgSQL function runs the whole script, passed as one bound
    /// parameter, in a single round trip inside the migration's transaction.
    private func installScriptRunner(on connection: PostgresConnection) async throws {
        try await run(
            on: connection,
            """
            create or replace function pg_temp.smta_run_script(script text) returns void
            language plpgsql as $$ begin execute script; end $$
            """)
    }

    /// In one transaction holding the migration lock: creates the bookkeeping table when
    /// missing, reads what is applied, validates it, and applies and records the first pending
    /// migration. Returns that migration once committed, or nil (and commits nothing but the
    /// bookkeeping) when none is pending.
    private func applyNext(
        on connection: PostgresConnection, progress: @Sendable (MigrationProgress) -> Void
    ) async throws(MigrationError) -> Migration? {
        var step = "creating smta.schema_migrations"
        var current: Migration?
        let done: (Migration, Duration)?
        do {
            done = try await connection.withTransaction(logger: logger) { connection -> (Migration, Duration)? in
                try await run(on: connection, "select pg_catalog.pg_advisory_xact_lock(\(Self.lockKey))")
                try await prepareBookkeeping(on: connection)
                step = "reading the migration state"
                let status = MigrationStatus(known: migrations, applied: try await appliedMigrations(on: connection))
                try status.validate()
                guard let migration = status.pending.first else { return nil }
                current = migration
                progress(.applying(migration))
                let started = ContinuousClock.now
                // A temporary function lives in the server session, which a transaction pooler
                // may change between transactions: created in the transaction that uses it.
                try await installScriptRunner(on: connection)
                // Errors raised while the script runs arrive with its (empty) result: drain it.
                _ = try await connection.query(
                    "select pg_temp.smta_run_script(\(migration.sql))", logger: logger
                ).collect()
                try await connection.query(
                    "insert into smta.schema_migrations (id, checksum) values (\(migration.id), \(migration.checksum))",
                    logger: logger)
                return (migration, ContinuousClock.now - started)
            }
        } catch let error as MigrationError {
            throw error
        } catch let error as PostgresTransactionError {
            if let failure = error.closureError as? MigrationError {
                throw failure
            }
            throw Self.failure(of: current, step: step, DatabaseError(error))
        } catch {
            throw Self.failure(of: current, step: step, DatabaseError(error))
        }
        guard let (migration, duration) = done else { return nil }
        progress(.applied(migration, duration))
        return migration
    }

    /// The error of a failed step: the migration's, with the line it failed at, once one runs.
    private static func failure(of migration: Migration?, step: String, _ error: DatabaseError) -> MigrationError {
        guard let migration else { return .database(step: step, error) }
        return .migrationFailed(id: migration.id, line: error.line(in: migration.sql), error)
    }

    /// Runs one statement and drains its result, so that errors raised while it runs surface here.
    private func run(on connection: PostgresConnection, _ sql: String) async throws {
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
    }
}

extension DatabaseError {
    /// The 1-based line of `script` the server pointed at, when it gave a position in it.
    func line(in script: String) -> Int? {
        guard let (query, offset) = internalPosition, query == script, offset > 0 else { return nil }
        return script.prefix(offset - 1).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }
}

/// A step of ``Migrator/migrate(_:progress:)``, for progress output.
public enum MigrationProgress: Sendable {
    /// The migration is about to run.
    case applying(Migration)
    /// The migration ran and was recorded, taking the given time.
    case applied(Migration, Duration)
}

/// A migration recorded in `smta.schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    /// `source/name`, e.g. `core/0002_tables`.
    public var id: String
    /// The SHA-256 of the text that was applied.
    public var checksum: String
    /// When it was applied.
    public var appliedAt: Date

    /// The source part of the id (`core`, `supabase`, `payload`).
    public var source: String { String(id.prefix { $0 != "/" }) }
}

/// What a database holds compared with the migrations this build knows.
public struct MigrationStatus: Sendable {
    /// The migrations this build knows, in order, each with its record when applied.
    public var entries: [(migration: Migration, applied: AppliedMigration?)]
    /// Applied migrations this build does not know.
    public var unknown: [AppliedMigration]

    init(known: [Migration], applied: [AppliedMigration]) {
        let byID = Dictionary(applied.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        entries = known.map { ($0, byID[$0.id]) }
        let knownIDs = Set(known.map(\.id))
        unknown = applied.filter { !knownIDs.contains($0.id) }
    }

    /// The migrations not applied yet, in order.
    public var pending: [Migration] { entries.filter { $0.applied == nil }.map(\.migration) }

    /// Applied migrations whose text changed since.
    public var changed: [Migration] {
        entries.filter { entry in entry.applied.map { $0.checksum != entry.migration.checksum } ?? false }
            .map(\.migration)
    }

    /// Throws when the database cannot be migrated by this build.
    func validate() throws(MigrationError) {
        if let changed = changed.first {
            throw .checksumMismatch(id: changed.id)
        }
        let knownSources = Set(entries.map(\.migration.source))
        if let foreign = unknown.first(where: { !knownSources.contains($0.source) }) {
            throw .otherAdapter(applied: foreign.source, requested: entries.last?.migration.source ?? "core")
        }
        if let newer = unknown.first {
            throw .unknownMigration(id: newer.id)
        }
    }
}

/// Why a migration run stopped. Each case describes itself in one line.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// The database could not be reached; the reason's message is one line saying where, why
    /// and what to check (``ConnectionFailure``).
    case unreachable(location: String, reason: DatabaseError)
    /// The migrating role can neither bypass row-level security nor is a superuser.
    case insufficientPrivileges(role: String)
    /// A database error outside any migration.
    case database(step: String, DatabaseError)
    /// An applied migration's text differs from this build's.
    case checksumMismatch(id: String)
    /// The database holds a migration this build does not know (a newer SMTA applied it).
    case unknownMigration(id: String)
    /// The database was migrated for another adapter.
    case otherAdapter(applied: String, requested: String)
    /// A migration failed and was rolled back.
    case migrationFailed(id: String, line: Int?, DatabaseError)

    public var description: String {
        switch self {
        case .unreachable(_, let reason):
            return reason.message
        case .insufficientPrivileges(let role):
            return "role \(role) may not migrate: SMTA's functions run with the migrating role's rights and its tables force row-level security, so that role must be a superuser or have BYPASSRLS"
        case .database(let step, let error):
            return "\(step) failed: \(error)"
        case .checksumMismatch(let id):
            return "migration \(id) was applied with different SQL; applied migrations must never change (write a new migration instead)"
        case .unknownMigration(let id):
            return "the database has migration \(id), which this smta does not know: it was migrated by a newer version"
        case .otherAdapter(let applied, let requested):
            return "the database was migrated for the \(applied) adapter; this run is for \(requested)"
        case .migrationFailed(let id, let line, let error):
            let place = line.map { " at line \($0)" } ?? ""
            return "migration \(id) failed\(place) and was rolled back: \(error)"
        }
    }
}
