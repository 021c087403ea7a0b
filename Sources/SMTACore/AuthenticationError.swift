/// Why a credential was refused.
///
/// ``reason`` is precise, for logs; ``publicMessage`` is what a client may see — it never
/// echoes the credential, a key or a claim value.
public struct AuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Kind: String, Sendable, Hashable {
        /// No credential where one is required.
        case missing
        /// Not a well-formed token, or a token too large.
        case malformed
        /// The signature does not verify, the algorithm is not allowed, or the key is unknown.
        case badSignature
        /// `exp` is past (beyond the leeway).
        case expired
        /// `nbf` or `iat` is in the future (beyond the leeway).
        case notYetValid
        /// A claim (`aud`, `iss`, `sub`, `collection`, …) is wrong or missing.
        case invalidClaims
        /// The session or user behind the token no longer exists (logout, deleted user).
        case revoked
        /// The credential came by a channel the platform does not accept here (e.g. a cookie from
        /// a foreign origin).
        case forbiddenTransport
        /// The adapter could not check the credential (session store unreachable).
        case unavailable
    }

    /// The kind of refusal.
    public var kind: Kind
    /// The precise reason, for logs (never a secret or the token).
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// A message safe to send to the client.
    public var publicMessage: String {
        switch kind {
        case .missing: "Authentication required"
        case .expired: "The credential has expired"
        case .unavailable: "Authentication is temporarily unavailable"
        default: "Invalid credential"
        }
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}
