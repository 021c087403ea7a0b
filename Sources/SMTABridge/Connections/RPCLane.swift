import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Takes the bridge's most frequent request, a `GET` of `/rpc/{function}` (or
/// `/rest/v1/rpc/{function}`), out of the connection's channel pipeline and has it answered by
/// ``RPCLaneResponder``; every other request goes on to Hummingbird untouched.
///
/// Why: `smta bench bridge` measured Hummingbird's request path — the request parts' async
/// sequence, the router, the request context, the middleware chain, the response writer — at
/// about 40 µs of CPU per call around the same `Gate` call (its floor "SwiftNIO + Gate task"
/// against "Hummingbird + Gate"), a fifth of the bridge's CPU per request. Here a call costs one
/// Swift task; what answers it is the router's own code (``RPCLaneResponder``).
///
/// What stays as it is:
/// * **Order.** HTTP/1.1 answers go in the order of the requests. The lane takes a call only
///   when Hummingbird has answered every request handed to it on this connection; while the
///   lane answers, the parts that arrive (pipelined requests) wait, and reading stops
///   (`read()` is held), until its answer is written; then they go on as if they had just
///   arrived.
/// * **What Hummingbird decides.** A call that sends a body, asks to close the connection or
///   to continue (`Expect`), or names a function outside `[A-Za-z0-9_]` goes to Hummingbird
///   (whose router would read such paths its own way); so do `HEAD` and `POST`. The lane never
///   refuses anything itself.
/// * **Connection life.** The handler sits after Hummingbird's `HTTPConnectionStateHandler`,
///   which sees the lane's requests come in and its answers go out: its idle timeout and its
///   graceful shutdown (a quiescing connection closes once its answer has ended) hold for them
///   too. A client that half-closes after its request gets its answer first: the input's end
///   is passed on after the answer.
final class RPCLane: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests, or passing on one that Hummingbird answers.
        case passing
        /// Holding the head of a call the lane takes, until its end arrives.
        case holding(HTTPRequest, RPCCall, path: String)
        /// Answering a call: the parts that arrive meanwhile wait.
        case answering
    }

    /// Makes the answer to a call the lane took, given its path: head and body.
    typealias Answer = @Sendable (_ call: RPCCall, _ path: String) async -> (head: HTTPResponse, body: ByteBuffer)

    private let answerCall: Answer
    private var state = State.passing
    /// Parts that arrived while the lane answered, in order.
    private var waiting = CircularBuffer<HTTPRequestPart>()
    /// Requests handed to Hummingbird whose answer has not ended yet.
    private var handedOn = 0
    /// Parts passed on so far: those passed on outside a read are followed by a read's end.
    private var partsPassedOn = 0
    /// A `read()` held while the lane answered.
    private var readHeld = false
    /// The input's end (`ChannelEvent.inputClosed`), held while the lane answered.
    private var inputClosedHeld = false

    /// Creates the handler of one connection, whose calls `answer` answers
    /// (``RPCLaneResponder/answer(_:path:)`` in the bridge).
    init(answer: @escaping Answer) {
        self.answerCall = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data), context: context)
    }

    /// Takes one inbound part: waits, held, or passed on.
    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .answering:
            waiting.append(part)
        case .holding(let head, let call, let path):
            if case .end = part {
                state = .answering
                answer(call, path: path, context: context)
            } else {
                // A body (or anything but the end): Hummingbird answers the request as sent.
                state = .passing
                passOn(.head(head), context: context)
                passOn(part, context: context)
            }
        case .passing:
            if case .head(let head) = part, handedOn == 0, let (call, path) = Self.call(head) {
                state = .holding(head, call, path: path)
            } else {
                passOn(part, context: context)
            }
        }
    }

    private func passOn(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        if case .head = part {
            handedOn += 1
        }
        partsPassedOn += 1
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's answers pass here: the lane writes from its own context, onwards.
        if case .end = unwrapOutboundIn(data) {
            handedOn = max(0, handedOn - 1)
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if case .answering = state {
            readHeld = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            if isAnswering {
                inputClosedHeld = true
                return
            }
            let passedBefore = partsPassedOn
            passOnHeldHead(context: context)
            if partsPassedOn != passedBefore {
                context.fireChannelReadComplete()
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Hands a held head whose end will never come (the input ended) to Hummingbird, which
    /// answers a truncated request its own way.
    private func passOnHeldHead(context: ChannelHandlerContext) {
        if case .holding(let head, _, _) = state {
            state = .passing
            passOn(.head(head), context: context)
        }
    }

    /// Answers `call` in a task of its own, then writes the answer on this connection's loop
    /// and lets what waited go on.
    private func answer(_ call: RPCCall, path: String, context: ChannelHandlerContext) {
        let answerCall = answerCall
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            let (head, body) = await answerCall(call, path)
            // Swift's executor being SwiftNIO's loops, the task often ends on this one.
            if loop.inEventLoop {
                let (lane, context) = bound.value
                lane.finish(head: head, body: body, context: context)
            } else {
                loop.execute {
                    let (lane, context) = bound.value
                    lane.finish(head: head, body: body, context: context)
                }
            }
        }
    }

    private func finish(head: HTTPResponse, body: ByteBuffer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(body)), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .passing
        let passedBefore = partsPassedOn
        while !isAnswering, let part = waiting.popFirst() {
            receive(part, context: context)
        }
        let inputEnds = inputClosedHeld && !isAnswering
        if inputEnds {
            inputClosedHeld = false
            passOnHeldHead(context: context)
        }
        if partsPassedOn != passedBefore {
            // Passed on outside a read: Hummingbird's async channel hands what it read to its
            // request loop at a read's end.
            context.fireChannelReadComplete()
        }
        if inputEnds {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        guard !isAnswering else { return }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    private var isAnswering: Bool {
        if case .answering = state { return true }
        return false
    }

    /// The call `head` makes when the lane takes it, and its path; nil for any request
    /// Hummingbird answers.
    static func call(_ head: HTTPRequest) -> (RPCCall, path: String)? {
        guard head.method == .get, let target = head.path,
            head.headerFields[.expect] == nil,
            !(head.headerFields[values: .connection].contains { $0.lowercased().contains("close") })
        else { return nil }
        let uri = URI(target)
        let path = uri.path
        for prefix in ["/rpc/", "/rest/v1/rpc/"] where path.hasPrefix(prefix) {
            let name = path.dropFirst(prefix.count)
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else { return nil }
            return (RPCCall(function: String(name), method: .get, query: uri.query, headers: head.headerFields, body: .none), path)
        }
        return nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
