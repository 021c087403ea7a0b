import Foundation
import Logging
import PostgresNIO
import SMTACore

/// Runs a statement in the database either as a signed-in user (role `authenticated`, subject
/// to row-level security) or as the connection's own role (which bypasses it), and reports
/// PostgreSQL's own timing of it: `EXPLAIN (ANALYZE)`'s planning and execution times, free of
/// network and client costs. Per-node timing is off, so instrumentation adds nothing per row.
///
/// The identity is set the way the gate sets it, transaction-local, for both adapters at once
/// (`app.current_user_id` and `request.jwt.claims`), inside a temporary function of the session,
/// so that one round trip runs one statement and every setting ends with it.
struct ServerTimer: Sendable {
    /// One run's times, in milliseconds, and the shape of the plan that ran.
    struct Timing: Sendable {
        /// Planning time.
        var planning: Double
        /// Execution time (the InitPlans included).
        var execution: Double
        /// The plan's nodes, outermost first: `Limit > Index Scan using … [InitPlan: Result]`.
        var plan: String
    }

    let connection: PostgresConnection
    let logger: Logger

    /// Prepares the session: no parallel plans (a gated query cannot run in parallel, since
    /// SMTA's helpers are PARALLEL UNSAFE, so both sides run in one process), and the helper
    /// function. Call once per connection.
    func install() async throws {
        _ = try await connection.guardedQuery("select pg_catalog.set_config('max_parallel_workers_per_gather', '0', false)", logger: logger)
        _ = try await connection.guardedQuery(
            """
            create or replace function pg_temp.smta_bench_run(p_sql text, p_user uuid, p_explain boolean)
            returns text
            language plpgsql
            as $$
            declare
                v_result text;
            begin
                if p_user is not null then
                    perform pg_catalog.set_config('app.current_user_id', p_user::text, true),
                            pg_catalog.set_config('request.jwt.claims',
                                pg_catalog.json_build_object('sub', p_user, 'role', 'authenticated', 'aud', 'authenticated')::text, true),
                            pg_catalog.set_config('role', 'authenticated', true);
                end if;
                if p_explain then
                    execute 'explain (analyze, timing off, summary, format json) ' || p_sql into v_result;
                else
                    execute 'select coalesce(pg_catalog.json_agg(q)::text, ''[]'') from (' || p_sql || ') q' into v_result;
                end if;
                perform pg_catalog.set_config('role', 'none', true),
                        pg_catalog.set_config('app.current_user_id', '', true),
                        pg_catalog.set_config('request.jwt.claims', '', true);
                return v_result;
            end
            $$
            """, logger: logger)
    }

    /// PostgreSQL's timing of one run of `sql`, as `user` (nil: the connection's role).
    func timing(of sql: String, as user: UUID?) async throws -> Timing {
        let plan = try await run(sql, as: user, explain: true)
        guard let root = (try JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]])?.first,
            let planning = root["Planning Time"] as? Double, let execution = root["Execution Time"] as? Double
        else {
            throw LoadTools.BenchmarkFailure("unexpected EXPLAIN output: \(plan)")
        }
        return Timing(planning: planning, execution: execution, plan: Self.shape(of: root["Plan"] as? [String: Any] ?? [:]))
    }

    /// A plan node and its children in one line; workers launched are counted.
    private static func shape(of node: [String: Any]) -> String {
        var text = (node["Parent Relationship"] as? String).map { $0 == "InitPlan" ? "InitPlan: " : "" } ?? ""
        text += node["Node Type"] as? String ?? "?"
        if let index = node["Index Name"] as? String { text += " using \(index)" }
        if let workers = node["Workers Launched"] as? Int { text += " (\(workers) workers)" }
        let children = (node["Plans"] as? [[String: Any]] ?? []).map(shape(of:))
        switch children.count {
        case 0: return text
        case 1: return text + " > " + children[0]
        default: return text + " [" + children.joined(separator: "; ") + "]"
        }
    }

    /// The rows `sql` returns as `user` (nil: the connection's role), as one JSON array.
    func result(of sql: String, as user: UUID?) async throws -> String {
        try await run(sql, as: user, explain: false)
    }

    private func run(_ sql: String, as user: UUID?, explain: Bool) async throws -> String {
        let rows = try await connection.guardedQuery(
            "select pg_temp.smta_bench_run(\(sql), \(user), \(explain))", logger: logger)
        guard let text = try rows.first?.decode(String.self) else {
            throw LoadTools.BenchmarkFailure("no result for: \(sql)")
        }
        return text
    }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
