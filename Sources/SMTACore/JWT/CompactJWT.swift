import Foundation

/// A JWS in compact serialization (`header.payload.signature`), split and decoded but not yet
/// verified. Nothing in it may be trusted until its signature has been checked.
public struct CompactJWT: Sendable {
    /// The protected header fields the verifier reads.
    public struct Header: Decodable, Sendable {
        /// The signing algorithm the token claims (`HS256`, `ES256`, `RS256`, …).
        public var alg: String
        /// The key id, when the issuer names its key.
        public var kid: String?
        /// Critical extensions: none is understood, so any presence refuses the token.
        public var crit: [String]?
    }

    /// The decoded header.
    public var header: Header
    /// The bytes the signature covers: `base64url(header) "." base64url(payload)`.
    public var signingInput: ArraySlice<UInt8>
    /// The decoded payload: the claims object as the issuer wrote it.
    public var payload: [UInt8]
    /// The decoded signature.
    public var signature: [UInt8]

    /// Splits and decodes `token`.
    /// - Throws: ``AuthenticationError`` (`malformed`) when it is not three base64url segments
    ///   with a JSON header.
    public init(_ token: [UInt8]) throws(AuthenticationError) {
        let dot = UInt8(ascii: ".")
        guard let firstDot = token.firstIndex(of: dot),
            let secondDot = token[(firstDot + 1)...].firstIndex(of: dot),
            !token[(secondDot + 1)...].contains(dot)
        else {
            throw AuthenticationError(.malformed, "token is not three dot-separated segments")
        }
        guard let headerBytes = Base64URL.decode(token[..<firstDot]) else {
            throw AuthenticationError(.malformed, "token header is not base64url")
        }
        guard let payload = Base64URL.decode(token[(firstDot + 1)..<secondDot]), !payload.isEmpty else {
            throw AuthenticationError(.malformed, "token payload is not base64url")
        }
        guard let signature = Base64URL.decode(token[(secondDot + 1)...]) else {
            throw AuthenticationError(.malformed, "token signature is not base64url")
        }
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw AuthenticationError(.malformed, "token header is not a JSON object with a string alg")
        }
        signingInput = token[..<secondDot]
        self.payload = payload
        self.signature = signature
    }
}
