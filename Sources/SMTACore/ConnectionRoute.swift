/// How a pool's connections reach PostgreSQL, which decides what a connection may keep between
/// transactions.
///
/// Straight to PostgreSQL (or through a pooler in session mode) a connection is one server
/// session: it carries `statement_timeout` from its start-up and keeps the statements prepared on
/// it. Through a pooler in transaction mode (PgBouncer's `pool_mode = transaction`) each
/// transaction may run on another server session: the pooler refuses `statement_timeout` as a
/// start-up parameter (PgBouncer 1.18: "unsupported startup parameter"), and a statement
/// prepared in one transaction is missing in the next (`26000`) unless the pooler tracks
/// prepared statements (PgBouncer 1.21+ with `max_prepared_statements`).
public enum ConnectionRoute: Sendable, Equatable {
    /// One server session per connection: `statement_timeout` is a start-up parameter and the
    /// gate's statement is prepared once per connection.
    case session
    /// Through a transaction pooler: the gate runs each call in a transaction of its own that
    /// first sets `statement_timeout` for the transaction (`set_config(…, true)`, armed by
    /// PostgreSQL at the next statement's start), and sends its statement unnamed.
    case transactionPooler(statementTimeout: Duration)

    /// `duration` in whole milliseconds, as PostgreSQL's `statement_timeout` takes it.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
