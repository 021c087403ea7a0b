import Foundation
import JWTKit

/// A JSON Web Key Set as issuers publish it (`{"keys":[{kty, kid, alg, crv, x, y, use,
/// key_ops}]}`), read leniently: a key an adapter cannot use (no `kid`, an encryption key, a
/// symmetric key, an algorithm outside the allow-list) is skipped, not fatal to the others.
struct JWKSDocument: Decodable, Sendable {
    /// One entry of `keys`, or nil when it is not a usable verification key.
    struct Entry: Decodable, Sendable {
        /// The usage fields jwt-kit's ``JWK`` does not expose.
        private struct Usage: Decodable {
            var use: String?
            var key_ops: [String]?
        }

        /// The key, when it parsed as a JWK meant for verifying signatures.
        var jwk: JWK?

        init(from decoder: any Decoder) throws {
            let usage = try? Usage(from: decoder)
            if let use = usage?.use, use != "sig" {
                jwk = nil
            } else if let operations = usage?.key_ops, !operations.contains("verify") {
                jwk = nil
            } else {
                jwk = try? JWK(from: decoder)
            }
        }
    }

    /// The entries in document order.
    var keys: [Entry]

    /// Parses `data`.
    /// - Throws: when it is not a JSON object with a `keys` array.
    init(data: Data) throws {
        self = try JSONDecoder().decode(JWKSDocument.self, from: data)
    }

    /// The verification keys by `kid`, each bound to its one algorithm. A later duplicate `kid`
    /// does not replace an earlier one.
    func verificationKeys() async -> [String: VerificationKey] {
        var result: [String: VerificationKey] = [:]
        for entry in keys {
            guard let jwk = entry.jwk, let kid = jwk.keyIdentifier?.string, !kid.isEmpty,
                result[kid] == nil, let algorithm = Self.algorithm(of: jwk)
            else { continue }
            let collection = JWTKeyCollection()
            guard (try? await collection.add(jwk: jwk, isDefault: true)) != nil,
                let verifier = try? await collection.getKey(alg: algorithm)
            else { continue }
            result[kid] = VerificationKey(algorithm: algorithm, material: .publicKey(verifier))
        }
        return result
    }

    /// The one algorithm a key may verify: its `alg` when that fits its type and curve,
    /// otherwise the algorithm its type and curve imply; nil for anything outside the allow-list.
    static func algorithm(of jwk: JWK) -> String? {
        let implied: Set<String>
        switch (jwk.keyType, jwk.curve?.rawValue) {
        case (.ecdsa, "P-256"): implied = ["ES256"]
        case (.ecdsa, "P-384"): implied = ["ES384"]
        case (.ecdsa, "P-521"): implied = ["ES512"]
        case (.rsa, _): implied = ["RS256", "RS384", "RS512"]
        case (.octetKeyPair, "Ed25519"): implied = ["EdDSA"]
        default: return nil
        }
        if let declared = jwk.algorithm?.rawValue {
            return implied.contains(declared) ? declared : nil
        }
        return implied.count == 1 ? implied.first : "RS256"
    }
}
