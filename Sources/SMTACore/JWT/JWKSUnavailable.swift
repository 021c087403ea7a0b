/// The JWKS could not be fetched or parsed; the adapter keeps the keys it had.
public struct JWKSUnavailable: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for logs.
    public var reason: String

    /// Creates an error.
    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "JWKS unavailable: \(reason)" }
}
