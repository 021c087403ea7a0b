import PostgresNIO

extension Gate {
    /// Runs one statement as `identity` in a single round trip and returns its JSON value.
    ///
    /// The work of ``transaction(as:_:)`` (role, identity settings, the caller's statement,
    /// commit or rollback) in one statement of its own: `core.gate_call` records the caller
    /// with `core.set_caller`, then runs `statement`. Every setting ends with
    /// that statement, so nothing of `identity` stays on the pooled connection.
    ///
    /// A pooled connection found closed before anything was sent on it is replaced once.
    ///
    /// - Parameters:
    ///   - statement: one `SELECT` yielding a single `json` column and at most one row; `$1`
    ///     is `arguments`. Built by the caller from trusted parts, never from client text.
    ///   - arguments: a JSON document handed to the statement as `$1` (`json`).
    ///   - identity: the caller the statement runs as.
    /// - Returns: the statement's JSON value as UTF-8 bytes; nil when it yielded no row or SQL
    ///   `NULL`.
    /// - Throws: ``DatabaseError``, whose ``DatabaseError/isConnectionFailure`` tells a
    ///   database that could not be reached from one that refused.
    public func call(_ statement: String, arguments: String, as identity: Identity) async throws -> ByteBuffer? {
        let link = identity.link
        let query: PostgresQuery = """
            select core.gate_call(\(identity.role.rawValue), \(link == nil ? identity.userID : nil), \
            \(identity.claimsJSON), \(secretsKey), \(link?.provider), \(link?.subject), \(link?.email), \
            \(allowsAnonymousUsers), \(statement), \(arguments)::json)::text
            """
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await client.withConnection { connection in
                    if connection.isClosed {
                        // Nothing was sent: safe to try another connection.
                        try? await connection.closeFuture.get()
                        throw ClosedBeforeSend()
                    }
                    do {
                        let rows = try await connection.guardedQuery(query, logger: logger)
                        return try rows.first?.decode(ByteBuffer?.self)
                    } catch {
                        if connection.isClosed {
                            try? await connection.closeFuture.get()
                        }
                        throw error
                    }
                }
            } catch is ClosedBeforeSend where attempt == 1 {
                continue
            } catch is ClosedBeforeSend {
                throw DatabaseError(sqlState: nil, message: "the connection to PostgreSQL is closed")
            } catch {
                throw DatabaseError(error)
            }
        }
    }
}

/// A pooled connection that was already closed when ``Gate/call(_:arguments:as:)`` got it.
private struct ClosedBeforeSend: Error {}
