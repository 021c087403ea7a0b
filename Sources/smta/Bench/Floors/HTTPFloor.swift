import Hummingbird
import Logging
import NIOCore

/// The HTTP floor of `smta bench bridge`: a bare Hummingbird server answering the bridge's route
/// with a fixed body, the bridge's own answer, in this process.
///
/// What a request costs on this machine before any work is done for it (HTTP parsing, routing,
/// the response written, the event loop's wake-ups): the bridge's CPU per request is judged
/// against it.
struct HTTPFloor {
    /// Serves `body` as `application/json` at `GET path` until the returned task is cancelled;
    /// returns that task and the port it listens on.
    static func start(path: String, body: ByteBuffer) async throws -> (server: Task<Void, Error>, port: Int) {
        let router = Router(context: BasicRequestContext.self)
        router.get(RouterPath(path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: body))
        }
        return try await serve(router, name: "HTTP floor")
    }

    /// Serves `router` with Hummingbird on a free loopback port until the returned task is
    /// cancelled; returns that task and the port. `name` names the floor in a start-up failure.
    static func serve(_ router: Router<BasicRequestContext>, name: String) async throws -> (server: Task<Void, Error>, port: Int) {
        var logger = Logger(label: "smta.bench.floor")
        logger.logLevel = .critical
        let listening = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in listening.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in listening.stream {
            return (server, port)
        }
        throw LoadTools.BenchmarkFailure("the \(name)'s server did not start: \(String(describing: await server.result))")
    }
}
