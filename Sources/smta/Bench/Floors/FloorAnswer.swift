import NIOCore
import NIOHTTP1

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
