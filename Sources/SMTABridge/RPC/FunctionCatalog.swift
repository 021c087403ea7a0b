import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore

/// The `public` functions of the database, as the bridge calls them: names, input arguments,
/// result shapes and columns, who may execute them and their comments, read from `pg_catalog`.
///
/// Loaded on first use and reloaded when a request names a function it does not know (at most
/// once per ``minimumReloadInterval``) and every ``refreshInterval``, so functions added by a
/// migration become callable without restarting the bridge. A known name is served from the
/// loaded snapshot under a lock, without an actor hop; reloads are serialised by the actor.
actor FunctionCatalog {
    /// The shortest time between two reloads caused by unknown names.
    let minimumReloadInterval: Duration
    /// How often the catalog is reloaded in the background.
    let refreshInterval: Duration

    private let pool: RenewablePool
    private let logger: Logger
    private nonisolated let snapshot = NIOLockedValueBox<[String: [RPCFunction]]?>(nil)
    private var loadedAt: ContinuousClock.Instant?

    /// Creates an empty catalog over `pool`.
    init(
        pool: RenewablePool, refreshInterval: Duration = .seconds(10),
        minimumReloadInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.pool = pool
        self.refreshInterval = refreshInterval
        self.minimumReloadInterval = minimumReloadInterval
        self.logger = logger
    }

    /// The overloads of `name` (empty when there is none), loading or reloading as needed.
    /// - Throws: ``DatabaseError`` when the catalog cannot be read.
    nonisolated func overloads(of name: String) async throws -> [RPCFunction] {
        if let found = snapshot.withLockedValue({ $0?[name] }), !found.isEmpty {
            return found
        }
        return try await reloadingOverloads(of: name)
    }

    /// Whether the loaded snapshot has a function named `name`; never loads or reloads (for
    /// labels and logs, where an unknown name must cost nothing).
    nonisolated func knows(_ name: String) -> Bool {
        snapshot.withLockedValue { $0?[name] != nil }
    }

    /// Whether the catalog has been read at least once.
    nonisolated var isLoaded: Bool {
        snapshot.withLockedValue { $0 != nil }
    }

    /// The names of the loaded functions `role` may execute (none before the first load): the
    /// candidates for PGRST202's "Perhaps you meant …".
    nonisolated func names(executableBy role: Identity.Role) -> [String] {
        snapshot.withLockedValue { loaded in
            (loaded ?? [:]).compactMap { name, overloads in
                overloads.contains { $0.executableBy.contains(role) } ? name : nil
            }
        }
    }

    /// The overloads of `name` after loading the catalog, or reloading it when `name` is missing
    /// and the last load is older than ``minimumReloadInterval``.
    private func reloadingOverloads(of name: String) async throws -> [RPCFunction] {
        if snapshot.withLockedValue({ $0 == nil }) {
            try await reload()
        } else if snapshot.withLockedValue({ $0?[name] }) == nil,
            let loadedAt, loadedAt.duration(to: .now) >= minimumReloadInterval
        {
            try await reload()
        }
        return snapshot.withLockedValue { $0?[name] } ?? []
    }

    /// Reloads every `refreshInterval` until the calling task is cancelled, each reload bounded
    /// by the same interval; failures are logged and the previous catalog stays in use.
    func refreshPeriodically() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: refreshInterval)
            } catch {
                return
            }
            // Bounded, so that a stalled connection cannot hold a pooled connection for good.
            let failure: DatabaseError? = await Deadline.run(within: refreshInterval) {
                do {
                    try await self.reload()
                    return nil
                } catch {
                    return DatabaseError(error)
                }
            }
            if let failure {
                logger.debug("catalog refresh failed: \(failure)")
            }
        }
    }

    /// Reads the catalog now.
    /// - Throws: ``DatabaseError`` when it cannot be read.
    func reload() async throws {
        let loaded: [String: [RPCFunction]]
        do {
            loaded = try await pool.withConnection { connection in
                try await Self.load(on: connection, logger: logger)
            }
        } catch {
            throw DatabaseError(error)
        }
        snapshot.withLockedValue { $0 = loaded }
        loadedAt = .now
        logger.debug("catalog loaded", metadata: ["functions": "\(loaded.values.map(\.count).reduce(0, +))"])
    }

    /// Every function of `public`, by name, read on `connection`.
    /// - Throws: the connection's error when the catalog cannot be read.
    static func load(on connection: PostgresConnection, logger: Logger) async throws -> [String: [RPCFunction]] {
        let rows = try await connection.guardedQuery(query, logger: logger)
        var loaded: [String: [RPCFunction]] = [:]
        for row in rows {
            let function = try function(from: row)
            loaded[function.name, default: []].append(function)
        }
        return loaded
    }

    /// The functions `role` may execute, by name (one entry per overload), from the loaded
    /// snapshot, loading it first if needed.
    /// - Throws: ``DatabaseError`` when the catalog cannot be read.
    func functions(executableBy role: Identity.Role) async throws -> [RPCFunction] {
        if snapshot.withLockedValue({ $0 == nil }) {
            try await reload()
        }
        let all = snapshot.withLockedValue { $0 ?? [:] }
        return all.values.flatMap { $0 }.filter { $0.executableBy.contains(role) }
    }

    private static func function(from row: PostgresRow) throws -> RPCFunction {
        let (
            name, names, modes, types, defaults, returnsSet, returnKind, isReadOnly, anon, authenticated, service,
            attributes, attributeTypes, resultType, summary
        ) = try row.decode(
            (String, [String], [String], [String], Int, Bool, String, Bool, Bool, Bool, Bool, [String], [String], String, String?).self)
        // names, modes and types cover every argument (input and output) in order.
        var inputs: [(name: String, type: String)] = []
        var outputs: [(name: String, type: String)] = []
        for index in types.indices {
            let mode = index < modes.count ? modes[index] : "i"
            let argumentName = index < names.count ? names[index] : ""
            switch mode {
            case "i", "b", "v": inputs.append((argumentName, types[index]))
            default: outputs.append((argumentName, types[index]))
            }
        }
        let firstDefault = inputs.count - defaults
        let arguments = inputs.enumerated().map { index, input in
            RPCFunction.Argument(name: input.name, type: input.type, hasDefault: index >= firstDefault)
        }
        let shape: RPCFunction.ResultShape
        switch (returnKind, returnsSet) {
        case ("void", _): shape = .void
        case ("composite", true): shape = outputs.count == 1 && modes.contains("t") ? .singleColumnRows(outputs[0].name) : .rows
        case ("composite", false): shape = .row
        case (_, true): shape = outputs.count == 1 ? .singleColumnRows(outputs[0].name) : .scalars
        default: shape = .scalar
        }
        var roles: Set<Identity.Role> = []
        if anon { roles.insert(.anon) }
        if authenticated { roles.insert(.authenticated) }
        if service { roles.insert(.serviceRole) }
        // Result columns: the OUT / TABLE parameters, or the attributes of the returned row type.
        let columns: [(name: String, type: String)]
        switch shape {
        case .scalar, .scalars, .void: columns = []
        default:
            columns = outputs.isEmpty ? Array(zip(attributes, attributeTypes)).map { ($0, $1) } : outputs
        }
        return RPCFunction(
            name: name, arguments: arguments, shape: shape, columns: columns.map(\.name),
            columnTypes: Dictionary(columns.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first }),
            resultType: resultType, summary: summary, isReadOnly: isReadOnly, executableBy: roles)
    }

    /// One row per plain function in `public` (no procedures, aggregates or window functions).
    /// return_kind: `void`, `composite` (a row type, or `record` with OUT parameters) or `scalar`.
    private static let query: PostgresQuery = """
        select p.proname::text,
               coalesce(p.proargnames, '{}')::text[],
               coalesce(p.proargmodes::text[], '{}'),
               array(select pg_catalog.format_type(t.oid, null)
                     from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as t(oid, n)
                     order by t.n),
               p.pronargdefaults::int,
               p.proretset,
               case
                   when p.prorettype = 'pg_catalog.void'::pg_catalog.regtype then 'void'
                   when t.typtype = 'c' then 'composite'
                   when p.prorettype = 'pg_catalog.record'::pg_catalog.regtype and p.proallargtypes is not null
                       then 'composite'
                   else 'scalar'
               end,
               p.provolatile in ('s', 'i'),
               pg_catalog.has_function_privilege('anon', p.oid, 'execute'),
               pg_catalog.has_function_privilege('authenticated', p.oid, 'execute'),
               pg_catalog.has_function_privilege('service_role', p.oid, 'execute'),
               array(select a.attname::text from pg_catalog.pg_attribute a
                     where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
                     order by a.attnum),
               array(select pg_catalog.format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute a
                     where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
                     order by a.attnum),
               pg_catalog.format_type(p.prorettype, null),
               pg_catalog.obj_description(p.oid, 'pg_proc')
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        join pg_catalog.pg_type t on t.oid = p.prorettype
        where n.nspname = 'public' and p.prokind = 'f'
        """
}
