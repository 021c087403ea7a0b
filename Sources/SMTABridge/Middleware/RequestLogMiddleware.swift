import HTTPTypes
import Hummingbird
import Logging

/// Logs exactly one line per request, counts RPC calls in the metrics, answers the request id
/// in `X-Request-Id` (the key to the server's log for that request) and completes
/// `Server-Timing` with the request's `total`.
///
/// The line is the message `request` with the fields `method`, `path`, `status`,
/// `duration_ms`, `function` (for an RPC call: the name as requested) and, when a credential
/// was refused, `refusal` (its kind, as in `smta_credential_refusals_total`) and
/// `refusal_detail` (the adapter's reason); the request id is the logger's own
/// `hb.request.id`. Never a header, a cookie, a query, a body or a credential.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where RPC calls and refusals are counted.
    let metrics: BridgeMetrics
    /// Tells a function name from an unknown one, for the metrics' `function` label.
    let catalog: FunctionCatalog

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
        response.headers[.requestID] = context.id
        let elapsed = start.duration(to: .now)
        let total = ServerTiming.entry("total", elapsed)
        response.headers[.serverTiming] = response.headers[.serverTiming].map { "\($0), \(total)" } ?? total

        let function = context.parameters.get("function")
        if let function {
            metrics.recordCall(
                function: catalog.knows(function) ? function : BridgeMetrics.unknownFunction, status: response.status, duration: elapsed)
        }
        let refusal = observation.refusal
        if let refusal {
            metrics.recordRefusal(refusal.kind)
        }
        // The line's fields are built only when the line is written.
        if context.logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(Self.milliseconds(elapsed)),
            ]
            if let function {
                metadata["function"] = .string(function)
            }
            if let refusal {
                metadata["refusal"] = .string(BridgeMetrics.label(refusal.kind))
                metadata["refusal_detail"] = .string(refusal.reason)
            }
            context.logger.info("request", metadata: metadata)
        }
        return response
    }

    /// `duration` in milliseconds, to the microsecond.
    static func milliseconds(_ duration: Duration) -> Double {
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return (milliseconds * 1000).rounded() / 1000
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    static let requestID = HTTPField.Name("X-Request-Id")!
}
