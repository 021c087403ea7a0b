import HTTPTypes
import Hummingbird

/// Logs one line per request (method, path, status, milliseconds; never headers or bodies),
/// answers its request id in `X-Request-Id`, the key to the server's log for that request, and
/// completes `Server-Timing` with the request's `total`.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = BridgeError(status: error.status, code: "PGRST\(error.status.code)", message: error.status.reasonPhrase).response()
        }
        response.headers[.requestID] = context.id
        let elapsed = start.duration(to: .now)
        let total = ServerTiming.entry("total", elapsed)
        response.headers[.serverTiming] = response.headers[.serverTiming].map { "\($0), \(total)" } ?? total
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)"])
        return response
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    static let requestID = HTTPField.Name("X-Request-Id")!
}
