import PostgresNIO

extension Gate {
    /// Runs `query` (one gated statement: `core.gate_call` or `core.gate_call_once`) through a
    /// transaction pooler and returns its rows.
    ///
    /// The pooler gives a client's statements to any server session, one transaction at a time,
    /// and refuses `statement_timeout` at connection start. So the statement runs in a
    /// transaction of its own whose first statement sets `statement_timeout` for the
    /// transaction: PostgreSQL arms that timer when the next statement starts (a `set_config`
    /// inside the gated statement itself would come too late to bound it). And it goes unnamed:
    /// a statement prepared in one transaction may be missing from the session that runs the
    /// next. Four round trips (BEGIN, the timeout, the statement, COMMIT) where a direct
    /// connection needs one or two; the `COMMIT`'s answer confirms the commit.
    ///
    /// - Throws: as ``transaction(as:_:)``: a statement cancelled by the timeout is `57014`, with
    ///   nothing committed.
    func callThroughPooler(_ query: PostgresQuery, statementTimeout: Duration) async throws -> [PostgresRow] {
        try await transaction(opening: { try await $0.limitStatements(to: statementTimeout) }) { transaction in
            try await transaction.query(query)
        }
    }
}
