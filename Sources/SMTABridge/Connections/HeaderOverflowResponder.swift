import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose header section is larger than the decoder accepts with 431 and
/// PostgREST's error body, then closes the connection.
///
/// NIO's HTTP decoder reports such a request as `HTTPParserError.headerOverflow` (more bytes
/// than `max_header_size` in one field or in all of them, or too many fields) through
/// `errorCaught`; left alone, Hummingbird answers every parser error with a bare 400. This
/// handler sits after the decoder, answers that one error itself and lets any other pass.
///
/// The client is usually still sending the rest of its headers: closing at once, with its bytes
/// unread, would make the kernel reset the connection and the client could lose the answer. So
/// the answer is followed by closing the output only; what still arrives is read and dropped
/// (the decoder reports each read as an error, which this handler swallows) until the client
/// closes, or for at most ``lingeringTime``.
final class HeaderOverflowResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// How long the rest of a refused request is read and dropped before the connection closes.
    static let lingeringTime = TimeAmount.seconds(2)

    /// The largest header section accepted, in bytes (for the error's details).
    let maxHeaderSize: Int
    private var answered = false

    /// Creates the responder of one connection.
    init(maxHeaderSize: Int) {
        self.maxHeaderSize = maxHeaderSize
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if answered {
            return
        }
        guard case .headerOverflow? = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let error = BridgeError(
            status: .requestHeaderFieldsTooLarge, code: "PGRST431", message: "Request header fields too large",
            details: "The header section is larger than \(maxHeaderSize) bytes or has more than 100 fields.",
            hint: "Send fewer or smaller headers (cookies, tokens).")
        let body = ByteBuffer(string: error.json)
        var head = HTTPResponse(status: error.status)
        head.headerFields = [
            .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
        ]
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingeringTime) {
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension HeaderOverflowResponder: Sendable {}
