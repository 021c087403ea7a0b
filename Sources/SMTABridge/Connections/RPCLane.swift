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
///   when Hummingbird has answered every request handed to it on this connection. Its task
///   starts with the read that brought its head, as Hummingbird's responder does: a `POST`
///   body that came whole in that read is handed to it in one buffer, the rest of a longer one
///   streams into it as it arrives, under the call's time budget. Whatever arrives after the call — pipelined
///   requests, the input's end, a decoding error — waits, in order, until its answer is
///   written, then goes on as if it had just arrived. An answer given before the body has all
///   arrived (a refused credential) lets the rest of the body go unread, as Hummingbird does.
/// * **Backpressure.** A client that sends without reading cannot make answers pile up: once
///   ``waitingLimit`` parts wait, reading stops (`read()` is held); once an answer leaves the
///   channel unwritable, nothing more is taken or passed on until it is writable again — as
///   Hummingbird's writer waits. A body is taken only with a `Content-Length` within
///   `max_body_size`, so at most that much of it waits for the call to read it.
/// * **What Hummingbird decides.** A `GET` that declares a body, a `POST` without a
///   `Content-Length` or with one over the limit (Hummingbird answers it 413), a call that asks
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
        /// Its body, gathered while it comes within the read of its head: the call starts at
        /// its end, with the body in one buffer (the common case: a small body in one packet).
        case gathering(RPCCall, path: String, ByteBuffer)
        /// The call has started and its body streams into it.
        case streaming(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
        /// The call has started; its request has no body, or the call has been answered and the
        /// rest of its body is not read.
        case unread
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
        streamIfGathering(context: context)
        readEndOwed = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent {
            switch event {
            case .inputClosed:
                cutCallShort(by: RequestBodyCut(), context: context)
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
        cutCallShort(by: error, context: context)
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
            arriving = .gathering(call, path: path, ByteBuffer())
        } else {
            arriving = .unread
            answer(call, path: path, context: context)
        }
    }

    /// Takes a part of the call's request: its body goes to the call, its end ends it (and
    /// starts a call whose body was gathered).
    /// - Returns: whether the request has ended.
    private func continueCall(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch (part, arriving) {
        case (.body(var buffer), .gathering(let call, let path, var gathered)):
            gathered.writeBuffer(&buffer)
            arriving = .gathering(call, path: path, gathered)
            return false
        case (.body(let buffer), .streaming(let continuation)):
            continuation.yield(buffer)
            return false
        case (.body, _):
            return false
        case (.end, .gathering(var call, let path, let gathered)):
            arriving = nil
            call.body = .buffered(gathered)
            answer(call, path: path, context: context)
            return true
        case (.end, .streaming(let continuation)):
            continuation.finish()
            arriving = nil
            return true
        case (.end, _):
            arriving = nil
            return true
        case (.head, _):
            // The decoder ends a request before the next begins: not reached.
            preconditionFailure("a request's head before the end of the one before")
        }
    }

    /// Starts a call whose body has not all come within its head's read: the rest streams in.
    private func streamIfGathering(context: ChannelHandlerContext) {
        guard case .gathering(let call, let path, let gathered) = arriving else { return }
        let continuation = startStreaming(call, path: path, gathered: gathered, context: context)
        arriving = .streaming(continuation)
    }

    /// Starts `call` with a body stream that begins with `gathered`; returns the stream's
    /// continuation.
    private func startStreaming(
        _ call: RPCCall, path: String, gathered: ByteBuffer, context: ChannelHandlerContext
    ) -> AsyncThrowingStream<ByteBuffer, any Error>.Continuation {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        if gathered.readableBytes > 0 {
            continuation.yield(gathered)
        }
        var call = call
        call.body = .streamed(RequestBody(asyncSequence: LaneRequestBody(stream: stream)))
        answer(call, path: path, context: context)
        return continuation
    }

    /// Ends the body of a call whose request will not end: the call fails to read it.
    private func cutCallShort(by error: any Error, context: ChannelHandlerContext) {
        switch arriving {
        case .gathering(let call, let path, let gathered):
            startStreaming(call, path: path, gathered: gathered, context: context).finish(throwing: error)
        case .streaming(let continuation):
            continuation.finish(throwing: error)
        case .unread, nil:
            break
        }
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
        // The rest of a body the call did not read is not read.
        if case .streaming(let continuation) = arriving {
            continuation.finish()
            arriving = .unread
        }
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
                case .inputClosed:
                    cutCallShort(by: RequestBodyCut(), context: context)
                case .error(let error):
                    cutCallShort(by: error, context: context)
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
        // Outside a read: a body that has not all waited here streams in as it comes.
        streamIfGathering(context: context)
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

/// The request's body ended before its `Content-Length`: the input closed, or the decoder
/// failed.
struct RequestBodyCut: Error {}

/// A lane call's body as it arrives, for `RequestBody`: its iteration ends with
/// `CancellationError` when the call's task is cancelled (its time budget spent), as
/// Hummingbird's own body does, so that a body still trickling in at the deadline is answered
/// as a timeout.
struct LaneRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let stream: AsyncThrowingStream<ByteBuffer, any Error>

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator

        mutating func next() async throws -> ByteBuffer? {
            let next = try await base.next()
            if next == nil && Task.isCancelled {
                throw CancellationError()
            }
            return next
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }
}
