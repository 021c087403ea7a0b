import Crypto
import JWTKit

/// One key an adapter trusts, with the only algorithm it may verify.
///
/// Binding the algorithm to the key is what stops algorithm confusion: a token whose header
/// names another algorithm is refused before any signature check.
public struct VerificationKey: Sendable {
    /// How the signature is checked.
    public enum Material: Sendable {
        /// A shared secret (HMAC-SHA256), such as Supabase's legacy project secret.
        case hmacSHA256(SymmetricKey)
        /// A public key from the JWKS, as jwt-kit's verifier for exactly one algorithm.
        case publicKey(any JWTAlgorithm)
    }

    /// The JWS algorithm name this key verifies (`HS256`, `ES256`, `RS256`, …).
    public var algorithm: String
    /// The key itself.
    public var material: Material

    /// Creates a key that verifies `algorithm` only.
    public init(algorithm: String, material: Material) {
        self.algorithm = algorithm
        self.material = material
    }

    /// Whether `signature` is a valid signature of `signingInput` by this key.
    public func verifies(_ signature: [UInt8], of signingInput: ArraySlice<UInt8>) -> Bool {
        switch material {
        case .hmacSHA256(let key):
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key)
        case .publicKey(let verifier):
            return (try? verifier.verify(signature, signs: signingInput)) ?? false
        }
    }
}
