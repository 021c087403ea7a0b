import Logging
import PostgresNIO

/// Runs work for an ``Identity`` inside one PostgreSQL transaction, on a pooled connection.
///
/// The transaction starts with a single statement, `core.set_caller(…)`, that records who the
/// caller is, with bound parameters and transaction-local scope (PostgREST's convention):
/// `role`, `request.jwt.claims`, `app.current_user_id`, `app.allow_anonymous_users` and, when
/// configured, `app.secrets_key`. Every setting ends with the transaction, committed or rolled
/// back, so nothing of one identity survives on the connection for the next.
///
/// When the identity carries a ``Identity/Link`` (an adapter's non-UUID subjects), the same
/// call first maps it with the adapter's `core.link_identity`, so the pool's login role must
/// hold `app_admin`.
public struct Gate: Sendable {
    /// Where connections come from.
    private enum Connections: Sendable {
        case client(PostgresClient)
        case pool(RenewablePool)
    }

    private let connections: Connections
    /// How the connections reach PostgreSQL: through a transaction pooler, each transaction sets
    /// its own `statement_timeout` and no statement is prepared.
    let route: ConnectionRoute
    let secretsKey: String?
    let allowsAnonymousUsers: Bool
    let logger: Logger

    /// Creates a gate over `client`, whose `run()` the caller keeps running.
    /// - Parameters:
    ///   - client: the pool the gate borrows connections from.
    ///   - secretsKey: the key of SMTA's secret encryption, set as `app.secrets_key` in every
    ///     transaction; nil leaves secrets unreadable.
    ///   - allowsAnonymousUsers: whether anonymous sign-ins (``Identity/isAnonymous``) may create
    ///     organizations and become members; the database refuses them otherwise.
    ///   - logger: the logger of the gate's statements.
    ///   - route: how the client's connections reach PostgreSQL (default: one session each).
    public init(
        client: PostgresClient, secretsKey: String? = nil, allowsAnonymousUsers: Bool = false,
        logger: Logger = Logger(label: "smta.gate"), route: ConnectionRoute = .session
    ) {
        self.connections = .client(client)
        self.route = route
        self.secretsKey = secretsKey
        self.allowsAnonymousUsers = allowsAnonymousUsers
        self.logger = logger
    }

    /// Creates a gate over `pool`, whose `run()` the caller keeps running.
    /// - Parameters:
    ///   - pool: the renewable pool the gate borrows connections from.
    ///   - secretsKey: the key of SMTA's secret encryption (see
    ///     ``init(client:secretsKey:allowsAnonymousUsers:logger:)``).
    ///   - allowsAnonymousUsers: whether anonymous sign-ins may create organizations and become
    ///     members.
    ///   - logger: the logger of the gate's statements.
    ///   - route: how the pool's connections reach PostgreSQL (default: one session each).
    public init(
        pool: RenewablePool, secretsKey: String? = nil, allowsAnonymousUsers: Bool = false,
        logger: Logger = Logger(label: "smta.gate"), route: ConnectionRoute = .session
    ) {
        self.connections = .pool(pool)
        self.route = route
        self.secretsKey = secretsKey
        self.allowsAnonymousUsers = allowsAnonymousUsers
        self.logger = logger
    }

    /// Leases a connection for `body`, from the pool or the client the gate was made with.
    func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        switch connections {
        case .client(let client): try await client.withConnection(body)
        case .pool(let pool): try await pool.withConnection { try await body($0) }
        }
    }

    /// Runs `body` in one transaction as `identity`: committed when `body` returns, rolled back
    /// when it throws.
    ///
    /// The transaction is driven here rather than by PostgresNIO's `withTransaction`, whose
    /// `ROLLBACK` never returns once the server has closed the connection: PostgresNIO 1.33 drops a
    /// statement written to a closed channel without failing it. Every statement of the
    /// transaction goes through ``GateTransaction/query(_:)``, which fails at once on a closed
    /// connection; the pool then replaces the connection for the next transaction.
    ///
    /// Cancelling the calling task ends the transaction at once (its connection is closed, so
    /// nothing commits), whatever the network does.
    ///
    /// - Throws: ``DatabaseError`` for database failures, including a connection that broke
    ///   (the server's SQLSTATE, such as `57P01`, when it said why; otherwise
    ///   ``DatabaseError/isConnectionFailure``; ``DatabaseError/mayHaveRun`` only when the
    ///   `COMMIT` got no answer); `body`'s own errors unchanged.
    public func transaction<Result: Sendable>(
        as identity: Identity, _ body: (GateTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(
            opening: { try await $0.enter(as: identity, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers, route: route) },
            body)
    }

    /// Runs `opening`, then `body`, in one transaction: committed when both return, rolled back
    /// when either throws; the guarantees of ``transaction(as:_:)``.
    func transaction<Result: Sendable>(
        opening: (GateTransaction) async throws -> Void, _ body: (GateTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await withConnection { connection in
                let transaction = GateTransaction(connection: connection, logger: logger)
                do {
                    let result: Result
                    do {
                        try await transaction.query("BEGIN")
                        try await opening(transaction)
                        result = try await body(transaction)
                    } catch {
                        if (try? await transaction.query("ROLLBACK")) == nil {
                            // Never hand the pool a connection that may still be inside this
                            // transaction.
                            try? await connection.close()
                        }
                        // Nothing was committed, whatever became of the connection.
                        guard var failure = error as? DatabaseError else { throw error }
                        failure.mayHaveRun = false
                        throw failure
                    }
                    try await transaction.commit()
                    return result
                } catch {
                    // The pool learns of a closed connection from its close future, which
                    // completes after the statements on it have failed: return it only then,
                    // or the pool could lend it again at once.
                    if connection.isClosed {
                        try? await connection.closeFuture.get()
                    }
                    throw error
                }
            }
        } catch let error as PSQLError {
            // The pool's own failures (no connection, or the wait for one cancelled).
            throw Task.isCancelled ? DatabaseError.timedOut(mayHaveRun: false) : DatabaseError(error)
        }
    }
}

/// The connection of one gated transaction, already acting as the caller.
///
/// Run statements with ``query(_:)`` or ``rows(_:as:)``, SMTA's `public.*` functions among
/// them (`select id from public.create_organization(p_name => \(name))`). Do not keep it beyond
/// the ``Gate/transaction(as:_:)`` closure.
public struct GateTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Makes the rest of the transaction run as `identity`: one call of `core.set_caller`, which
    /// through a transaction pooler also sets the transaction's `statement_timeout` (armed from
    /// the next statement on).
    func enter(as identity: Identity, secretsKey: String?, allowsAnonymousUsers: Bool, route: ConnectionRoute) async throws {
        var bindings = PostgresBindings(capacity: 10)
        bindings.appendCaller(identity, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers)
        switch route {
        case .session:
            try await query(PostgresQuery(unsafeSQL: "select core.set_caller($1, $2, $3, $4, $5, $6, $7, $8, $9)", binds: bindings))
        case .transactionPooler(let statementTimeout):
            bindings.append(String(ConnectionRoute.milliseconds(statementTimeout)))
            try await query(
                PostgresQuery(
                    unsafeSQL: """
                        select core.set_caller($1, $2, $3, $4, $5, $6, $7, $8, $9), \
                        pg_catalog.set_config('statement_timeout', $10, true)
                        """,
                    binds: bindings))
        }
    }

    /// Sets the transaction's `statement_timeout`, armed by PostgreSQL from the next statement on
    /// (a statement already running keeps the timer it started with).
    func limitStatements(to statementTimeout: Duration) async throws {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(String(ConnectionRoute.milliseconds(statementTimeout)))
        try await query(PostgresQuery(unsafeSQL: "select pg_catalog.set_config('statement_timeout', $1, true)", binds: bindings))
    }

    /// Commits the transaction.
    ///
    /// A `COMMIT` that fails without the server's answer — not sent, because the task was
    /// cancelled first (a request's deadline), or sent on a connection that then broke — leaves
    /// the connection in an unknown state, possibly still inside this transaction: it is closed,
    /// so that its next user cannot commit this transaction's work (and nothing of it is
    /// committed). A `COMMIT` the server answers with `ROLLBACK` (a statement of the transaction
    /// had failed and the caller went on) committed nothing, and is an error too.
    ///
    /// - Throws: ``DatabaseError``: the server's error (a deferred constraint, a serialization
    ///   failure: rolled back); `25P02` when the transaction had failed; no SQLSTATE when the
    ///   answer never came (``DatabaseError/mayHaveRun`` when the `COMMIT` was sent).
    func commit() async throws {
        let tag: String
        do {
            tag = try await connection.guardedCommand("COMMIT", logger: logger)
        } catch let error as DatabaseError where error.sqlState == nil {
            if !connection.isClosed {
                try? await connection.close()
            }
            throw error
        }
        guard tag == "COMMIT" else {
            throw DatabaseError(
                sqlState: "25P02", message: "the transaction was rolled back at COMMIT: one of its statements had failed",
                hint: "A statement's error inside a transaction ends it; let the error end the transaction's closure.")
        }
    }

    /// Runs a statement as the caller and returns all its rows.
    ///
    /// The rows are read before this returns: PostgreSQL reports an error raised while a
    /// statement runs only with its results, so a caller that skipped them could commit after a
    /// failed statement.
    ///
    /// - Throws: ``DatabaseError`` with no SQLSTATE when the connection is already closed.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.guardedQuery(query, logger: logger)
    }

    /// Runs a statement as the caller and decodes every row as `type` (a tuple of columns).
    public func rows<each Column: PostgresDecodable>(
        _ query: PostgresQuery, as type: (repeat each Column).Type
    ) async throws -> [(repeat each Column)] {
        try await self.query(query).map { try $0.decode(type) }
    }
}
