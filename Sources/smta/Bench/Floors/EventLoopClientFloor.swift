import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import SMTACore

/// The event-loop client floor of `smta bench bridge`: the same `core.gate_call` statement as
/// pgbench sends it (its values written into the text), prepared once per connection and
/// executed through PostgresNIO's future API, each connection sending its next call from the
/// completion of the last on its own event loop: no Swift task, pool or continuation per call.
///
/// What the database side costs in this process at least: the distance from ``ClientFloor`` is
/// what an event-loop-native request path could save on the database side.
///
/// Its connections are opened once, before the rounds, and closed after them: a backend counts
/// in PostgreSQL's CPU while it lives or once the postmaster has reaped it, so connections
/// closed as a load ends would take their backends' work out of the figure.
struct EventLoopClientFloor: Sendable {
    private let connections: [PostgresConnection]
    /// The statement prepared on each connection, in the same order.
    private let prepared: [PreparedQuery]

    /// Opens `clients` connections to `url`, spread over the event loops, and prepares
    /// `statement` (values included) on each.
    static func open(url: DatabaseURL, statement: String, clients: Int) async throws -> EventLoopClientFloor {
        var logger = Logger(label: "smta.bench.event-loop-client-floor")
        logger.logLevel = .critical
        var connections: [PostgresConnection] = []
        var prepared: [PreparedQuery] = []
        do {
            for id in 0..<clients {
                let loop = MultiThreadedEventLoopGroup.singleton.next()
                let connection = try await PostgresConnection.connect(
                    on: loop, configuration: try url.connectionConfiguration(), id: id, logger: logger)
                connections.append(connection)
                // Prepared once per connection, as the bridge prepares its statement.
                let query = try await connection.prepare(query: statement).get()
                _ = try await query.execute().get()
                prepared.append(query)
            }
        } catch {
            for connection in connections { try? await connection.close().get() }
            throw error
        }
        return EventLoopClientFloor(connections: connections, prepared: prepared)
    }

    /// Calls on every connection in a loop for `seconds`; the figures as `wrk` reports them.
    func run(seconds: Int) async throws -> LoadTools.Figures {
        let end = NIODeadline.now() + .seconds(Int64(seconds))
        let start = ContinuousClock.now
        let runs = zip(connections, prepared).map { connection, query in
            let promise = connection.eventLoop.makePromise(of: [Double].self)
            connection.eventLoop.execute {
                Self.call(query, until: end, latencies: [], promise: promise)
            }
            return promise.futureResult
        }
        var latencies: [Double] = []
        for run in runs {
            latencies += try await run.get()
        }
        let elapsed = start.duration(to: .now)
        let seconds = elapsed.inSeconds
        return LoadTools.Figures(perSecond: Double(latencies.count) / seconds, latencies: latencies)
    }

    /// Closes the connections.
    func close() async {
        for connection in connections {
            try? await connection.close().get()
        }
    }

    /// Sends one call, and the next from its completion, until `end`.
    private static func call(_ query: PreparedQuery, until end: NIODeadline, latencies: [Double], promise: EventLoopPromise<[Double]>) {
        let sent = NIODeadline.now()
        query.execute().whenComplete { result in
            var latencies = latencies
            switch result {
            case .failure(let error):
                promise.fail(error)
            case .success:
                let now = NIODeadline.now()
                latencies.append(Double((now - sent).nanoseconds) / 1_000_000)
                if now < end {
                    call(query, until: end, latencies: latencies, promise: promise)
                } else {
                    promise.succeed(latencies)
                }
            }
        }
    }
}
