/// Judges a token's time claims (`exp`, `nbf`, `iat`, seconds since 1970) against the clock,
/// allowing ``leeway`` of clock skew between the issuer and this machine.
public struct TokenClock: Sendable, Hashable {
    /// Skew tolerated on each claim.
    public var leeway: Duration

    /// Creates a clock tolerating `leeway` (zero: the instant itself).
    public init(leeway: Duration) {
        self.leeway = leeway
    }

    private var leewaySeconds: Double {
        leeway.inSeconds
    }

    /// Checks the claims present; a missing claim passes (callers that require one check that
    /// themselves).
    /// - Throws: ``AuthenticationError`` `expired` when `exp` is past (by more than the leeway),
    ///   `notYetValid` when `nbf` or `iat` is in the future, `invalidClaims` for a non-finite time.
    public func check(exp: Double?, nbf: Double? = nil, iat: Double? = nil, now: Double) throws(AuthenticationError) {
        for (name, value) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
            if let value, !value.isFinite {
                throw AuthenticationError(.invalidClaims, "\(name) is not a finite number")
            }
        }
        if let exp, now >= exp + leewaySeconds {
            throw AuthenticationError(.expired, "exp is \(Int(now - exp)) s in the past")
        }
        if let nbf, nbf > now + leewaySeconds {
            throw AuthenticationError(.notYetValid, "nbf is \(Int(nbf - now)) s in the future")
        }
        if let iat, iat > now + leewaySeconds {
            throw AuthenticationError(.notYetValid, "iat is \(Int(iat - now)) s in the future")
        }
    }
}
