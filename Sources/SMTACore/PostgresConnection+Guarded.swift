import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs `query` and returns all its rows; fails at once when the connection is closed, and
    /// closes the connection when the calling task is cancelled.
    ///
    /// PostgresNIO 1.33 never fails a statement written to a channel the server has already
    /// closed: it waits forever. The check and the write happen in one event-loop turn, so the
    /// channel cannot close in between; a break after the write fails the statement normally.
    ///
    /// A statement on a stalled connection (a network partition, a NAT that forgot the flow: no
    /// FIN, no RST) would wait as long as the stall, and PostgreSQL's `statement_timeout` cannot
    /// help, since the server may never see it. So cancelling the task closes the connection,
    /// which fails the statement at once: a caller bounds any statement by cancelling its task at
    /// its deadline, and the pool replaces the connection.
    ///
    /// The rows are read before this returns, because PostgreSQL reports an error raised while a
    /// statement runs only with its results.
    ///
    /// - Throws: ``DatabaseError``: the server's error (nothing committed); a connection already
    ///   closed or a task already cancelled (nothing sent); a connection that broke or was closed
    ///   at the deadline after the statement was sent, or that closed right after its rows
    ///   (``DatabaseError/mayHaveRun``, and ``DatabaseError/isTimeout`` for the deadline).
    public func guardedQuery(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        if Task.isCancelled {
            throw DatabaseError.timedOut(mayHaveRun: false)
        }
        do {
            let rows: [PostgresRow] = try await withTaskCancellationHandler {
                try await eventLoop.flatSubmit {
                    guard !self.isClosed else {
                        return self.eventLoop.makeFailedFuture(
                            DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed"))
                    }
                    return self.query(query, logger: logger).map(\.rows)
                }.get()
            } onCancel: {
                let closing: EventLoopFuture<Void> = self.close()
                closing.whenComplete { _ in }
            }
            // PostgresNIO completes a statement at its CommandComplete, but a statement of its
            // own commits later, at Sync, before ReadyForQuery: a backend terminated in between
            // (or a commit that fails) sends its error after the rows, and PostgresNIO then
            // closes the connection. Rows followed by a closed connection are no proof of a
            // commit; rows with the connection still open are none either, when the error is
            // still on its way: `committedQuery` waits for the commit's confirmation.
            if isClosed {
                var failure = DatabaseError(sqlState: nil, message: "the connection closed before the statement's commit was confirmed")
                failure.mayHaveRun = true
                throw failure
            }
            return rows
        } catch let error as DatabaseError {
            // Closed before the send, or after rows whose commit was not confirmed.
            throw Task.isCancelled ? DatabaseError.timedOut(mayHaveRun: error.mayHaveRun) : error
        } catch {
            var failure = DatabaseError(error)
            if failure.sqlState == nil {
                if Task.isCancelled {
                    failure = .timedOut(mayHaveRun: true)
                } else {
                    failure.mayHaveRun = true
                }
            }
            throw failure
        }
    }
}
