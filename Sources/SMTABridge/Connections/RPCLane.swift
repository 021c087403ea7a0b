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
///   lane answers, whatever arrives — pipelined requests, the input's end, a decoding error —
///   waits, in order, until its answer is written, then goes on as if it had just arrived.
/// * **Backpressure.** A client that sends without reading cannot make answers pile up: once
///   ``waitingLimit`` parts wait, reading stops (`read()` is held); once an answer leaves the
///   channel unwritable, nothing more is taken or passed on until it is writable again — as
///   Hummingbird's writer waits.
/// * **What Hummingbird decides.** A call that declares a body, asks to close the connection
///   or to continue (`Expect`), or names a function outside `[A-Za-z0-9_]` goes to Hummingbird
///   (whose router would read such paths its own way); so do `HEAD` and `POST`, and every
///   request once the connection's output has closed. The lane never refuses anything itself.
/// * **Connection life.** The handler sits after Hummingbird's `HTTPConnectionStateHandler`,
///   which sees the lane's requests come in and its answers go out: its idle timeout and its
///   graceful shutdown (a quiescing connection closes once its answer has ended) hold for them
///   too. The calls run in ``LaneCalls``' tasks, which a graceful shutdown waits for (and
///   cancels past `drain_timeout`) before the pool closes, as it waits for Hummingbird's.
final class RPCLane: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Makes the answer to a call the lane took, given its path: head and body.
    typealias Answer = @Sendable (_ call: RPCCall, _ path: String) async -> (head: HTTPResponse, body: ByteBuffer)

    /// How many inbound parts may wait behind an answer before reading stops (as many as
    /// Hummingbird's async channel buffers).
    static let waitingLimit = 16

    private enum State {
        /// Between requests, or passing on one that Hummingbird answers.
        case passing
        /// Holding the head of a call the lane takes, until its end arrives.
        case holding(HTTPRequest, RPCCall, path: String)
        /// Answering a call: what arrives meanwhile waits.
        case answering
        /// The answer is written but the channel is not writable: what arrives waits.
        case blocked
    }

    /// What arrived while the lane was busy, in order.
    private enum Arrival {
        case part(HTTPRequestPart)
        case inputClosed
        case error(any Error)
    }

    private let answerCall: Answer
    private let calls: LaneCalls
    private var state = State.passing
    private var waiting = CircularBuffer<Arrival>()
    /// Requests handed to Hummingbird whose answer has not ended yet.
    private var handedOn = 0
    /// Parts passed on since the last read's end: passed on outside a read, they are followed
    /// by one (Hummingbird's async channel hands what it read to its loop at a read's end).
    private var readEndOwed = false
    /// A `read()` held while too much waited.
    private var readHeld = false
    /// The connection's output has closed (Hummingbird answered `Connection: close`).
    private var outputClosed = false

    /// Creates the handler of one connection, whose calls `answer` answers
    /// (``RPCLaneResponder/answer(_:path:)`` in the bridge) in tasks of `calls`.
    init(answer: @escaping Answer, calls: LaneCalls) {
        self.answerCall = answer
        self.calls = calls
    }

    private var isBusy: Bool {
        switch state {
        case .passing, .holding: false
        case .answering, .blocked: true
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if isBusy {
            waiting.append(.part(part))
        } else {
            receive(part, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readEndOwed = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent {
            switch event {
            case .inputClosed where isBusy:
                waiting.append(.inputClosed)
                return
            case .inputClosed:
                endOfInput(context: context)
                return
            case .outputClosed:
                outputClosed = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isBusy {
            waiting.append(.error(error))
        } else {
            failed(error, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.fireChannelWritabilityChanged()
        if case .blocked = state, context.channel.isWritable {
            state = .passing
            resume(context: context)
        }
    }

    /// Takes one inbound part while not busy: held, or passed on.
    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .answering, .blocked:
            waiting.append(.part(part))
        case .holding(let head, let call, let path):
            if case .end = part {
                state = .answering
                answer(call, path: path, context: context)
            } else {
                // Anything but the end: Hummingbird answers the request as sent.
                state = .passing
                passOn(.head(head), context: context)
                passOn(part, context: context)
            }
        case .passing:
            if case .head(let head) = part, handedOn == 0, !outputClosed, context.channel.isActive,
                let (call, path) = Self.call(head)
            {
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
        readEndOwed = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Ends what was passed on with a read's end, when owed.
    private func endRead(context: ChannelHandlerContext) {
        if readEndOwed {
            readEndOwed = false
            context.fireChannelReadComplete()
        }
    }

    /// Hands a held head whose end will never come to Hummingbird, which answers a truncated
    /// request its own way.
    private func passOnHeldHead(context: ChannelHandlerContext) {
        if case .holding(let head, _, _) = state {
            state = .passing
            passOn(.head(head), context: context)
        }
    }

    private func endOfInput(context: ChannelHandlerContext) {
        passOnHeldHead(context: context)
        endRead(context: context)
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    private func failed(_ error: any Error, context: ChannelHandlerContext) {
        passOnHeldHead(context: context)
        endRead(context: context)
        context.fireErrorCaught(error)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's answers pass here: the lane writes from its own context, onwards.
        if case .end = unwrapOutboundIn(data) {
            handedOn = max(0, handedOn - 1)
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if isBusy && waiting.count >= Self.waitingLimit {
            readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: Answering

    /// Answers `call` in a task of ``LaneCalls``, then writes the answer on this connection's
    /// loop and lets what waited go on.
    private func answer(_ call: RPCCall, path: String, context: ChannelHandlerContext) {
        let answerCall = answerCall
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        calls.run {
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
        if context.channel.isWritable || !context.channel.isActive {
            state = .passing
            resume(context: context)
        } else {
            state = .blocked
        }
    }

    /// Lets what waited go on, in order, until a call makes the lane busy again; then reading
    /// resumes if it was held.
    private func resume(context: ChannelHandlerContext) {
        while !isBusy, let arrival = waiting.popFirst() {
            switch arrival {
            case .part(let part): receive(part, context: context)
            case .inputClosed: endOfInput(context: context)
            case .error(let error): failed(error, context: context)
            }
        }
        endRead(context: context)
        if readHeld && !(isBusy && waiting.count >= Self.waitingLimit) {
            readHeld = false
            context.read()
        }
    }

    /// The call `head` makes when the lane takes it, and its path; nil for any request
    /// Hummingbird answers.
    static func call(_ head: HTTPRequest) -> (RPCCall, path: String)? {
        let fields = head.headerFields
        guard head.method == .get, let target = head.path, fields[.expect] == nil, fields[.transferEncoding] == nil,
            fields[values: .contentLength].allSatisfy({ $0 == "0" }),
            !(fields[values: .connection].contains { $0.lowercased().contains("close") })
        else { return nil }
        let uri = URI(target)
        let path = uri.path
        for prefix in ["/rpc/", "/rest/v1/rpc/"] where path.hasPrefix(prefix) {
            let name = path.dropFirst(prefix.count)
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else { return nil }
            return (RPCCall(function: String(name), method: .get, query: uri.query, headers: fields, body: .none), path)
        }
        return nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
