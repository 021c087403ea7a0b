import HTTPTypes
import Hummingbird
import Logging

/// ``RequestLog`` for the requests Hummingbird's router answers: one line, the metrics,
/// `X-Request-Id` and `Server-Timing`'s `total`, with a ``RequestObservation`` installed for
/// the handlers.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What completes each answer.
    let log: RequestLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let observation = RequestObservation()
        var response: Response
        do {
            response = try await RequestObservation.$current.withValue(observation) {
                try await next(request, context)
            }
        } catch let error as any HTTPResponseError {
            response = BridgeError(status: error.status, code: "PGRST\(error.status.code)", message: error.status.reasonPhrase).response()
        }
        log.complete(
            &response, method: request.method, path: request.uri.path, function: context.parameters.get("function"),
            requestID: context.id, logger: context.logger, elapsed: start.duration(to: .now), observation: observation)
        return response
    }
}
