import PostgresNIO

extension Gate {
    /// Runs one statement as `identity` in a single round trip and returns its JSON value.
    ///
    /// The work of ``transaction(as:_:)`` (role, identity settings, the caller's statement,
    /// commit or rollback) in one statement of its own: `core.gate_call` records the caller
    /// with `core.set_caller`, then runs `statement`. Every setting ends with
    /// that statement, so nothing of `identity` stays on the pooled connection.
    ///
    /// `core.gate_call` goes as a statement prepared once per connection (see
    /// `PostgresConnection.guardedExecute(_:logger:)`), so PostgreSQL parses and plans it once;
    /// the caller's `statement` is planned at every call, as the caller, inside it. Through a
    /// transaction pooler (``ConnectionRoute/transactionPooler(statementTimeout:)``) it goes
    /// unnamed, in a transaction of its own that sets `statement_timeout` first.
    ///
    /// The call is answered once PostgreSQL has confirmed its commit (see
    /// `PostgresConnection.committedQuery(_:logger:)`), unless `readOnly` says there is nothing to
    /// commit. A pooled connection found closed before anything was sent on it is replaced once.
    /// Cancelling the calling task ends the call at once, whatever the network does: a wait for
    /// a connection is abandoned, and a statement already sent is stopped by closing its
    /// connection (see `PostgresConnection.guardedQuery(_:logger:)`).
    ///
    /// - Parameters:
    ///   - statement: one `SELECT` yielding a single `json` column and at most one row; `$1`
    ///     is `arguments`. Built by the caller from trusted parts, never from client text.
    ///   - arguments: a JSON document handed to the statement as `$1` (`json`).
    ///   - identity: the caller the statement runs as.
    ///   - readOnly: true when the statement changes nothing (it calls a `STABLE` or `IMMUTABLE`
    ///     function): its rows are returned without waiting for the commit's confirmation,
    ///     which saves a round trip.
    /// - Returns: the statement's JSON value as UTF-8 bytes; nil when it yielded no row or SQL
    ///   `NULL`.
    /// - Throws: ``DatabaseError``: ``DatabaseError/isConnectionFailure`` tells a database that
    ///   could not be reached from one that refused, ``DatabaseError/mayHaveRun`` a call whose
    ///   outcome is unknown, ``DatabaseError/isTimeout`` one whose task was cancelled.
    public func call(_ statement: String, arguments: String, as identity: Identity, readOnly: Bool = false) async throws -> ByteBuffer? {
        let call = GateCallStatement(
            identity: identity, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers,
            statement: statement, arguments: arguments)
        if case .transactionPooler(let statementTimeout) = route {
            let query = PostgresQuery(unsafeSQL: GateCallStatement.sql, binds: try call.makeBindings())
            let rows = try await callThroughPooler(query, statementTimeout: statementTimeout)
            return try rows.first.flatMap { try call.decodeRow($0) }
        }
        return try await run { connection in
            let rows = try await connection.guardedExecute(call, logger: logger)
            if !readOnly {
                try await connection.confirmCommit(logger: logger)
            }
            return rows
        }.first ?? nil
    }

    /// Runs one statement as `identity` at most once per ``IdempotencyKey``: the work of
    /// ``call(_:arguments:as:readOnly:)``, with the key claimed, the call made and its result recorded in
    /// the same transaction (`core.gate_call_once`).
    ///
    /// The first request under a key runs and records its result; the same request sent again
    /// (a retry after an unknown outcome, or a copy in flight at the same time, which waits for
    /// the first) gets that result back with `replayed` true and runs nothing. A call that fails
    /// records nothing, so its key may be used again.
    ///
    /// - Returns: the statement's JSON value (as ``call(_:arguments:as:readOnly:)`` returns it) and whether
    ///   it was replayed from the record.
    /// - Throws: as ``call(_:arguments:as:readOnly:)``; `PT422` when the key was used for another request.
    public func call(
        _ statement: String, arguments: String, as identity: Identity, once key: IdempotencyKey
    ) async throws -> (result: ByteBuffer?, replayed: Bool) {
        var bindings = PostgresBindings(capacity: 14)
        bindings.append(key.key)
        bindings.append(key.requestHash)
        bindings.append("\(key.window.components.seconds) seconds")
        bindings.appendCaller(identity, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers)
        bindings.append(statement)
        bindings.append(arguments)
        let query = PostgresQuery(
            unsafeSQL: """
                select replayed, result::text
                from core.gate_call_once($1, $2, $3::interval, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::json)
                """,
            binds: bindings)
        let rows: [PostgresRow]
        if case .transactionPooler(let statementTimeout) = route {
            rows = try await callThroughPooler(query, statementTimeout: statementTimeout)
        } else {
            rows = try await run { try await $0.committedQuery(query, logger: logger) }
        }
        guard let row = rows.first else {
            return (nil, false)
        }
        let (replayed, result) = try row.decode((Bool, ByteBuffer?).self)
        return (result, replayed)
    }

    /// Runs `send` (one statement of its own, sent and read) on a pooled connection, replacing a
    /// connection found closed before anything was sent on it once.
    private func run<Row: Sendable>(_ send: (PostgresConnection) async throws -> [Row]) async throws -> [Row] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withConnection { connection in
                    if connection.isClosed {
                        // Nothing was sent: safe to try another connection.
                        try? await connection.closeFuture.get()
                        throw ClosedBeforeSend()
                    }
                    do {
                        return try await send(connection)
                    } catch {
                        if connection.isClosed {
                            try? await connection.closeFuture.get()
                        }
                        throw error
                    }
                }
            } catch is ClosedBeforeSend where attempt == 1 && !Task.isCancelled {
                continue
            } catch is ClosedBeforeSend {
                throw Task.isCancelled
                    ? DatabaseError.timedOut(mayHaveRun: false)
                    : DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed")
            } catch let error as DatabaseError {
                throw error
            } catch {
                // The pool's own failures (no connection could be made, or the wait for one was
                // cancelled): nothing was sent.
                throw Task.isCancelled ? DatabaseError.timedOut(mayHaveRun: false) : DatabaseError(error)
            }
        }
    }
}

/// A pooled connection that was already closed when ``Gate`` got it.
private struct ClosedBeforeSend: Error {}
