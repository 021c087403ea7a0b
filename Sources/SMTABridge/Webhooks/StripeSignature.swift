import Crypto
import SMTACore

/// Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each
/// `v1` the hex HMAC-SHA256 of `"<t>.<raw body>"` with the endpoint's signing secret.
///
/// A delivery is accepted when its timestamp is within the tolerance of now (300 s, Stripe's
/// default) and some `v1` matches some configured secret — several of either appear while a
/// secret is being rolled. Comparisons are constant-time.
struct StripeSignature: Sendable {
    /// The endpoint's signing secrets (`whsec_…`), current first.
    let secrets: [String]
    /// The largest accepted distance between the signed timestamp and now, in seconds.
    let tolerance: Int64

    /// Creates a verifier; `secrets` must not be empty.
    init(secrets: [String], tolerance: Int64 = 300) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// Checks `header` against `body` at `now` (unix seconds).
    /// - Throws: ``WebhookRefusal`` naming what is missing, malformed, stale or wrong.
    func verify(header: String?, body: [UInt8], now: Int64) throws(WebhookRefusal) {
        guard let header, !header.isEmpty else {
            throw WebhookRefusal("no Stripe-Signature header")
        }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw WebhookRefusal("malformed Stripe-Signature header") }
            let key = parts[0].trimmingPrefix(" ")
            switch key {
            case "t":
                guard timestamp == nil, let value = Int64(parts[1]) else {
                    throw WebhookRefusal("malformed timestamp in Stripe-Signature")
                }
                timestamp = value
            case "v1":
                signatures.append(Array(parts[1].utf8))
            default:
                continue  // v0 and future schemes are not ours to check
            }
        }
        guard let timestamp else { throw WebhookRefusal("no timestamp in Stripe-Signature") }
        guard !signatures.isEmpty else { throw WebhookRefusal("no v1 signature in Stripe-Signature") }
        guard abs(now - timestamp) <= tolerance else {
            throw WebhookRefusal("timestamp outside the \(tolerance) s tolerance (\(now - timestamp) s off)")
        }
        let signed = Array("\(timestamp).".utf8) + body
        for secret in secrets {
            let expected = ConstantTime.hex(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8))))
            var matched = false
            for signature in signatures {
                matched = ConstantTime.equal(signature, expected) || matched
            }
            if matched { return }
        }
        throw WebhookRefusal("no v1 signature matches a configured secret")
    }
}
