import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SMTACore

/// The lane's floor in `smta bench bridge`: a bare SwiftNIO HTTP/1.1 pipeline whose channel
/// handler answers each request with `core.gate_call`'s result, sent through SMTACore's `Gate`
/// over a `RenewablePool` of its own for a fixed caller, in one Swift task per request — what
/// the bridge's `RPCLane` does, with none of the bridge's own work.
///
/// Beside ``HummingbirdBridgeFloor`` (the same call on Hummingbird's request path) it measures
/// what that path costs; beside ``EventLoopBridgeFloor`` (no task, PostgresNIO's futures) what
/// the task and the `Gate` cost.
struct NIOGateFloor: Sendable {
    /// The listening channel.
    let channel: any Channel
    /// The port it listens on.
    let port: Int
    private let pool: Task<Void, Never>

    /// Starts the floor on a free loopback port with a pool of `clients` connections; it
    /// answers `GET path` with `statement`'s result for `identity`.
    static func start(path: String, url: DatabaseURL, identity: Identity, statement: String, clients: Int) async throws -> NIOGateFloor {
        var logger = Logger(label: "smta.bench.nio-gate-floor")
        logger.logLevel = .critical
        let connections = RenewablePool(configuration: try url.connectionConfiguration(), size: clients, logger: logger)
        let pool = Task { await connections.run() }
        let gate = Gate(pool: connections, logger: logger)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FloorRoute(path: path) { context in
                            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                            let loop = context.eventLoop
                            Task {
                                let body = try? await gate.call(statement, arguments: "{}", as: identity, readOnly: true)
                                loop.execute {
                                    FloorAnswer.write(on: bound.value, status: body == nil ? .internalServerError : .ok, body: body ?? nil)
                                }
                            }
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return NIOGateFloor(channel: channel, port: channel.localAddress?.port ?? 0, pool: pool)
    }

    /// Stops listening and closes the pool.
    func close() async {
        try? await channel.close().get()
        pool.cancel()
        await pool.value
    }
}
