import Foundation
import SMTACore

/// A JWKS source the test controls: what it serves, whether it is reachable, how slow it is, and
/// how many times it was fetched.
public actor InMemoryJWKS: JWKSSource {
    /// What a fetch throws while the source is unreachable.
    public struct Unreachable: Error {}

    private var document: Data
    private var reachable = true
    private var delay: Duration = .zero
    /// How many times the JWKS was fetched.
    public private(set) var fetchCount = 0

    /// A source serving `document`.
    public init(_ document: Data) {
        self.document = document
    }

    /// Publishes `document` (a key rotation).
    public func publish(_ document: Data) { self.document = document }
    /// Makes the source fail (or succeed again).
    public func setReachable(_ reachable: Bool) { self.reachable = reachable }
    /// Makes every fetch take `delay`, so concurrent requests overlap a fetch.
    public func setDelay(_ delay: Duration) { self.delay = delay }

    /// Serves the current document, after the delay, unless unreachable.
    public func fetchJWKS() async throws -> Data {
        fetchCount += 1
        if delay > .zero { try await Task.sleep(for: delay) }
        guard reachable else { throw Unreachable() }
        return document
    }

    public nonisolated var description: String { "in-memory JWKS" }
}
