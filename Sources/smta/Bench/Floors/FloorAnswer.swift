import NIOCore
import NIOHTTP1
import NIOPosix

/// How the event-loop floors (``NIOHTTPFloor``, ``EventLoopBridgeFloor``) answer: a whole
/// HTTP/1.1 response written from the channel handler — head, body, end — and flushed once,
/// keeping the connection alive.
enum FloorAnswer {
    /// Writes `status` with `body` (none for nil) as `application/json` on `context`'s channel.
    static func write(on context: ChannelHandlerContext, status: HTTPResponseStatus, body: ByteBuffer?) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        context.write(
            NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }
}

extension FloorRoute {
    /// Serves `answer` at `GET path` from a bare SwiftNIO HTTP/1.1 pipeline on a free loopback
    /// port until the returned channel is closed; returns that channel and its port.
    static func serve(path: String, answer: @escaping @Sendable (ChannelHandlerContext) -> Void) async throws -> (channel: any Channel, port: Int) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FloorRoute(path: path, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return (channel, channel.localAddress?.port ?? 0)
    }
}

/// The event-loop floors' one route: on each request's end, `GET path` is answered by `answer`
/// (in the channel handler, on its event loop), anything else with 404; the connection stays
/// alive.
final class FloorRoute: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    private let path: String
    private let answer: (ChannelHandlerContext) -> Void
    private var found = false

    init(path: String, answer: @escaping (ChannelHandlerContext) -> Void) {
        self.path = path
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            found = head.method == .GET && head.uri == path
        case .body:
            break
        case .end:
            if found {
                answer(context)
            } else {
                FloorAnswer.write(on: context, status: .notFound, body: nil)
            }
        }
    }
}
