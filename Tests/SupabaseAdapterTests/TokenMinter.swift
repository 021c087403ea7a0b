import Crypto
import CryptoExtras
import Foundation
import JWTKit
import SMTACore
import SMTASupabase

/// Mints Supabase-shaped tokens by hand (header, payload and signature built byte by byte), so a
/// test can produce exactly the forgery it needs.
struct TokenMinter: Sendable {
    /// How a token is signed.
    enum Signer: Sendable {
        /// HMAC-SHA256 with these key bytes.
        case hs256([UInt8])
        /// A jwt-kit private key algorithm (ES256, RS256, …).
        case key(any JWTAlgorithm)
        /// No signature at all.
        case unsigned
    }

    /// The project's legacy secret in these tests (Supabase's local CLI secret).
    static let secret = "super-secret-jwt-token-with-at-least-32-characters-long"

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// A GoTrue access token's claims for a fresh user, issued now, valid one hour.
    static func userClaims(
        sub: String = "8d0fd2b3-9ca7-4d9e-a95f-9e13dded323e", now: Date = Date()
    ) -> [String: Any] {
        let iat = Int(now.timeIntervalSince1970)
        return [
            "iss": "http://127.0.0.1:54321/auth/v1", "sub": sub, "aud": "authenticated",
            "exp": iat + 3600, "iat": iat, "email": "ada@example.com", "phone": "",
            "app_metadata": ["provider": "email", "providers": ["email"]],
            "user_metadata": ["name": "Ada"], "role": "authenticated", "aal": "aal1",
            "amr": [["method": "password", "timestamp": iat]],
            "session_id": "0b3f8f2e-6a53-4f4e-9d0b-3c8f5c1e2a71", "is_anonymous": false,
        ]
    }

    /// A Supabase API-key token (`anon` or `service_role`): no sub, no aud.
    static func apiKeyClaims(role: String) -> [String: Any] {
        let iat = Int(Date().timeIntervalSince1970)
        return ["iss": "supabase-demo", "role": role, "iat": iat, "exp": iat + 10 * 365 * 86400]
    }

    /// Builds `header.payload.signature` from raw JSON texts.
    static func mint(headerJSON: String, payloadJSON: String, signer: Signer) -> String {
        let signingInput = base64URL(Array(headerJSON.utf8)) + "." + base64URL(Array(payloadJSON.utf8))
        let signature: [UInt8]
        switch signer {
        case .hs256(let key):
            signature = Array(HMAC<SHA256>.authenticationCode(
                for: Array(signingInput.utf8), using: SymmetricKey(data: key)))
        case .key(let algorithm):
            signature = try! algorithm.sign(Array(signingInput.utf8))
        case .unsigned:
            signature = []
        }
        return signingInput + "." + base64URL(signature)
    }

    /// Builds a token from a header and claims.
    static func mint(alg: String, kid: String? = nil, claims: [String: Any], signer: Signer) -> String {
        var header: [String: Any] = ["alg": alg, "typ": "JWT"]
        if let kid { header["kid"] = kid }
        return mint(headerJSON: json(header), payloadJSON: json(claims), signer: signer)
    }

    /// An HS256 token signed with the project secret.
    static func hs256(_ claims: [String: Any], secret: String = TokenMinter.secret) -> String {
        mint(alg: "HS256", claims: claims, signer: .hs256(Array(secret.utf8)))
    }

    /// Credentials carrying `Authorization: Bearer <token>`.
    static func bearer(_ token: String) -> Credentials {
        Credentials(headers: [(name: "Authorization", value: "Bearer \(token)")])
    }
}

/// A signing key generated for a test, with its public JWK.
struct TestSigningKey: Sendable {
    /// The key id published in the JWKS and written in token headers.
    var kid: String
    /// The algorithm name (`ES256`, `RS256`).
    var alg: String
    /// The private key, as a signer.
    var signer: TokenMinter.Signer
    /// The public JWK as a JSON object (with Supabase's `use` and `key_ops`).
    var publicJWK: [String: Any] { jwk }
    /// The public key bytes as a PEM text (what an HS/ES confusion attack would use as the secret).
    var publicKeyPEM: String
    private let jwk: [String: any Sendable]

    /// A fresh P-256 key.
    static func es256(kid: String) async throws -> TestSigningKey {
        let privateKey = ES256PrivateKey()
        let coordinates = privateKey.publicKey.parameters!
        let jwk: [String: any Sendable] = [
            "kty": "EC", "crv": "P-256", "alg": "ES256", "kid": kid, "use": "sig", "key_ops": ["verify"],
            "ext": true, "x": coordinates.x, "y": coordinates.y,
        ]
        let collection = await JWTKeyCollection().add(ecdsa: privateKey)
        return TestSigningKey(
            kid: kid, alg: "ES256", signer: .key(try await collection.getKey()),
            publicKeyPEM: privateKey.publicKey.pemRepresentation, jwk: jwk)
    }

    /// A fresh 2048-bit RSA key.
    static func rs256(kid: String) async throws -> TestSigningKey {
        let backing = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let privateKey = try Insecure.RSA.PrivateKey(backing: backing)
        let (modulus, exponent) = try privateKey.publicKey.getKeyPrimitives()
        let jwk: [String: any Sendable] = [
            "kty": "RSA", "alg": "RS256", "kid": kid, "use": "sig", "key_ops": ["verify"],
            "n": TokenMinter.base64URL(modulus), "e": TokenMinter.base64URL(exponent),
        ]
        let collection = await JWTKeyCollection().add(rsa: privateKey, digestAlgorithm: .sha256)
        return TestSigningKey(
            kid: kid, alg: "RS256", signer: .key(try await collection.getKey()),
            publicKeyPEM: backing.publicKey.pemRepresentation, jwk: jwk)
    }

    /// A token signed with this key, its `kid` in the header.
    func token(_ claims: [String: Any], kid: String? = nil) -> String {
        TokenMinter.mint(alg: alg, kid: kid ?? self.kid, claims: claims, signer: signer)
    }

    /// A JWKS document publishing `keys`.
    static func jwks(_ keys: [TestSigningKey]) -> Data {
        try! JSONSerialization.data(withJSONObject: ["keys": keys.map(\.publicJWK)])
    }
}
