import Crypto
import Foundation

/// Mints Payload-shaped tokens the way Payload does (HS256 with the key derived from the
/// secret), written independently of the adapter's own code.
enum PayloadTokenMinter {
    /// The app secret the fixtures use; Payload derives `b9d60e6263b9fcdd1a7992d5911a6918` from it.
    static let secret = "test-secret-please-change"

    /// Payload's key: the first 32 characters of the lowercase hex SHA-256 of the secret.
    static func derivedKey(_ secret: String = secret) -> [UInt8] {
        let hex = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        return Array(hex.prefix(32).utf8)
    }

    /// Payload's claims, in Payload's order, issued now and valid for `lifetime` seconds.
    static func claims(
        id: Any, collection: String = "users", email: String = "someone@example.com", sid: String?,
        lifetime: TimeInterval = 7200
    ) -> [String: Any] {
        let issuedAt = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["id": id, "collection": collection, "email": email]
        claims["sid"] = sid
        claims["iat"] = issuedAt
        claims["exp"] = issuedAt + Int(lifetime)
        return claims
    }

    /// A compact JWS of `claims` signed with HMAC-SHA256 and `key`, under `header`.
    static func token(
        _ claims: [String: Any], key: [UInt8] = derivedKey(), header: String = #"{"alg":"HS256","typ":"JWT"}"#
    ) -> String {
        let claimsJSON = try! JSONSerialization.data(withJSONObject: claims)
        let signingInput = encode(Data(header.utf8)) + "." + encode(claimsJSON)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: key))
        return signingInput + "." + encode(Data(signature))
    }

    /// The `api_key_index` Payload's `apiKeyIndex` hook writes for `apiKey`: the lowercase hex
    /// HMAC (SHA-256 since Payload 3.46, SHA-1 before) of the key, keyed with the derived key.
    static func apiKeyIndex(_ apiKey: String, secret: String = secret, sha1: Bool = false) -> String {
        let key = SymmetricKey(data: derivedKey(secret))
        let code: [UInt8] =
            sha1
            ? Array(HMAC<Insecure.SHA1>.authenticationCode(for: Data(apiKey.utf8), using: key))
            : Array(HMAC<SHA256>.authenticationCode(for: Data(apiKey.utf8), using: key))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Unpadded base64url.
    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
