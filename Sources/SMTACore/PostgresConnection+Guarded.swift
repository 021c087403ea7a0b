import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `query` and returns all its rows, failing at once when the connection is closed.
    ///
    /// PostgresNIO 1.33 never fails a statement written to a channel the server has already
    /// closed: it waits forever. The check and the write happen in one event-loop turn, so the
    /// channel cannot close in between; a break after the write fails the statement normally.
    /// The rows are read before this returns, because PostgreSQL reports an error raised while a
    /// statement runs only with its results.
    ///
    /// - Throws: ``DatabaseError/isConnectionFailure`` when the connection is already closed;
    ///   PostgresNIO's errors otherwise.
    public func guardedQuery(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await eventLoop.flatSubmit {
            guard !self.isClosed else {
                return self.eventLoop.makeFailedFuture(
                    DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed"))
            }
            return self.query(query, logger: logger).map(\.rows)
        }.get()
    }
}
