import Hummingbird

/// A request context that carries the caller ``SMTAMiddleware`` authenticated.
///
/// Conform your application's context to it, or use ``BasicSMTARequestContext``.
public protocol SMTARequestContext: RequestContext {
    /// The authenticated caller; set by ``SMTAMiddleware``, nil on routes it does not cover.
    var smta: SMTACaller? { get set }
}

extension SMTARequestContext {
    /// The authenticated caller.
    /// - Throws: `HTTPError(.internalServerError)` when ``SMTAMiddleware`` did not run for this
    ///   route, a mistake in the router's set-up rather than the client's.
    public func requireSMTA() throws -> SMTACaller {
        guard let smta else {
            throw HTTPError(.internalServerError, message: "SMTAMiddleware did not run for this route")
        }
        return smta
    }
}
