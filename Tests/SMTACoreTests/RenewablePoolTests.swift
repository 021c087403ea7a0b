import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore
import SMTADev
import SMTATestSupport
import Testing

@Suite("RenewablePool: the bridge's connections")
struct RenewablePoolTests {
    /// Runs `body` with a pool of `size` connections to `url`, named `name` in pg_stat_activity.
    static func withPool<Result: Sendable>(
        _ url: DatabaseURL, size: Int, name: String, _ body: @Sendable (RenewablePool) async throws -> Result
    ) async throws -> Result {
        var configuration = try url.connectionConfiguration()
        configuration.options.additionalStartupParameters = [("application_name", name)]
        let pool = RenewablePool(configuration: configuration, size: size, logger: TestSQL.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            return try await body(pool)
        }
    }

    /// Backend ids of the connections named `name`.
    static func backends(_ name: String, on url: DatabaseURL) async throws -> Set<Int32> {
        try await TestSQL.withConnection(to: url) { connection in
            let rows = try await connection.guardedQuery(
                "select pid from pg_catalog.pg_stat_activity where application_name = \(name)", logger: TestSQL.logger)
            return Set(try rows.map { try $0.decode(Int32.self) })
        }
    }

    /// The backends named `name` once those in `gone` have ended (their connections close
    /// asynchronously), or after 10 s whatever they are.
    static func backends(_ name: String, on url: DatabaseURL, without gone: Set<Int32>) async throws -> Set<Int32> {
        var remaining = try await backends(name, on: url)
        for _ in 0..<200 where !remaining.isDisjoint(with: gone) {
            try await Task.sleep(for: .milliseconds(50))
            remaining = try await backends(name, on: url)
        }
        return remaining
    }

    static func backendID(_ connection: PostgresConnection) async throws -> Int32 {
        try await connection.guardedQuery("select pg_catalog.pg_backend_pid()", logger: TestSQL.logger)[0].decode(Int32.self)
    }

    @Test("the pool knows when the database last answered what it sent: work that succeeded counts from when it began; failed work and a closed connection do not")
    func answers() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        try await Self.withPool(url, size: 1, name: "pool-answers-\(UUID().uuidString.prefix(8))") { pool in
            let start = NIODeadline.now()
            #expect(!pool.answered(since: start), "nothing answered yet")
            _ = try await pool.withConnection { try await $0.guardedQuery("select 1", logger: TestSQL.logger) }
            #expect(pool.answered(since: start))
            let afterAnswer = NIODeadline.now()
            await #expect(throws: DatabaseError.self) {
                _ = try await pool.withConnection { try await $0.guardedQuery("select 1 / 0", logger: TestSQL.logger) }
            }
            #expect(!pool.answered(since: afterAnswer), "a refused statement is not counted")
            try await pool.withConnection { connection in
                _ = try await connection.guardedQuery("select 1", logger: TestSQL.logger)
                try await connection.close()
            }
            #expect(!pool.answered(since: afterAnswer), "work that left its connection closed is not counted")
            _ = try await pool.withConnection { try await $0.guardedQuery("select 1", logger: TestSQL.logger) }
            #expect(pool.answered(since: afterAnswer), "the next connection's answer is")
            // Work sent before an instant and answered after it says nothing about the database
            // after that instant.
            let slow = Task {
                try await pool.withConnection { try await $0.guardedQuery("select pg_catalog.pg_sleep(0.5)", logger: TestSQL.logger) }
            }
            try await Task.sleep(for: .milliseconds(200))
            let duringSlowWork = NIODeadline.now()
            _ = try await slow.value
            #expect(!pool.answered(since: duringSlowWork), "answered, but sent before the instant")
        }
    }

    @Test("thirty concurrent leases share at most three connections, and every one is served")
    func neverMoreThanItsSize() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let name = "pool-size-\(UUID().uuidString.prefix(8))"
        let (served, mostAtOnce, backends) = try await Self.withPool(url, size: 3, name: name) { pool in
            let inUse = NIOLockedValueBox((now: 0, most: 0))
            let served = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            inUse.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) }
                            defer { inUse.withLockedValue { $0.now -= 1 } }
                            _ = try await connection.guardedQuery("select pg_catalog.pg_sleep(0.02)", logger: TestSQL.logger)
                            return try await Self.backendID(connection)
                        }
                    }
                }
                return try await group.reduce(into: [Int32]()) { $0.append($1) }
            }
            return (served, inUse.withLockedValue { $0.most }, try await Self.backends(name, on: url))
        }
        #expect(served.count == 30)
        #expect(Set(served).count <= 3 && mostAtOnce <= 3)
        #expect(backends.count <= 3 && backends == Set(served))
    }

    @Test("a lease waiting for a connection gives up at once when its task is cancelled, and the pool stays whole")
    func cancelledWaitLeavesNothingBehind() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        try await Self.withPool(url, size: 1, name: "pool-cancel-\(UUID().uuidString.prefix(8))") { pool in
            let held = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await pool.withConnection { _ in
                    held.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in held.stream { break }
            // The only connection is leased: this lease waits, until cancelled.
            let waiter = Task { try await pool.withConnection { try await Self.backendID($0) } }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            // The holder has not let go: this returns only because the wait was abandoned.
            await #expect(throws: CancellationError.self) { try await waiter.value }
            release.continuation.yield()
            try await holder.value
            // Its place was not lost: the next leases are served, one after the other.
            for _ in 0..<3 {
                _ = try await pool.withConnection { try await Self.backendID($0) }
            }
        }
    }

    @Test("a connection whose backend was terminated is dropped, and the next lease gets a fresh one")
    func closedConnectionIsReplaced() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let name = "pool-closed-\(UUID().uuidString.prefix(8))"
        try await Self.withPool(url, size: 1, name: name) { pool in
            let first = try await pool.withConnection { try await Self.backendID($0) }
            try await TestSQL.execute("select pg_catalog.pg_terminate_backend(\(first))", on: url)
            // The idle connection hears of its end shortly after.
            var second: Int32?
            for _ in 0..<50 where second == nil {
                second = try? await pool.withConnection { try await Self.backendID($0) }
                if second == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(second != nil && second != first)
            #expect(try await Self.backends(name, on: url) == [second!])
        }
    }

    @Test("renew() closes every connection of the pool — idle ones at once, leased ones on their return")
    func renewRetiresEveryConnection() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let name = "pool-renew-\(UUID().uuidString.prefix(8))"
        try await Self.withPool(url, size: 2, name: name) { pool in
            // Two connections: one left idle, one still leased when the pool is renewed.
            let idle = try await pool.withConnection { connection in
                try await pool.withConnection { _ in () }
                return try await Self.backendID(connection)
            }
            let leased = try await pool.withConnection { connection in
                pool.renew()
                return try await Self.backendID(connection)
            }
            let remaining = try await Self.backends(name, on: url, without: [idle, leased])
            #expect(remaining.isDisjoint(with: [idle, leased]))
            let fresh = try await pool.withConnection { try await Self.backendID($0) }
            #expect(fresh != idle && fresh != leased)
        }
    }

    @Test("a database that cannot be reached fails each lease with the connection's error, and never fills the pool")
    func unreachableDatabase() async throws {
        let port = try LocalCluster.freePort()
        let url = try DatabaseURL("postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable")
        try await Self.withPool(url, size: 1, name: "pool-unreachable") { pool in
            // More attempts than the pool's size: each one gets its room back.
            for _ in 0..<3 {
                await #expect(throws: (any Error).self) { try await pool.withConnection { _ in () } }
            }
        }
    }

    @Test("once run() has ended, leases fail at once and nothing stays connected")
    func stoppedPoolRefuses() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let name = "pool-stop-\(UUID().uuidString.prefix(8))"
        var configuration = try url.connectionConfiguration()
        configuration.options.additionalStartupParameters = [("application_name", name)]
        let pool = RenewablePool(configuration: configuration, size: 2, logger: TestSQL.logger)
        let running = Task { await pool.run() }
        let backend = try await pool.withConnection { try await Self.backendID($0) }
        running.cancel()
        await running.value
        await #expect {
            try await pool.withConnection { _ in () }
        } throws: { error in
            (error as? DatabaseError)?.message.contains("stopped") == true
        }
        #expect(try await Self.backends(name, on: url, without: [backend]).isEmpty)
    }
}
