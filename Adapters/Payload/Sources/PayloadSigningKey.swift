import Crypto

/// The HMAC key Payload signs its tokens with, derived from the app's `PAYLOAD_SECRET`.
///
/// Payload hashes the secret with SHA-256, writes the digest as lowercase hex and keeps the
/// first 32 characters; those 32 ASCII characters are the key (they are not hex-decoded).
/// The secret `test-secret-please-change` gives the key `b9d60e6263b9fcdd1a7992d5911a6918`.
public struct PayloadSigningKey: Sendable {
    /// The derived key.
    let symmetricKey: SymmetricKey

    /// Derives the key from `secret`, the app's `PAYLOAD_SECRET`.
    public init(secret: String) {
        let digest = SHA256.hash(data: Array(secret.utf8))
        let hexDigits = Array("0123456789abcdef".utf8)
        var keyBytes: [UInt8] = []
        keyBytes.reserveCapacity(32)
        for byte in digest.prefix(16) {
            keyBytes.append(hexDigits[Int(byte >> 4)])
            keyBytes.append(hexDigits[Int(byte & 0x0f)])
        }
        self.symmetricKey = SymmetricKey(data: keyBytes)
    }

    /// The `api_key_index` values Payload may have stored for `apiKey` under this key, as
    /// lowercase hex: HMAC-SHA256 of the key with this secret (Payload 3.46 and later), then
    /// HMAC-SHA1 (keys last saved before 3.46, which Payload 3 still accepts).
    public func apiKeyIndexes(of apiKey: String) -> [String] {
        let message = Array(apiKey.utf8)
        return [
            Self.hex(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey)),
            Self.hex(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: symmetricKey)),
        ]
    }

    private static func hex<Code: MessageAuthenticationCode>(_ code: Code) -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in code {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
