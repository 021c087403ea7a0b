import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore
import SMTATestSupport
import Testing

@testable import SMTABridge

@Suite("DatabaseAvailability: a check answered late under load is not an outage; a database that answers nothing is")
struct DatabaseAvailabilityTests {
    /// Checks that always miss their 3 s deadline: each sleeps 6 s on a live database,
    /// as `select 1` does on a process whose event loops are too busy to read its answer.
    static let lateCheck: PostgresQuery = "select pg_catalog.pg_sleep(6)"

    /// A watch of `url` whose every check is late, judged by `answeredSince`.
    static func watch(_ url: DatabaseURL, metrics: BridgeMetrics, answeredSince: @escaping @Sendable (NIODeadline) -> Bool) throws
        -> DatabaseAvailability
    {
        DatabaseAvailability(
            configuration: try url.connectionConfiguration(), checkInterval: .milliseconds(100), probeInterval: .milliseconds(100),
            answerTimeout: .seconds(3), check: lateCheck, metrics: metrics, logger: TestSQL.logger, answeredSince: answeredSince)
    }

    /// Waits up to `limit` for `availability` to read `down`; whether it did.
    static func becomes(_ availability: DatabaseAvailability, down: Bool, within limit: Duration) async throws -> Bool {
        let end = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < end {
            if availability.isDown == down { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return availability.isDown == down
    }

    /// Whether `availability` reads up at every sample over `duration`.
    static func staysUp(_ availability: DatabaseAvailability, for duration: Duration) async throws -> Bool {
        let end = ContinuousClock.now.advanced(by: duration)
        while ContinuousClock.now < end {
            if availability.isDown { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// The outages `metrics` has counted.
    static func outages(_ metrics: BridgeMetrics) -> Int? {
        let text = String(decoding: metrics.exposition(inFlight: 0, waiting: 0, databaseIsUp: true), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("smta_database_outages_total ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) }
    }

    /// Waits up to `limit` for `metrics` to count an outage; whether it did. (A watch whose
    /// check is late but whose connection opens at once reconnects at once: the outage is
    /// counted, and may be over before a sampler sees it.)
    static func countsAnOutage(_ metrics: BridgeMetrics, within limit: Duration) async throws -> Bool {
        let end = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < end {
            if (outages(metrics) ?? 0) > 0 { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (outages(metrics) ?? 0) > 0
    }

    @Test("late checks while the pool's calls are answered keep the database up; once the calls stop, the next late check marks it down")
    func lateChecksUnderLoad() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let pool = RenewablePool(configuration: try url.connectionConfiguration(), size: 2, logger: TestSQL.logger)
        let metrics = BridgeMetrics(adapter: "supabase", poolSize: 2)
        let availability = try Self.watch(url, metrics: metrics) { pool.answered(since: $0) }
        let calling = NIOLockedValueBox(true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            group.addTask { try await availability.run() }
            // The bridge's calls: answered every 50 ms while `calling` holds.
            group.addTask {
                while calling.withLockedValue({ $0 }) {
                    _ = try await pool.withConnection { try await $0.guardedQuery("select 1", logger: TestSQL.logger) }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            defer { group.cancelAll() }
            let cameUp = try await Self.becomes(availability, down: false, within: .seconds(10))
            #expect(cameUp, "the first watch connection opens")
            // Two checks given up in 7 s, each with calls answered after it was sent (three
            // seconds for one of the calls sent every 50 ms to be answered, on a loaded machine).
            let stayedUp = try await Self.staysUp(availability, for: .seconds(7))
            #expect(stayedUp)
            #expect(Self.outages(metrics) == 0, "no outage counted")
            calling.withLockedValue { $0 = false }
            let wentDown = try await Self.countsAnOutage(metrics, within: .seconds(15))
            #expect(wentDown, "no call answered after a late check: down")
        }
    }

    @Test("without answered calls, the same late check marks the database down, as a stalled network does")
    func lateCheckWithoutCalls() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let metrics = BridgeMetrics(adapter: "supabase", poolSize: 2)
        let availability = try Self.watch(url, metrics: metrics) { _ in false }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await availability.run() }
            defer { group.cancelAll() }
            // It opens its connection (up), then its first late check counts an outage.
            let cameUp = try await Self.becomes(availability, down: false, within: .seconds(10))
            #expect(cameUp)
            let wentDown = try await Self.countsAnOutage(metrics, within: .seconds(15))
            #expect(wentDown)
        }
    }
}
