import PostgresNIO

/// A database failure reduced to what a person (or an HTTP client) may see: the SQLSTATE and the
/// server's message, detail and hint — never the SQL text, bind values or a stack trace.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATE code, when the server answered (`42501`, `23505`, …); nil for a connection failure.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    /// The server's detail, if any.
    public var detail: String?
    /// The server's hint, if any.
    public var hint: String?
    /// Where in the statement the server located the error, if it said so: the statement text
    /// and the 1-based character position in it (used by the migrator to report a line).
    public var internalPosition: (query: String, offset: Int)?

    /// Whether the statement may have run although no answer came: it was sent, and then the
    /// connection broke or was closed because its time ran out. Such a write may or may not have
    /// committed. False for every error the server reported (its statement did not commit) and for
    /// a failure before anything was sent.
    public var mayHaveRun = false
    /// Whether the work ran out of time (its task was cancelled at its deadline) rather than the
    /// database failing; the connection it used, if any, was closed to stop it.
    public var isTimeout = false

    /// True when the server could not be reached, the connection broke, or no answer came in time.
    public var isConnectionFailure: Bool { sqlState == nil }

    /// Whether the database could not be reached or is going away: a connection that failed or
    /// broke (no SQLSTATE, and not a deadline), a connection exception (`08…`), or a server
    /// shutting down or starting (`57P01`–`57P03`). Not a timeout, nor an error of the statement.
    public var meansDatabaseUnreachable: Bool {
        guard let code = sqlState else { return !isTimeout }
        return Self.isUnreachableCode(code)
    }

    /// Whether `code` is a connection exception (`08…`) or a server shutting down or starting
    /// (`57P01`–`57P03`).
    public static func isUnreachableCode(_ code: String) -> Bool {
        code.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(code)
    }

    /// Creates an error from its parts.
    public init(sqlState: String?, message: String, detail: String? = nil, hint: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// Reduces any error thrown by PostgresNIO (including one wrapped in a
    /// `PostgresTransactionError`) to a ``DatabaseError``.
    public init(_ error: any Error) {
        if let already = error as? DatabaseError {
            self = already
            return
        }
        if let transaction = error as? PostgresTransactionError {
            let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError
            self.init(inner ?? transaction.rollbackError ?? error)
            return
        }
        guard let psql = error as? PSQLError else {
            self.init(sqlState: nil, message: String(describing: error))
            return
        }
        if let info = psql.serverInfo {
            self.init(
                sqlState: info[.sqlState], message: info[.message] ?? "the server reported an error",
                detail: info[.detail], hint: info[.hint])
            if let query = info[.internalQuery], let position = info[.internalPosition].flatMap(Int.init) {
                internalPosition = (query, position)
            }
            return
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection,
            .poolClosed:
            let reason = psql.underlying.map { String(describing: $0) } ?? "the connection closed"
            self.init(sqlState: nil, message: reason)
        default:
            self.init(sqlState: nil, message: "PostgreSQL client error (\(psql.code))")
        }
    }

    /// The error of work whose task was cancelled (its deadline passed) before or while it ran.
    /// - Parameter mayHaveRun: whether its statement had been sent.
    public static func timedOut(mayHaveRun: Bool) -> DatabaseError {
        var error = DatabaseError(
            sqlState: nil,
            message: mayHaveRun ? "no answer from PostgreSQL before the deadline" : "no PostgreSQL connection before the deadline")
        error.mayHaveRun = mayHaveRun
        error.isTimeout = true
        return error
    }

    public var description: String {
        var text = message
        if let sqlState { text += " [\(sqlState)]" }
        if let detail { text += " — \(detail)" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
