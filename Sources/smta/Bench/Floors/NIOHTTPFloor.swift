import NIOCore
import NIOHTTP1
import NIOPosix

/// The event-loop HTTP floor of `smta bench bridge`: the same fixed answer as ``HTTPFloor``
/// from a bare SwiftNIO HTTP/1.1 pipeline, answered in the channel handler on its event loop,
/// with no Swift task, router or middleware per request.
///
/// What HTTP costs on this machine below Hummingbird: the distance between the two floors is
/// what an event-loop-native request path could save at most on the HTTP side.
struct NIOHTTPFloor {
    /// Serves `body` as `application/json` at `GET path` until the returned channel is closed;
    /// returns that channel and the port it listens on.
    static func start(path: String, body: ByteBuffer) async throws -> (channel: any Channel, port: Int) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FloorRoute(path: path) { context in FloorAnswer.write(on: context, status: .ok, body: body) })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return (channel, channel.localAddress?.port ?? 0)
    }
}
