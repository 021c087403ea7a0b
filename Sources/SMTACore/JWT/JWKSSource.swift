import Foundation

/// Where an adapter reads an issuer's JWKS from: a file, a URL, or anything else that can
/// produce the document (a test, a secrets manager).
public protocol JWKSSource: Sendable, CustomStringConvertible {
    /// Reads the current JWKS document.
    /// - Throws: when it cannot be read; the adapter then keeps the keys it already has.
    func fetchJWKS() async throws -> Data
}
