import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel with the bridge's connection guards: ``HeaderReadTimeout``
/// first in the pipeline (before the HTTP decoder, where bytes are still bytes), and after the
/// decoder ``HeaderSectionWatch`` and ``HeaderOverflowResponder``, and last, when given,
/// ``RPCLane``. Hummingbird's own idle timeout closes keep-alive connections left idle.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    /// The channel that does the HTTP work.
    let base: HTTP1Channel
    /// How long a client may take to send a request's header section.
    let headerTimeout: Duration
    /// What answers the calls ``RPCLane`` takes; nil: Hummingbird answers every request.
    let lane: RPCLaneResponder?

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(
                HeaderReadTimeout(timeout: TimeAmount(headerTimeout), logger: logger), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            if let lane {
                // After the connection's state handler, so that its idle timeout and graceful
                // shutdown see the lane's requests and answers.
                let state = try channel.pipeline.syncOperations.handler(type: HTTPConnectionStateHandler.self)
                try channel.pipeline.syncOperations.addHandler(RPCLane(answer: lane.answer, calls: lane.calls, maxBodySize: lane.rpc.maxBodySize), position: .after(state))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    /// A server of guarded channels.
    /// - Parameters:
    ///   - idleTimeout: how long a keep-alive connection may stay idle between requests.
    ///   - headerTimeout: how long a client may take to send a request's header section.
    ///   - maxHeaderSize: the largest header section accepted, in bytes (one field or all).
    ///   - lane: what answers the calls ``RPCLane`` takes from the pipeline; nil for none.
    static func server(idleTimeout: Duration, headerTimeout: Duration, maxHeaderSize: Int, lane: RPCLaneResponder? = nil) -> HTTPServerBuilder {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: maxHeaderSize, maxHeaderListSize: maxHeaderSize, maxHeaderFieldCount: 100)
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HeaderSectionWatch(), HeaderOverflowResponder(maxHeaderSize: maxHeaderSize)],
            idleTimeout: TimeAmount(idleTimeout), httpDecoderConfiguration: decoder)
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: configuration), headerTimeout: headerTimeout, lane: lane)
        }
    }
}
