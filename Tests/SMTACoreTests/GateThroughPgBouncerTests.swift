import Foundation
import PostgresNIO
import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// The gate through PgBouncer 1.18 in transaction mode (Debian's package), where each transaction
/// may run on another server session and `statement_timeout` cannot be a start-up parameter.
///
/// Under the test runner's executor the gate never prepares its statement (see
/// `PostgresConnection.guardedExecute`); `Tests/Interop/test_bridge_pgbouncer.py` checks, under
/// `smta serve`, that a direct bridge prepares it and a pooled one does not.
@Suite("Gate through PgBouncer in transaction mode")
struct GateThroughPgBouncerTests {
    static let migrations = CoreSchema.migrations + SupabaseSchema.migrations
    /// The bridge's statement for `list_my_organizations` (a set of rows, no arguments).
    static let statement = #"select coalesce(pg_catalog.json_agg(_r), '[]') from public."list_my_organizations"() as _r"#

    /// The route of the calls that check a connection still serves: a timeout no loaded machine reaches.
    static let patientRoute = ConnectionRoute.transactionPooler(statementTimeout: .seconds(60))

    /// Runs `body` with a running pool of `size` connections to `url` (no start-up parameters).
    static func withPool<Result: Sendable>(
        _ url: DatabaseURL, size: Int, _ body: @Sendable (RenewablePool) async throws -> Result
    ) async throws -> Result {
        let pool = RenewablePool(configuration: try url.connectionConfiguration(), size: size, logger: TestSQL.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            return try await body(pool)
        }
    }

    @Test("through the transaction-pooler route, two identities' calls from two pools over one server session all succeed")
    func unnamedThroughThePooler() async throws {
        let direct = try await TestCluster.shared.database(migrated: Self.migrations)
        let pooled = try await TestPgBouncer.shared.url(for: direct, poolSize: 1)
        let route = ConnectionRoute.transactionPooler(statementTimeout: .seconds(15))
        let identities = (0..<2).map { GateTests.supabaseIdentity(UUID(), email: "user\($0)@example.com") }
        let answers = try await Self.withPool(pooled, size: 3) { one in
            try await Self.withPool(pooled, size: 3) { other in
                try await withThrowingTaskGroup(of: String?.self) { group in
                    for index in 0..<40 {
                        let gate = Gate(pool: index.isMultiple(of: 2) ? one : other, route: route)
                        group.addTask {
                            let result = try await gate.call(
                                Self.statement, arguments: "{}", as: identities[index % 2], readOnly: index % 4 < 2)
                            return result.map { String(buffer: $0) }
                        }
                    }
                    var answers: [String?] = []
                    for try await answer in group { answers.append(answer) }
                    return answers
                }
            }
        }
        #expect(answers.count == 40)
        #expect(answers.allSatisfy { $0 == "[]" })
    }

    /// Runs `body` with a pool of one connection through PgBouncer, a gate over it whose
    /// transactions time out after 300 ms, one over the same pool with ``patientRoute`` (for the
    /// calls that check the connection serves on), and a signed-in caller.
    static func withTimeouts(
        _ body: @Sendable (_ impatient: Gate, _ patient: Gate, _ pool: RenewablePool, _ identity: Identity) async throws -> Void
    ) async throws {
        let direct = try await TestCluster.shared.database(migrated: Self.migrations)
        let pooled = try await TestPgBouncer.shared.url(for: direct, poolSize: 1)
        let identity = GateTests.supabaseIdentity(UUID(), email: "ada@example.com")
        try await Self.withPool(pooled, size: 1) { pool in
            try await body(
                Gate(pool: pool, route: .transactionPooler(statementTimeout: .milliseconds(300))),
                Gate(pool: pool, route: Self.patientRoute), pool, identity)
        }
    }

    /// Expects `work`, which sleeps 30 s in PostgreSQL, to fail with `57014` (cancelled by the
    /// 300 ms timeout) far sooner than its sleep would end, however loaded the machine; returns
    /// the error.
    static func expectCancelled(_ work: () async throws -> Void) async -> DatabaseError? {
        let started = ContinuousClock.now
        let failure = await #expect(throws: DatabaseError.self) { try await work() }
        #expect(failure?.sqlState == "57014")
        #expect(ContinuousClock.now - started < .seconds(15))
        return failure
    }

    @Test("statement_timeout through the pooler: a call running past it is cancelled (57014) and the connection serves on")
    func statementTimeoutThroughThePooler() async throws {
        try await Self.withTimeouts { gate, patient, pool, identity in
            let failure = await Self.expectCancelled {
                _ = try await gate.call("select pg_catalog.to_json(pg_catalog.pg_sleep(30))", arguments: "{}", as: identity)
            }
            #expect(failure?.mayHaveRun == false)
            // The same pooled connection serves on.
            let answer = try await patient.call(Self.statement, arguments: "{}", as: identity, readOnly: true)
            #expect(answer.map { String(buffer: $0) } == "[]")
            // The timeout was the transaction's own: the server session's setting is unchanged.
            let setting = try await pool.withConnection { connection in
                try await connection.guardedQuery("show statement_timeout", logger: TestSQL.logger)[0].decode(String.self)
            }
            #expect(setting == "0")
        }
    }

    @Test("Gate.transaction through the pooler: the timeout set with the caller bounds the transaction's statements")
    func transactionTimeoutThroughThePooler() async throws {
        try await Self.withTimeouts { gate, patient, _, identity in
            _ = await Self.expectCancelled {
                _ = try await gate.transaction(as: identity) { try await $0.query("select pg_catalog.pg_sleep(30)") }
            }
            let role = try await patient.transaction(as: identity) { try await $0.rows("select current_user::text", as: String.self) }
            #expect(role == ["authenticated"])
        }
    }
}
