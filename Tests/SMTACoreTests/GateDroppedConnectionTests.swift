import Foundation
import PostgresNIO
import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Synchronization
import Testing

@Suite("Gate on a dropped connection")
struct GateDroppedConnectionTests {
    static let supabase = CoreSchema.migrations + SupabaseSchema.migrations

    static func supabaseIdentity(_ id: UUID, email: String) -> Identity {
        let claims = #"{"sub":"\#(id.uuidString.lowercased())","role":"authenticated","aud":"authenticated","email":"\#(email)"}"#
        return Identity(userID: id, email: email, role: .authenticated, claimsJSON: claims, source: "supabase")
    }

    @Test(
        "a transaction whose backend is terminated fails as a connection failure, and the next one runs on a fresh connection",
        .timeLimit(.minutes(3)), arguments: [1, 2])
    func terminatedBackendIsReplaced(maximumConnections: Int) async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let user = UUID()
        let identity = Self.supabaseIdentity(user, email: "ada@example.com")
        let (terminated, error, next) = try await TestSQL.withClient(to: url, maximumConnections: maximumConnections) { client in
            let gate = Gate(client: client)
            let terminated = Mutex<Int32?>(nil)
            let error = await #expect(throws: DatabaseError.self) {
                try await gate.transaction(as: identity) { tx in
                    let pid = try await tx.rows("select pg_backend_pid()", as: Int32.self)[0]
                    terminated.withLock { $0 = pid }
                    try await TestSQL.execute("select pg_terminate_backend(\(pid))", on: url)
                    try await Task.sleep(for: .milliseconds(200))
                    try await tx.query("select 1")
                }
            }
            let next = try await gate.transaction(as: identity) { tx in
                try await tx.rows("select pg_backend_pid(), auth.uid()", as: (Int32, UUID).self)[0]
            }
            return (terminated.withLock { $0 }, error, next)
        }
        #expect(error?.isConnectionFailure == true)
        #expect(terminated != nil && next.0 != terminated)
        #expect(next.1 == user)
    }

    @Test(
        "a statement whose backend is terminated while it runs fails with 57P01, and the next transaction runs",
        .timeLimit(.minutes(3)))
    func terminatedDuringStatementFails() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.supabase)
        let identity = Self.supabaseIdentity(UUID(), email: "ada@example.com")
        let (error, next) = try await TestSQL.withClient(to: url, maximumConnections: 1) { client in
            let gate = Gate(client: client)
            let error = await #expect(throws: DatabaseError.self) {
                try await gate.transaction(as: identity) { tx in
                    let pid = try await tx.rows("select pg_backend_pid()", as: Int32.self)[0]
                    // Terminated once PostgreSQL shows the statement running (a fixed delay
                    // raced the statement's sending on a loaded machine).
                    let terminator = Task {
                        try await TestSQL.execute(Self.terminateWhenSleeping(pid), on: url)
                    }
                    do {
                        try await tx.query("select pg_sleep(30)")
                    } catch {
                        try await terminator.value
                        throw error
                    }
                }
            }
            let next = try await gate.transaction(as: identity) { tx in
                try await tx.rows("select 1", as: Int32.self)[0]
            }
            return (error, next)
        }
        #expect(error?.sqlState == "57P01")  // admin_shutdown: the server says why before closing
        #expect(next == 1)
    }

    /// A statement that waits (up to 10 s) until backend `pid` runs `pg_sleep(30)`, then
    /// terminates it; it fails when the statement never showed up.
    static func terminateWhenSleeping(_ pid: Int32) -> String {
        """
        do $$
        begin
            for attempt in 1..500 loop
                -- pg_stat_activity is read once per transaction unless its snapshot is cleared.
                perform pg_catalog.pg_stat_clear_snapshot();
                if exists (
                    select from pg_catalog.pg_stat_activity
                    where pid = \(pid) and state = 'active' and query like '%pg_sleep(30)%'
                ) then
                    perform pg_catalog.pg_terminate_backend(\(pid));
                    return;
                end if;
                perform pg_catalog.pg_sleep(0.02);
            end loop;
            raise exception 'backend % never ran pg_sleep(30)', \(pid);
        end
        $$
        """
    }
}
