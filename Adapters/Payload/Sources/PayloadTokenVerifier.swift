import Crypto
import Foundation
import SMTACore

/// Verifies a Payload token as Payload does: a compact JWT, `alg` HS256 only, signed with the
/// key derived from `PAYLOAD_SECRET`, not expired (within a small leeway).
///
/// Works on the token's UTF-8 bytes; the signature is checked in constant time before any
/// claim is decoded.
public struct PayloadTokenVerifier: Sendable {
    private struct Header: Decodable {
        var alg: String
        var crit: [String]?
    }

    private let key: PayloadSigningKey
    private let leeway: Double
    private let maximumTokenSize: Int

    /// Creates a verifier.
    /// - Parameters:
    ///   - key: the key derived from the app's `PAYLOAD_SECRET`.
    ///   - leeway: seconds of clock skew tolerated on `exp`.
    ///   - maximumTokenSize: longer tokens are refused unread, in bytes.
    public init(key: PayloadSigningKey, leeway: Double, maximumTokenSize: Int) {
        self.key = key
        self.leeway = leeway
        self.maximumTokenSize = maximumTokenSize
    }

    /// Verifies `token` at time `now`.
    /// - Returns: the token's claims.
    /// - Throws: ``AuthenticationError`` — `malformed` (not a compact JWT, too large, claims
    ///   unreadable), `badSignature` (another algorithm, or a signature that does not verify),
    ///   `expired`.
    public func verify(_ token: String, now: Date = Date()) throws(AuthenticationError) -> PayloadClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= maximumTokenSize else {
            throw AuthenticationError(.malformed, "token of \(bytes.count) bytes exceeds the \(maximumTokenSize)-byte limit")
        }
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, !segments[0].isEmpty, !segments[1].isEmpty else {
            throw AuthenticationError(.malformed, "not a compact JWT (three dot-separated segments)")
        }
        guard let headerBytes = Base64URL.decode(segments[0]),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes))
        else {
            throw AuthenticationError(.malformed, "the JWT header is not base64url-encoded JSON with an alg")
        }
        guard header.alg == "HS256" else {
            throw AuthenticationError(.badSignature, "alg \(header.alg.prefix(16)) is not allowed (HS256 only)")
        }
        guard header.crit == nil else {
            throw AuthenticationError(.malformed, "the JWT header has critical extensions (crit), which Payload never sets")
        }
        guard let signature = Base64URL.decode(segments[2]), signature.count == SHA256.byteCount else {
            throw AuthenticationError(.malformed, "the JWT signature is not a base64url HS256 signature")
        }
        let signingInput = bytes[..<segments[1].endIndex]
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key.symmetricKey) else {
            throw AuthenticationError(.badSignature, "the HS256 signature does not verify with the key derived from PAYLOAD_SECRET")
        }
        guard let claimBytes = Base64URL.decode(segments[1]) else {
            throw AuthenticationError(.malformed, "the JWT claims are not base64url-encoded")
        }
        let claims: PayloadClaims
        do {
            claims = try JSONDecoder().decode(PayloadClaims.self, from: Data(claimBytes))
        } catch {
            throw AuthenticationError(.invalidClaims, "the claims lack a valid id, collection or exp")
        }
        guard claims.exp.isFinite, claims.exp + leeway > now.timeIntervalSince1970 else {
            throw AuthenticationError(.expired, "exp \(Int64(claims.exp.isFinite ? claims.exp : 0)) is past")
        }
        return claims
    }
}
