import Crypto
import JWTKit

/// One key the adapter trusts, with the only algorithm it may verify.
///
/// Binding the algorithm to the key is what stops algorithm confusion: a token whose header
/// names another algorithm is refused before any signature check.
struct VerificationKey: Sendable {
    /// How the signature is checked.
    enum Material: Sendable {
        /// The legacy project secret (HMAC-SHA256 over the secret's UTF-8 bytes).
        case hmacSHA256(SymmetricKey)
        /// A public key from the JWKS, as jwt-kit's verifier for exactly one algorithm.
        case publicKey(any JWTAlgorithm)
    }

    /// The JWS algorithm name this key verifies (`HS256`, `ES256`, `RS256`, …).
    var algorithm: String
    /// The key itself.
    var material: Material

    /// Whether `signature` is a valid signature of `signingInput` by this key.
    func verifies(_ signature: [UInt8], of signingInput: ArraySlice<UInt8>) -> Bool {
        switch material {
        case .hmacSHA256(let key):
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
        case .publicKey(let verifier):
            return (try? verifier.verify(signature, signs: signingInput)) ?? false
        }
    }
}
