import Foundation
import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// The interop programs with `smta serve` pointed at PgBouncer 1.18 in transaction mode
    /// (`default_pool_size = 2`), Debian's package started by ``TestPgBouncer``; their psycopg
    /// checks read PostgreSQL directly.
    @Suite("Through PgBouncer in transaction mode: the bridge, its clients, webhooks, migrate and doctor")
    struct PgBouncerInteropTests {
        /// PgBouncer's pool: two server sessions per database.
        static let poolSize = 2

        /// The variables that run a program's bridges on `url` through PgBouncer, LISTEN and the
        /// database watch going straight to PostgreSQL.
        static func throughPgBouncer(_ url: DatabaseURL) async throws -> [String: String] {
            let pooled = try await TestPgBouncer.shared.url(for: url, poolSize: poolSize)
            let settings = [
                "SMTA_DATABASE_URL": pooled.description,
                "SMTA_TRANSACTION_POOLING": "true",
                "SMTA_DIRECT_DATABASE_URL": url.description,
            ]
            let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
            return ["SMTA_INTEROP_DATABASE_URL": url.description, "SMTA_INTEROP_BRIDGE_SETTINGS": json]
        }

        @Test("postgrest-py against the Supabase adapter through PgBouncer (test_bridge_supabase.py)")
        func supabaseThroughPgBouncer() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_supabase.py").expectPasses(environment: try await Self.throughPgBouncer(url))
        }

        @Test("Payload credentials through PgBouncer (test_bridge_payload.py)")
        func payloadThroughPgBouncer() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_bridge_payload.py").expectPasses(environment: try await Self.throughPgBouncer(url))
        }

        @Test("billing webhooks through PgBouncer (test_billing_webhooks.py)")
        func billingWebhooksThroughPgBouncer() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_billing_webhooks.py").expectPasses(environment: try await Self.throughPgBouncer(url))
        }

        @Test("identities never cross over two server sessions, statement_timeout holds, session work, migrate and doctor (test_bridge_pgbouncer.py)")
        func pgBouncerProgram() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            var empty: [[String: String]] = []
            for _ in 0..<2 {
                let direct = try await TestCluster.shared.emptyDatabase()
                let pooled = try await TestPgBouncer.shared.url(for: direct, poolSize: Self.poolSize)
                empty.append(["direct": direct.description, "pooled": pooled.description])
            }
            try await InteropProgram(script: "test_bridge_pgbouncer.py").expectPasses(environment: [
                "SMTA_INTEROP_DATABASE_URL": url.description,
                "SMTA_INTEROP_PGBOUNCER_URL": try await TestPgBouncer.shared.url(for: url, poolSize: Self.poolSize).description,
                "SMTA_INTEROP_PGBOUNCER_EMPTY": String(decoding: try JSONEncoder().encode(empty), as: UTF8.self),
            ])
        }
    }
}
