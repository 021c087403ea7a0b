import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 request on a connection of its own, with a client-side limit: what the fault
/// benchmark sends to the bridge, recording every answer, including none.
enum HTTPProbe {
    /// What came back.
    struct Answer: Sendable {
        /// The status, or 0 when no answer came (connection refused or reset, or ``timedOut``).
        var status: Int
        /// The response headers, names lowercased.
        var headers: [String: String]
        /// The body, as UTF-8 text.
        var body: String
        /// Seconds from connecting to the end of the answer (or the failure).
        var seconds: Double
        /// Whether the client's limit passed before the answer ended.
        var timedOut: Bool
    }

    /// Sends `method path` with `headers` and `body` to `127.0.0.1:port`, giving up after `limit`.
    static func send(
        _ method: HTTPMethod, port: Int, path: String, headers: [(String, String)] = [], body: String? = nil,
        limit: TimeAmount
    ) async -> Answer {
        let start = ContinuousClock.now
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: Answer.self)
        let timer = eventLoop.scheduleTask(in: limit) {
            promise.fail(ProbeTimeout())
        }
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(limit)
                .channelInitializer { channel in
                    channel.pipeline.addHTTPClientHandlers().flatMap {
                        channel.pipeline.addHandler(AnswerCollector(promise: promise, start: start))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers {
                head.headers.add(name: name, value: value)
            }
            let payload = body.map { ByteBuffer(string: $0) }
            if let payload {
                head.headers.add(name: "Content-Length", value: "\(payload.readableBytes)")
            }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let payload {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(payload)), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let answer = try await promise.futureResult.get()
            timer.cancel()
            return answer
        } catch {
            timer.cancel()
            promise.fail(error)
            let seconds = Self.seconds(since: start)
            return Answer(status: 0, headers: [:], body: "\(error)", seconds: seconds, timedOut: error is ProbeTimeout)
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        start.duration(to: .now).inSeconds
    }

    /// The client's own limit passed.
    struct ProbeTimeout: Error {}
}

/// Collects one response and completes the promise with it; a connection that ends first fails it.
private final class AnswerCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPProbe.Answer>
    private let start: ContinuousClock.Instant
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<HTTPProbe.Answer>, start: ContinuousClock.Instant) {
        self.promise = promise
        self.start = start
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                headers[name.lowercased()] = value
            }
            promise.succeed(HTTPProbe.Answer(
                status: Int(head.status.code), headers: headers, body: String(buffer: body),
                seconds: HTTPProbe.seconds(since: start), timedOut: false))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
