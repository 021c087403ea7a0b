import Foundation
import PostgresNIO
import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("Gate.transaction's COMMIT: nothing of a transaction that did not commit survives on the pooled connection")
struct GateCommitTests {
    static let supabase = CoreSchema.migrations + SupabaseSchema.migrations

    static let identity: Identity = {
        let id = UUID()
        let claims = #"{"sub":"\#(id.uuidString.lowercased())","role":"authenticated","aud":"authenticated","email":"ada@example.com"}"#
        return Identity(userID: id, email: "ada@example.com", role: .authenticated, claimsJSON: claims, source: "supabase")
    }()

    /// A migrated database with a table the caller may write, `public.commit_probe(id)`.
    static func database() async throws -> DatabaseURL {
        let url = try await TestCluster.shared.database(migrated: supabase)
        try await TestSQL.execute("create table public.commit_probe (id int not null)", on: url)
        try await TestSQL.execute("grant select, insert on public.commit_probe to authenticated", on: url)
        return url
    }

    /// The ids in `public.commit_probe`, read by the superuser.
    static func committed(_ url: DatabaseURL) async throws -> [Int32] {
        try await TestSQL.withConnection(to: url) { connection in
            try await connection.guardedQuery("select id from public.commit_probe order by id", logger: TestSQL.logger)
                .map { try $0.decode(Int32.self) }
        }
    }

    /// Runs `body` with a gate over a pool of one connection, so that the next transaction gets
    /// the connection the last one used, unless it was closed.
    static func withGate<Result: Sendable>(_ url: DatabaseURL, _ body: @Sendable (Gate) async throws -> Result) async throws -> Result {
        let pool = RenewablePool(configuration: try url.connectionConfiguration(), size: 1, logger: TestSQL.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            return try await body(Gate(pool: pool, logger: TestSQL.logger))
        }
    }

    @Test("a deadline between the last statement and COMMIT commits nothing, not even through the connection's next transaction")
    func deadlineBeforeCommit() async throws {
        let url = try await Self.database()
        let (outcome, next) = try await Self.withGate(url) { gate in
            // The request's deadline passes once the statement has run, before COMMIT is sent.
            let cancelled = Task {
                try await gate.transaction(as: Self.identity) { transaction in
                    try await transaction.query("insert into public.commit_probe values (1)")
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }
            var outcome: DatabaseError?
            do {
                try await cancelled.value
            } catch {
                outcome = error as? DatabaseError
            }
            // The pool's one connection, or its replacement, serves the next caller.
            let next = try await gate.transaction(as: Self.identity) { transaction in
                try await transaction.query("insert into public.commit_probe values (2)")
                return try await transaction.rows("select pg_catalog.count(*)::int from public.commit_probe", as: Int32.self)[0]
            }
            return (outcome, next)
        }
        let error = try #require(outcome, "the transaction fails")
        #expect(error.isTimeout && !error.mayHaveRun, "answered as a timeout with nothing applied")
        #expect(next == 1, "the next transaction sees only its own row")
        #expect(try await Self.committed(url) == [2], "the cancelled transaction's row was never committed")
    }

    @Test("a COMMIT that PostgreSQL answers ROLLBACK (a failed statement whose error the body caught) is an error, with nothing committed")
    func commitOfAFailedTransaction() async throws {
        let url = try await Self.database()
        let (failure, next) = try await Self.withGate(url) { gate in
            let failure = await #expect(throws: DatabaseError.self) {
                try await gate.transaction(as: Self.identity) { transaction in
                    try await transaction.query("insert into public.commit_probe values (1)")
                    do {
                        try await transaction.query("select 1 / 0")
                    } catch {
                        // The body goes on as if nothing had happened.
                    }
                }
            }
            let next = try await gate.transaction(as: Self.identity) { transaction in
                try await transaction.query("insert into public.commit_probe values (2)")
            }
            return (failure, next)
        }
        #expect(failure?.sqlState == "25P02")
        #expect(next.isEmpty)
        #expect(try await Self.committed(url) == [2])
    }
}
