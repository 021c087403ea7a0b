import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client started a request but has not finished its header section
/// within ``timeout``: the defence against slowloris clients, which hold connections open by
/// sending a header byte now and then (the keep-alive idle timeout alone would let each live
/// for `idle_timeout`).
///
/// It sits first in the pipeline, where it sees the raw bytes: the first byte read while no
/// request is being answered starts the clock. ``HeaderSectionWatch``, after the HTTP decoder,
/// stops it when the request's head is decoded and tells it when the answer is written, so
/// the next request starts the clock again. A connection idle between requests is left to the
/// idle timeout.
final class HeaderReadTimeout: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        /// No request has begun since the last answer.
        case waitingForRequest
        /// A request's first bytes came; the connection closes when the timer fires.
        case readingHead(Scheduled<Void>)
        /// The head was decoded; the request is being answered.
        case answering
    }

    /// How long a client may take to send a header section.
    let timeout: TimeAmount
    private let logger: Logger
    private var state = State.waitingForRequest

    /// Creates the handler of one connection.
    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .waitingForRequest = state {
            let timeout = timeout
            let logger = logger
            state = .readingHead(
                context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    logger.info(
                        "closed a connection whose header section did not arrive in time",
                        metadata: ["header_timeout_ms": "\(timeout.nanoseconds / 1_000_000)"])
                    context.close(promise: nil)
                })
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopClock()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopClock()
    }

    /// The request's head was decoded: the clock stops.
    func headReceived() {
        stopClock()
        state = .answering
    }

    /// The answer was written: the next byte read starts a new request.
    func answerWritten() {
        if case .answering = state {
            state = .waitingForRequest
        }
    }

    private func stopClock() {
        if case .readingHead(let timer) = state {
            timer.cancel()
            state = .waitingForRequest
        }
    }
}

@available(*, unavailable)
extension HeaderReadTimeout: Sendable {}

/// Tells the connection's ``HeaderReadTimeout`` when a request's head has been decoded and when
/// its answer has been written; it sits after the HTTP decoder, where requests are parts.
final class HeaderSectionWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var timeout: HeaderReadTimeout?

    /// Creates the watch of one connection.
    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        timeout = try? context.pipeline.syncOperations.handler(type: HeaderReadTimeout.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            timeout?.headReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            timeout?.answerWritten()
        }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension HeaderSectionWatch: Sendable {}
