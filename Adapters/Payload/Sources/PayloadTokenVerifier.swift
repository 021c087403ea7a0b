import Crypto
import Foundation
import SMTACore

/// Verifies a Payload token as Payload does (jose's `jwtVerify`): a compact JWT, `alg` HS256
/// only, signed with the key derived from `PAYLOAD_SECRET` (or from one of the previous
/// secrets while they are being rotated out), not expired.
///
/// Works on the token's UTF-8 bytes; the signature is checked in constant time before any
/// claim is decoded.
public struct PayloadTokenVerifier: Sendable {
    private let keys: [PayloadSigningKey]
    private let clock: TokenClock
    private let maxTokenSize: Int

    /// Creates a verifier.
    /// - Parameters:
    ///   - key: the key derived from the app's `PAYLOAD_SECRET`.
    ///   - previousKeys: keys derived from secrets that signed tokens still in use.
    ///   - leeway: clock skew tolerated on `exp` (Payload allows none).
    ///   - maxTokenSize: longer tokens are refused unread, in bytes.
    public init(key: PayloadSigningKey, previousKeys: [PayloadSigningKey] = [], leeway: Duration, maxTokenSize: Int) {
        self.keys = [key] + previousKeys
        self.clock = TokenClock(leeway: leeway)
        self.maxTokenSize = maxTokenSize
    }

    /// Verifies `token` at time `now`.
    /// - Returns: the token's claims.
    /// - Throws: `AuthenticationError` — `malformed` (not a compact JWT, too large, claims
    ///   unreadable), `badSignature` (another algorithm, or a signature that does not verify),
    ///   `expired`, `notYetValid`.
    public func verify(_ token: String, now: Date = Date()) throws(AuthenticationError) -> PayloadClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= maxTokenSize else {
            throw AuthenticationError(.malformed, "token of \(bytes.count) bytes exceeds the \(maxTokenSize)-byte limit")
        }
        let jwt = try CompactJWT(bytes)
        guard jwt.header.alg == "HS256" else {
            throw AuthenticationError(.badSignature, "alg \(jwt.header.alg.prefix(16)) is not allowed (HS256 only)")
        }
        guard jwt.header.crit == nil else {
            throw AuthenticationError(.malformed, "the JWT header has critical extensions (crit), which Payload never sets")
        }
        guard jwt.signature.count == SHA256.byteCount else {
            throw AuthenticationError(.malformed, "the JWT signature is not a base64url HS256 signature")
        }
        // Every key is tried, whichever verifies first, so the time taken does not tell which.
        var verified = false
        for key in keys where HMAC<SHA256>.isValidAuthenticationCode(jwt.signature, authenticating: jwt.signingInput, using: key.symmetricKey) {
            verified = true
        }
        guard verified else {
            throw AuthenticationError(.badSignature, "the HS256 signature does not verify with the key derived from PAYLOAD_SECRET")
        }
        let claims: PayloadClaims
        do {
            claims = try JSONDecoder().decode(PayloadClaims.self, from: Data(jwt.payload))
        } catch {
            throw AuthenticationError(.invalidClaims, "the claims lack a valid id, collection or exp")
        }
        try clock.check(exp: claims.exp, nbf: claims.nbf, now: now.timeIntervalSince1970)
        return claims
    }
}
