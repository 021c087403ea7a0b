import PostgresNIO

/// `core.gate_call(…)` as a prepared statement: parsed and planned once per connection.
///
/// The bridge's statement is always the same text; only its eleven parameters change. Sent as
/// PostgresNIO's unnamed statement, PostgreSQL parsed, analysed and planned it for every call
/// (Parse, Describe, Bind) — about 22 µs of its CPU per call, a sixth of a gated read (pgbench
/// `-M extended` against `-M prepared`, BENCHMARKS.md). Prepared, a call is Bind and Execute.
///
/// Safe for the same reasons as the unnamed statement (`0025_gate_call.sql`): the prepared text
/// only calls `core.gate_call`, which switches to the caller's role and then runs the caller's
/// statement through `EXECUTE`, planned afresh as the caller. Nothing of the caller is planned
/// into the prepared statement.
struct GateCallStatement: PostgresPreparedStatement {
    static let name = "smta_gate_call"
    static let sql = """
        select core.gate_call($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json)::text
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .uuid, .text, .text, .text, .text, .text, .bool, .uuid, .text, .text]

    typealias Row = ByteBuffer?

    let identity: Identity
    let secretsKey: String?
    let allowsAnonymousUsers: Bool
    let statement: String
    let arguments: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.appendCaller(identity, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers)
        bindings.append(statement)
        bindings.append(arguments)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> ByteBuffer? {
        try row.decode(ByteBuffer?.self)
    }
}
