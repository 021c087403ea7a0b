import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PostgresNIO
import SMTACore

/// The event-loop bridge floor of `smta bench bridge`: the two event-loop floors joined — a bare
/// SwiftNIO HTTP/1.1 pipeline (as ``NIOHTTPFloor``) whose channel handler, for each request,
/// sends the prepared `core.gate_call` statement (as ``EventLoopClientFloor``) on a connection of
/// its own event loop and answers with the statement's JSON; no Swift task, pool lock or
/// continuation per request, and none of the bridge's own work (credential, catalog, arguments,
/// result shape, deadline, metrics, log).
///
/// What any bridge answering this call costs in this process at least, the two sides now
/// interleaved on the same threads as the bridge's are (the separate floors measure each side
/// alone): its distance from the bridge is what an event-loop-native request path could save,
/// and its distance from the floors' sum what interleaving HTTP and database work costs.
struct EventLoopBridgeFloor: Sendable {
    /// The listening channel.
    let channel: any Channel
    /// The port it listens on.
    let port: Int
    private let connections: [PostgresConnection]

    /// Opens `clients` connections to `url`, spread over the event loops, prepares `statement`
    /// (values included; one `text` column) on each, and serves its result as
    /// `application/json` at `GET path`.
    static func start(path: String, url: DatabaseURL, statement: String, clients: Int) async throws -> EventLoopBridgeFloor {
        var logger = Logger(label: "smta.bench.event-loop-bridge-floor")
        logger.logLevel = .critical
        let group = MultiThreadedEventLoopGroup.singleton
        var connections: [PostgresConnection] = []
        var idle: [(any EventLoop, PreparedQuery)] = []
        do {
            for id in 0..<clients {
                let loop = group.next()
                let connection = try await PostgresConnection.connect(
                    on: loop, configuration: try url.connectionConfiguration(), id: id, logger: logger)
                connections.append(connection)
                let query = try await connection.prepare(query: statement).get()
                _ = try await query.execute().get()
                idle.append((loop, query))
            }
        } catch {
            for connection in connections { try? await connection.close().get() }
            throw error
        }
        // Each event loop's connections, handed out and taken back on that loop only.
        var queues: [LoopQueries] = []
        for loop in group.makeIterator() {
            let queries = idle.filter { $0.0 === loop }.map(\.1)
            queues.append(LoopQueries(loop: loop, idle: queries))
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [queues] channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let queue = queues.first(where: { $0.loop === channel.eventLoop }) else {
                            throw ChannelError.ioOnClosedChannel
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(FloorRoute(path: path) { context in answer(context, queries: queue) })
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
        } catch {
            for connection in connections { try? await connection.close().get() }
            throw error
        }
        return EventLoopBridgeFloor(channel: channel, port: channel.localAddress?.port ?? 0, connections: connections)
    }

    /// Stops listening and closes the connections.
    func close() async {
        try? await channel.close().get()
        for connection in connections {
            try? await connection.close().get()
        }
    }

    /// One event loop's prepared statements: a request takes an idle one or waits in line for
    /// the next to come back. Used on `loop` only, so it needs no lock.
    private final class LoopQueries: @unchecked Sendable {
        let loop: any EventLoop
        private var idle: [PreparedQuery]
        private var waiting = CircularBuffer<(PreparedQuery) -> Void>()

        init(loop: any EventLoop, idle: [PreparedQuery]) {
            self.loop = loop
            self.idle = idle
        }

        /// Calls `body` with a statement now, or when one comes back.
        func lease(_ body: @escaping (PreparedQuery) -> Void) {
            loop.preconditionInEventLoop()
            if let query = idle.popLast() {
                body(query)
            } else {
                waiting.append(body)
            }
        }

        /// Hands `query` to the first request waiting, or keeps it idle.
        func giveBack(_ query: PreparedQuery) {
            loop.preconditionInEventLoop()
            if let next = waiting.popFirst() {
                next(query)
            } else {
                idle.append(query)
            }
        }
    }

    /// Answers with the statement's result, run on a connection of the request's event loop
    /// (500 when it fails or yields no row).
    private static func answer(_ context: ChannelHandlerContext, queries: LoopQueries) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        queries.lease { query in
            query.execute().whenComplete { result in
                queries.giveBack(query)
                let body = (try? result.get())?.first?.first?.bytes
                FloorAnswer.write(on: bound.value, status: body == nil ? .internalServerError : .ok, body: body)
            }
        }
    }
}
