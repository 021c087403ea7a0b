import HTTPTypes
import Hummingbird
import Logging

/// What every answer gets once it is ready, on either request path (``RequestLogMiddleware``,
/// ``RPCLane``): exactly one log line, the call counted in the metrics, the request id in
/// `X-Request-Id` (the key to the server's log for that request) and `Server-Timing`
/// completed with the request's `total`.
///
/// The line is the message `request` with the fields `method`, `path`, `status`,
/// `duration_ms`, `function` (for an RPC call: the name as requested) and, when a credential
/// was refused, `refusal` (its kind, as in `smta_credential_refusals_total`) and
/// `refusal_detail` (the adapter's reason); the request id is the logger's own
/// `hb.request.id`. Never a header, a cookie, a query, a body or a credential.
struct RequestLog: Sendable {
    /// Where RPC calls and refusals are counted.
    let metrics: BridgeMetrics
    /// Tells a function name from an unknown one, for the metrics' `function` label.
    let catalog: FunctionCatalog

    /// Completes `response` and records the request.
    /// - Parameters:
    ///   - response: the answer, given its `X-Request-Id` and `Server-Timing`'s `total`.
    ///   - method: the request's method.
    ///   - path: the request's path, without its query.
    ///   - function: for an RPC call, the function's name as requested.
    ///   - requestID: the request's id.
    ///   - logger: the request's logger.
    ///   - elapsed: how long the answer took.
    ///   - observation: what the handler recorded (a refused credential).
    func complete(
        _ response: inout Response, method: HTTPRequest.Method, path: String, function: String?, requestID: String,
        logger: Logger, elapsed: Duration, observation: RequestObservation
    ) {
        response.headers[.requestID] = requestID
        let total = ServerTiming.entry("total", elapsed)
        response.headers[.serverTiming] = response.headers[.serverTiming].map { "\($0), \(total)" } ?? total

        if let function {
            metrics.recordCall(
                function: catalog.knows(function) ? function : BridgeMetrics.unknownFunction, status: response.status, duration: elapsed)
        }
        let refusal = observation.refusal
        if let refusal {
            metrics.recordRefusal(refusal.kind)
        }
        // The line's fields are built only when the line is written.
        if logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "method": .string(method.rawValue),
                "path": .string(path),
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
            logger.info("request", metadata: metadata)
        }
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
