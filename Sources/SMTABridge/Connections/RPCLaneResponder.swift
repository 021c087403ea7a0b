import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Answers the calls ``RPCLane`` takes from the channel pipeline exactly as the router would:
/// everything the router's middleware, route and Hummingbird's application give a call, in the
/// same order, from the same code.
///
/// The request id and its logger (Hummingbird's `hb.request.id`), the ``RequestObservation``,
/// the in-flight count and the time budget (``Deadline``) around ``RPCHandler``, then CORS
/// (``CORSMiddleware/decorate(_:origin:)``), the request's line, metrics, `X-Request-Id` and
/// `Server-Timing` (``RequestLog``), and last `Date` and `Server`.
struct RPCLaneResponder: Sendable {
    let rpc: RPCHandler
    let inFlight: InFlightRequests
    /// The time budget of each call (`request_timeout`).
    let timeout: Duration
    let cors: CORSMiddleware<BasicRequestContext>
    let log: RequestLog
    /// The server's logger; each request's adds its id.
    let logger: Logger
    /// The `Server` header (`smta`).
    let serverName: String
    let date = HTTPDate()
    /// The tasks the calls run in.
    let calls = LaneCalls()

    /// The answer to `call`, made for `path` (the request's path, for the log line), and its
    /// body's bytes.
    func answer(_ call: RPCCall, path: String) async -> (head: HTTPResponse, body: ByteBuffer) {
        let start = ContinuousClock.now
        let id = RequestID()
        var logger = logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(id)
        let requestID = id.description
        let observation = RequestObservation()
        let rpc = rpc, timeout = timeout, requestLogger = logger
        var response = await RequestObservation.$current.withValue(observation) {
            await inFlight.counting {
                await Deadline.run(within: timeout) {
                    await rpc.respond(to: call, requestID: requestID, logger: requestLogger)
                }
            }
        }
        cors.decorate(&response, origin: call.headers[.origin])
        log.complete(
            &response, method: call.method, path: path, function: call.function, requestID: requestID, logger: logger,
            elapsed: start.duration(to: .now), observation: observation)
        response.headers[.date] = date.now
        response.headers[.server] = serverName
        let collector = BodyCollector()
        do {
            let body = response.body
            try await body.write(collector)
        } catch {
            // The bridge's bodies are bytes in memory: writing them into memory cannot fail.
            logger.error("unexpected failure", metadata: ["error": "\(String(reflecting: error))"])
        }
        return (response.head, collector.buffer)
    }
}

/// Collects a response body's bytes in memory.
private final class BodyCollector: ResponseBodyWriter {
    private(set) var buffer = ByteBuffer()

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }

    func write(contentsOf parts: some Sequence<ByteBuffer>) async throws {
        for part in parts {
            try await write(part)
        }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
