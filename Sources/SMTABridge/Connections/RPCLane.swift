import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Takes the bridge's calls — `GET` and `POST` of `/rpc/{function}` (or
/// `/rest/v1/rpc/{function}`) — out of the connection's channel pipeline and has them answered
/// by ``RPCLaneResponder``; every other request goes on to Hummingbird untouched.
///
/// Why: `smta bench bridge` measured Hummingbird's request path — the request parts' async
/// sequence, the router, the request context, the middleware chain, the response writer — at
/// about 40 µs of CPU per call around the same `Gate` call (its floor "SwiftNIO + Gate" against
/// "Hummingbird + Gate"), a fifth of the bridge's CPU per request. Here a call costs one Swift
/// task; what answers it is the router's own code (``RPCLaneResponder``).
///
/// What stays as it is:
/// * **Order.** HTTP/1.1 answers go in the order of the requests. The lane takes a call only
///   when Hummingbird has answered every request handed to it on this connection, and a `POST`
///   only when its body follows its head within ``gatheringWindow`` and is at most
///   ``gatheringLimit`` bytes (a call's body, which clients send with its head or right after
///   it): the body is handed to the call in one buffer. Any other goes, head and body, to
///   Hummingbird, whose body stream has backpressure and whose deadline covers a body still
///   trickling in. Whatever arrives after the call — pipelined requests,
///   the input's end, a decoding error — waits, in order, until its answer is written, then
///   goes on as if it had just arrived.
/// * **Backpressure.** A client that sends without reading cannot make answers pile up: once
///   ``waitingLimit`` parts wait, reading stops (`read()` is held); once an answer leaves the
///   channel unwritable, nothing more is taken or passed on until it is writable again — as
///   Hummingbird's writer waits. A body is gathered into one buffer of at most
///   ``gatheringLimit`` bytes, copied out of the reads.
/// * **What Hummingbird decides.** A `GET` that declares a body, a `POST` without a
///   `Content-Length` or with one over the limit (Hummingbird's to refuse), a call that asks
///   to close the connection or to continue (`Expect`), or that names a function outside
///   `[A-Za-z0-9_]` (whose path Hummingbird's router reads its own way) goes to Hummingbird; so
///   do every other method and path, and every request once the connection's output has
///   closed. The lane never refuses anything itself.
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
    /// How long a `POST` body may take to follow its head (clients often send the two in
    /// separate writes) before the request goes to Hummingbird.
    static let gatheringWindow = TimeAmount.milliseconds(250)
    /// The most of a `POST` body gathered before the request goes to Hummingbird.
    static let gatheringLimit = 64 << 10

    private enum State {
        /// Between calls, or passing on requests that Hummingbird answers.
        case passing
        /// A call is being answered: what arrives after its request waits.
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

    /// The request of the call the lane took, until its end has arrived.
    private enum Arriving {
        /// Its body, gathered as it comes, for at most ``gatheringWindow`` and
        /// ``gatheringLimit`` bytes: the call starts at its end, with the body in one buffer. A
        /// body not whole by then goes, with its head, to Hummingbird, whose body stream has
        /// backpressure and whose deadline covers a body that trickles in.
        case gathering(HTTPRequest, RPCCall, path: String, ByteBuffer)
        /// The call has started; its request has no body.
        case started
    }

    private let answerCall: Answer
    private let calls: LaneCalls
    private let maxBodySize: Int
    private var state = State.passing
    private var arriving: Arriving?
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
    /// When a body being gathered goes to Hummingbird if it has not all come.
    private var gatheringDeadline: Scheduled<Void>?

    /// Creates the handler of one connection, whose calls `answer` answers
    /// (``RPCLaneResponder/answer(_:path:)`` in the bridge) in tasks of `calls`; a `POST` body
    /// of more than `maxBodySize` bytes is Hummingbird's to refuse.
    init(answer: @escaping Answer, calls: LaneCalls, maxBodySize: Int) {
        self.answerCall = answer
        self.calls = calls
        self.maxBodySize = maxBodySize
    }

    private var isBusy: Bool {
        switch state {
        case .passing: false
        case .answering, .blocked: true
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        gatheringDeadline?.cancel()
        gatheringDeadline = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if arriving != nil {
            if continueCall(part, context: context) && !isBusy {
                // Answered before its end: what waited goes on now.
                resume(context: context)
            }
        } else if isBusy {
            waiting.append(.part(part))
        } else {
            receive(part, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        awaitRestOfBody(context: context)
        readEndOwed = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent {
            switch event {
            case .inputClosed:
                cutCallShort(context: context)
                if isBusy {
                    waiting.append(.inputClosed)
                } else {
                    endRead(context: context)
                    context.fireUserInboundEventTriggered(event)
                }
                return
            case .outputClosed:
                outputClosed = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        cutCallShort(context: context)
        if isBusy {
            waiting.append(.error(error))
        } else {
            endRead(context: context)
            context.fireErrorCaught(error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.fireChannelWritabilityChanged()
        if case .blocked = state, context.channel.isWritable {
            state = .passing
            resume(context: context)
        }
    }

    /// Takes one part while no call arrives or is answered: a call's head, or passed on.
    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        guard case .head(let head) = part, handedOn == 0, !outputClosed, context.channel.isActive,
            let found = Self.call(head, maxBodySize: maxBodySize)
        else {
            passOn(part, context: context)
            return
        }
        let (call, path, hasBody) = found
        state = .answering
        if hasBody {
            arriving = .gathering(head, call, path: path, ByteBuffer())
        } else {
            arriving = .started
            answer(call, path: path, context: context)
        }
    }

    /// Takes a part of the call's request: a body is gathered, the end starts a call whose body
    /// was gathered.
    /// - Returns: whether the request has ended.
    private func continueCall(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch (part, arriving) {
        case (.body(var buffer), .gathering(let head, let call, let path, var gathered)):
            gathered.writeBuffer(&buffer)
            arriving = .gathering(head, call, path: path, gathered)
            if gathered.readableBytes >= Self.gatheringLimit {
                handOnIfGathering(context: context)
            }
            return false
        case (.end, .gathering(_, var call, let path, let gathered)):
            arriving = nil
            gatheringDeadline?.cancel()
            gatheringDeadline = nil
            call.body = .buffered(gathered)
            answer(call, path: path, context: context)
            return true
        case (.end, _):
            arriving = nil
            return true
        case (.body, _), (.head, _):
            // The decoder never sends a body for a request without one, nor a head before the
            // end of the request before: the connection is not HTTP any more.
            arriving = nil
            context.close(promise: nil)
            return false
        }
    }

    /// Waits, for what is left of ``gatheringWindow``, for the rest of a body being gathered;
    /// then hands the request to Hummingbird.
    private func awaitRestOfBody(context: ChannelHandlerContext) {
        guard case .gathering = arriving, gatheringDeadline == nil else { return }
        gatheringDeadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.gatheringWindow) {
            self.gatheringDeadline = nil
            self.handOnIfGathering(context: context)
            self.endRead(context: context)
        }
    }

    /// Hands a call whose body has not all come in time to Hummingbird: its head, what came of
    /// its body, and, as they arrive, the rest.
    private func handOnIfGathering(context: ChannelHandlerContext) {
        guard case .gathering(let head, _, _, let gathered) = arriving else { return }
        gatheringDeadline?.cancel()
        gatheringDeadline = nil
        arriving = nil
        state = .passing
        passOn(.head(head), context: context)
        if gathered.readableBytes > 0 {
            passOn(.body(gathered), context: context)
        }
    }

    /// The input ended or failed before the call's request did: a body still gathered goes to
    /// Hummingbird with its head (it answers a truncated request its own way); a call started
    /// has nothing more to read.
    private func cutCallShort(context: ChannelHandlerContext) {
        handOnIfGathering(context: context)
        arriving = nil
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
        while let arrival = waiting.first {
            if arriving != nil {
                // A call just taken: what of its request waited goes to it; the input's end or
                // an error cuts its body short, and stays to go on after its answer.
                switch arrival {
                case .part(let part):
                    waiting.removeFirst()
                    _ = continueCall(part, context: context)
                case .inputClosed, .error:
                    cutCallShort(context: context)
                }
                continue
            }
            if isBusy {
                break
            }
            waiting.removeFirst()
            switch arrival {
            case .part(let part):
                receive(part, context: context)
            case .inputClosed:
                endRead(context: context)
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            case .error(let error):
                endRead(context: context)
                context.fireErrorCaught(error)
            }
        }
        // A body that has not all waited here: the rest has its window to come.
        awaitRestOfBody(context: context)
        endRead(context: context)
        if readHeld && !(isBusy && waiting.count >= Self.waitingLimit) {
            readHeld = false
            context.read()
        }
    }

    /// The call `head` makes when the lane takes it, its path and whether a body follows; nil
    /// for any request Hummingbird answers.
    static func call(_ head: HTTPRequest, maxBodySize: Int) -> (RPCCall, path: String, hasBody: Bool)? {
        let fields = head.headerFields
        guard head.method == .get || head.method == .post, let target = head.path, fields[.expect] == nil,
            fields[.transferEncoding] == nil,
            !(fields[values: .connection].contains { $0.lowercased().contains("close") })
        else { return nil }
        let lengths = fields[values: .contentLength]
        let hasBody: Bool
        if head.method == .get {
            guard lengths.allSatisfy({ $0 == "0" }) else { return nil }
            hasBody = false
        } else {
            guard lengths.count == 1, let length = Int(lengths[0]), (0...maxBodySize).contains(length) else { return nil }
            hasBody = length > 0
        }
        let uri = URI(target)
        let path = uri.path
        for prefix in ["/rpc/", "/rest/v1/rpc/"] where path.hasPrefix(prefix) {
            let name = path.dropFirst(prefix.count)
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else { return nil }
            let call = RPCCall(function: String(name), method: head.method, query: uri.query, headers: fields, body: .none)
            return (call, path, hasBody)
        }
        return nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
