/// Turns a request's credentials into an ``Identity``, or refuses, before any tenant data is
/// touched. One implementation per platform (Supabase, Payload); the configuration picks one.
public protocol IdentityAdapter: Sendable {
    /// The adapter's name, as the configuration spells it (`supabase`, `payload`).
    var name: String { get }

    /// Verifies `credentials`.
    ///
    /// - Returns: the caller's identity; ``Identity/anonymous(source:)`` when the request carries
    ///   no credential at all and the platform allows anonymous access.
    /// - Throws: ``AuthenticationError`` when a credential is present but invalid (forged,
    ///   expired, revoked, malformed, …), or absent where the platform requires one.
    func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity

    /// Prepares the adapter and runs its background work until the calling task is cancelled
    /// (loading keys, keeping a session store open). A server runs it beside its listener.
    func run() async throws
}

extension IdentityAdapter {
    /// Nothing to prepare or run: returns at once.
    public func run() async throws {}
}
