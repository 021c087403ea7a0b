import Crypto
import SMTACore

/// Lemon Squeezy's webhook signature: `X-Signature`, the hex HMAC-SHA256 of the raw body with
/// the webhook's signing secret. Compared in constant time (upstream SMTA's `!==` was not).
struct LemonSqueezySignature: Sendable {
    /// The signing secrets, current first (several while one is being replaced).
    let secrets: [String]

    /// Checks `header` against `body`.
    /// - Throws: ``WebhookRefusal`` when the header is missing, not hex, or matches no secret.
    func verify(header: String?, body: [UInt8]) throws(WebhookRefusal) {
        guard let header, !header.isEmpty else {
            throw WebhookRefusal("no X-Signature header")
        }
        let given = Array(header.lowercased().utf8)
        guard given.count == 64, given.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw WebhookRefusal("X-Signature is not a hex SHA-256 HMAC")
        }
        var matched = false
        for secret in secrets {
            let expected = ConstantTime.hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
            matched = ConstantTime.equal(given, expected) || matched
        }
        guard matched else { throw WebhookRefusal("X-Signature matches no configured secret") }
    }

    /// The ledger key of a delivery: Lemon Squeezy sends no event id, and a redelivery repeats
    /// the same body, so the body's SHA-256 identifies the event.
    static func eventID(of body: [UInt8]) -> String {
        "ls_" + String(decoding: ConstantTime.hex(SHA256.hash(data: body)), as: UTF8.self)
    }
}
