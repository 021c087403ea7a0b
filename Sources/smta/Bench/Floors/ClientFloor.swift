import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SMTACore

/// The Swift client floor of `smta bench bridge`: the bridge's own statement, `core.gate_call`
/// with its bound parameters, sent through SMTACore's ``Gate`` over the bridge's pool
/// (``RenewablePool``, PostgresNIO connections) by concurrent tasks of this process, with no HTTP
/// in front.
///
/// What the bridge's database side costs without the server: the bridge is judged against it,
/// and it against pgbench (libpq) sending the same statement.
///
/// Its pool is opened once, before the rounds, and closed after them, as the bridge's is: a
/// backend counts in PostgreSQL's CPU while it lives or once the postmaster has reaped it, so a
/// pool closed as each load ended took part of its backends' work out of the figure (one run
/// read 52 µs of PostgreSQL per call for it beside 150 for the same statement from the
/// event-loop floor).
struct ClientFloor: Sendable {
    let identity: Identity
    /// The statement the bridge builds for the call.
    let statement: String
    let clients: Int
    private let pool: RenewablePool
    private let gate: Gate
    private let running: Task<Void, Never>

    /// Opens a pool of `clients` connections to `url` and warms it up: every connection open,
    /// the statement prepared on each.
    static func open(url: DatabaseURL, identity: Identity, statement: String, clients: Int) async throws -> ClientFloor {
        var logger = Logger(label: "smta.bench.client-floor")
        logger.logLevel = .critical
        let pool = RenewablePool(configuration: try url.connectionConfiguration(), size: clients, logger: logger)
        let running = Task { await pool.run() }
        let floor = ClientFloor(
            identity: identity, statement: statement, clients: clients, pool: pool, gate: Gate(pool: pool, logger: logger),
            running: running)
        do {
            try await withThrowingTaskGroup(of: Void.self) { warm in
                for _ in 0..<clients * 4 {
                    warm.addTask { _ = try await floor.gate.call(statement, arguments: "{}", as: identity, readOnly: true) }
                }
                try await warm.waitForAll()
            }
        } catch {
            await floor.close()
            throw error
        }
        return floor
    }

    /// Runs `clients` tasks calling in a loop for `seconds`; the figures as `wrk` reports them.
    func run(seconds: Int) async throws -> LoadTools.Figures {
        let gate = gate, statement = statement, identity = identity
        let start = ContinuousClock.now
        let end = start.advanced(by: .seconds(seconds))
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { callers in
            for _ in 0..<clients {
                callers.addTask {
                    var latencies: [Double] = []
                    var clock = ContinuousClock.now
                    while clock < end {
                        guard try await gate.call(statement, arguments: "{}", as: identity, readOnly: true) != nil else {
                            throw LoadTools.BenchmarkFailure("core.gate_call returned no result")
                        }
                        let now = ContinuousClock.now
                        latencies.append(Self.milliseconds(clock.duration(to: now)))
                        clock = now
                    }
                    return latencies
                }
            }
            return try await callers.reduce(into: []) { $0 += $1 }
        }
        let elapsed = Self.milliseconds(start.duration(to: .now)) / 1000
        return LoadTools.Figures(perSecond: Double(latencies.count) / elapsed, latencies: latencies)
    }

    /// Closes the pool's connections.
    func close() async {
        running.cancel()
        await running.value
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
