import Crypto
import Foundation
import SMTACore

/// Development credentials, signed as each platform signs its own (HS256; ES256 for the demo
/// OIDC issuer).
enum DevToken {
    /// A Payload token for a `users` session: claims in Payload's order, key derived from
    /// `PAYLOAD_SECRET` as Payload derives it.
    static func payload(id: Int, email: String, sid: String, secret: String, lifetime: TimeInterval) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = "{\"id\":\(id),\"collection\":\"users\",\"email\":\(json(email)),\"sid\":\(json(sid)),"
            + "\"iat\":\(now),\"exp\":\(now + Int(lifetime))}"
        let digest = SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        return sign(claims, key: Array(digest.prefix(32).utf8))
    }

    /// A Supabase access token as Supabase Auth issues one for a signed-in user.
    static func supabase(userID: UUID, email: String, secret: String, lifetime: TimeInterval) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = "{\"aud\":\"authenticated\",\"exp\":\(now + Int(lifetime)),\"iat\":\(now),"
            + "\"sub\":\"\(userID.uuidString.lowercased())\",\"email\":\(json(email)),\"role\":\"authenticated\","
            + "\"aal\":\"aal1\",\"session_id\":\"\(UUID().uuidString.lowercased())\",\"is_anonymous\":false}"
        return sign(claims, key: Array(secret.utf8))
    }

    /// An access token of the demo OIDC issuer: ES256 with key id `smta-dev`, subject
    /// `dev|<email>`, the email marked verified.
    static func oidc(email: String, issuer: String, key: P256.Signing.PrivateKey, lifetime: TimeInterval) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = "{\"iss\":\(json(issuer)),\"sub\":\(json("dev|" + email.lowercased())),\"aud\":\"smta-dev\","
            + "\"iat\":\(now),\"exp\":\(now + Int(lifetime)),\"email\":\(json(email)),\"email_verified\":true}"
        let input = Base64URL.encode(Array(#"{"alg":"ES256","kid":"smta-dev","typ":"JWT"}"#.utf8)) + "."
            + Base64URL.encode(Array(claims.utf8))
        // Signing with a valid P-256 key cannot fail.
        let signature = try! key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// The demo OIDC issuer's JWKS: the public half of `key`, key id `smta-dev`.
    static func oidcJWKS(for key: P256.Signing.PrivateKey) -> Data {
        let point = Array(key.publicKey.x963Representation.dropFirst())
        let x = Base64URL.encode(Array(point.prefix(32)))
        let y = Base64URL.encode(Array(point.suffix(32)))
        return Data(#"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"smta-dev","x":"\#(x)","y":"\#(y)"}]}"#.utf8)
    }

    /// A stable user id for `email` in the development Supabase project.
    static func supabaseUserID(email: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Array("smta-dev:\(email.lowercased())".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x40  // version 4 layout, so any UUID check accepts it
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    private static func sign(_ claims: String, key: [UInt8]) -> String {
        let input = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: key))
        return input + "." + Base64URL.encode(Array(signature))
    }

    private static func json(_ text: String) -> String {
        // Encoding a single string cannot fail.
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}
