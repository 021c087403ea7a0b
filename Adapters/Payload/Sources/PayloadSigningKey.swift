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
}
