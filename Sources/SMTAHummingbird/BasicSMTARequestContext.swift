import Hummingbird

/// Hummingbird's basic request context plus the SMTA caller.
public struct BasicSMTARequestContext: SMTARequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller, set by ``SMTAMiddleware``.
    public var smta: SMTACaller?

    /// Creates the context of a new request, with no caller yet.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.smta = nil
    }
}
