import Hummingbird
import SMTACore

/// Authenticates each request with an identity adapter and hands the handler the caller and
/// the gate (``SMTARequestContext/smta``).
///
/// The request's headers become `Credentials` and go to
/// `IdentityAdapter.identify(_:)`. A request without a credential is anonymous when
/// the adapter allows it (each of SMTA's adapters does: role `anon`), and its handler runs. A
/// credential that is present but refused is answered here, before the handler and before the
/// database, as `smta serve` answers it (``CredentialRefusal``): 401 with a JSON error, or 503
/// when the adapter could not check it. The precise reason goes to the request's log, never to
/// the client.
///
/// ```swift
/// let router = Router(context: BasicSMTARequestContext.self)
/// router.add(middleware: SMTAMiddleware(adapter: adapter, gate: gate))
/// ```
public struct SMTAMiddleware<Context: SMTARequestContext>: RouterMiddleware {
    let adapter: any IdentityAdapter
    let gate: Gate

    /// Creates the middleware.
    /// - Parameters:
    ///   - adapter: the configured adapter; its `IdentityAdapter.run()` must run beside
    ///     the server (``IdentityAdapterService``).
    ///   - gate: the gate over the application's PostgreSQL pool, whose `run()` must be running.
    public init(adapter: any IdentityAdapter, gate: Gate) {
        self.adapter = adapter
        self.gate = gate
    }

    /// Authenticates `request`; runs `next` with the caller set on the context, or answers the
    /// refusal without running it.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let identity: Identity
        do {
            identity = try await adapter.identify(Credentials(request.headers))
        } catch {
            context.logger.notice("credential refused", metadata: ["reason": "\(error.description)"])
            return try CredentialRefusal(error).response(from: request, context: context)
        }
        var context = context
        context.smta = SMTACaller(identity: identity, gate: gate)
        return try await next(request, context)
    }
}
