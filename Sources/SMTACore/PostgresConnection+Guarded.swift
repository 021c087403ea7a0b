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
        try await guardedResult(query, logger: logger).rows
    }

    /// Runs `query` as ``guardedQuery(_:logger:)`` does and returns its command tag (`COMMIT`,
    /// `ROLLBACK`, `INSERT 0 1`): what a statement whose rows say nothing reports it did.
    func guardedCommand(_ query: PostgresQuery, logger: Logger) async throws -> String {
        try await guardedResult(query, logger: logger).metadata.command
    }

    private func guardedResult(_ query: PostgresQuery, logger: Logger) async throws -> PostgresQueryResult {
        try await guarded {
            try await self.eventLoop.flatSubmit {
                guard !self.isClosed else {
                    return self.eventLoop.makeFailedFuture(
                        DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed"))
                }
                return self.query(query, logger: logger)
            }.get()
        }
    }

    /// Runs `statement` as a prepared statement (prepared on this connection at its first use)
    /// and returns its rows decoded, with the guarantees of ``guardedQuery(_:logger:)``.
    ///
    /// PostgresNIO writes a prepared statement from the calling task, so the closed check and
    /// the write share one event-loop turn only when the task runs on this connection's event
    /// loop. The task moves there first: under `smta`, Swift's executor is SwiftNIO's event-loop
    /// group, which resumes a task on the loop that completed its wait. Under any other executor
    /// the statement goes as an unnamed one instead (the same text and parameters, through
    /// ``guardedQuery(_:logger:)``).
    ///
    /// PostgresNIO remembers a failed preparation for the connection's lifetime and fails every
    /// later use with the same error. A preparation fails only when the statement's objects are
    /// missing or changed (the schema being migrated, or dropped); so such errors close the
    /// connection, and the pool's next one prepares the statement again.
    ///
    /// - Throws: as ``guardedQuery(_:logger:)``.
    public func guardedExecute<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger
    ) async throws -> [Statement.Row] {
        if !eventLoop.inEventLoop {
            try? await eventLoop.submit {}.get()
        }
        guard eventLoop.inEventLoop else {
            let query = PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings())
            return try await guardedQuery(query, logger: logger).map { try statement.decodeRow($0) }
        }
        do {
            return try await guarded {
                // On this connection's loop, with no suspension before `execute` writes.
                guard !self.isClosed else {
                    throw DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed")
                }
                var rows: [Statement.Row] = []
                for try await row in try await self.execute(statement, logger: logger) {
                    rows.append(row)
                }
                return rows
            }
        } catch let error as DatabaseError where error.sqlState.map(Self.invalidatesPreparation.contains) == true {
            let closing: EventLoopFuture<Void> = close()
            closing.whenComplete { _ in }
            throw error
        }
    }

    /// The SQLSTATEs of a statement that cannot be prepared, or no longer can: an undefined
    /// function or schema, a prepared statement the server no longer has. (The statement's own
    /// execution may raise them too, from a broken function: the connection is then replaced
    /// for nothing, which costs a connection, never a wrong answer.)
    private static let invalidatesPreparation: Set<String> = ["42883", "3F000", "26000"]

    /// Runs `send` (which sends one statement and reads all its rows) under the guarantees of
    /// ``guardedQuery(_:logger:)``: a cancelled task closes the connection, a connection closed
    /// right after the rows makes them unconfirmed, and every failure is a ``DatabaseError``.
    private func guarded<Rows>(_ send: () async throws -> Rows) async throws -> Rows {
        if Task.isCancelled {
            throw DatabaseError.timedOut(mayHaveRun: false)
        }
        do {
            let rows = try await withTaskCancellationHandler {
                try await send()
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
