import Foundation
import SMTASupabase

/// A JWKS source the test controls: what it serves, whether it is reachable, how slow it is, and
/// how many times it was fetched.
actor InMemoryJWKS: JWKSSource {
    struct Unreachable: Error {}

    private var document: Data
    private var reachable = true
    private var delay: Duration = .zero
    private(set) var fetchCount = 0

    init(_ document: Data) {
        self.document = document
    }

    /// Publishes `document` (a key rotation).
    func publish(_ document: Data) { self.document = document }
    /// Makes the source fail (or succeed again).
    func setReachable(_ reachable: Bool) { self.reachable = reachable }
    /// Makes every fetch take `delay`, so concurrent requests overlap a fetch.
    func setDelay(_ delay: Duration) { self.delay = delay }

    func fetchJWKS() async throws -> Data {
        fetchCount += 1
        if delay > .zero { try await Task.sleep(for: delay) }
        guard reachable else { throw Unreachable() }
        return document
    }

    nonisolated var description: String { "in-memory JWKS" }
}
