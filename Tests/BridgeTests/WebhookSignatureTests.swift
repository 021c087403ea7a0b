import Crypto
import SMTACore
import Testing

@testable import SMTABridge

@Suite("Webhook signatures are checked on the raw bytes, in constant time, within Stripe's tolerance")
struct WebhookSignatureTests {
    private let body = Array(#"{"id":"evt_1","type":"customer.subscription.updated"}"#.utf8)
    private let now: Int64 = 1_800_000_000

    private func stripeV1(_ secret: String, timestamp: Int64, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return String(decoding: ConstantTime.hex(mac), as: UTF8.self)
    }

    private func stripeRefusal(_ header: String?, secrets: [String] = ["whsec_new"], body: [UInt8]? = nil) -> String? {
        do {
            try StripeSignature(secrets: secrets).verify(header: header, body: body ?? self.body, now: now)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("a Stripe signature by a configured secret within 300 s verifies, also beside others")
    func stripeAccepts() {
        let good = stripeV1("whsec_new", timestamp: now - 299, body: body)
        #expect(stripeRefusal("t=\(now - 299),v1=\(good)") == nil)
        #expect(stripeRefusal("t=\(now - 299),v1=\(String(repeating: "0", count: 64)),v0=abc,v1=\(good)") == nil)
        let old = stripeV1("whsec_old", timestamp: now, body: body)
        #expect(stripeRefusal("t=\(now),v1=\(old)", secrets: ["whsec_new", "whsec_old"]) == nil)
    }

    @Test("Stripe: missing, malformed, stale, future, wrong-secret and tampered deliveries are refused")
    func stripeRefuses() {
        let good = stripeV1("whsec_new", timestamp: now, body: body)
        #expect(stripeRefusal(nil) == "no Stripe-Signature header")
        #expect(stripeRefusal("garbage") != nil)
        #expect(stripeRefusal("t=\(now)") == "no v1 signature in Stripe-Signature")
        #expect(stripeRefusal("v1=\(good)") == "no timestamp in Stripe-Signature")
        #expect(stripeRefusal("t=soon,v1=\(good)") != nil)
        #expect(stripeRefusal("t=\(now - 301),v1=\(stripeV1("whsec_new", timestamp: now - 301, body: body))")?.contains("tolerance") == true)
        #expect(stripeRefusal("t=\(now + 301),v1=\(stripeV1("whsec_new", timestamp: now + 301, body: body))")?.contains("tolerance") == true)
        #expect(stripeRefusal("t=\(now),v1=\(stripeV1("whsec_other", timestamp: now, body: body))") != nil)
        #expect(stripeRefusal("t=\(now),v1=\(good)", body: body + Array(" ".utf8)) != nil)
        #expect(stripeRefusal("t=\(now - 1),v1=\(good)") != nil, "the timestamp is part of what is signed")
    }

    @Test("Lemon Squeezy: the hex HMAC of the body verifies; anything else is refused")
    func lemonSqueezy() throws {
        let verifier = LemonSqueezySignature(secrets: ["lemon"])
        let good = String(decoding: ConstantTime.hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("lemon".utf8)))), as: UTF8.self)
        try verifier.verify(header: good, body: body)
        try verifier.verify(header: good.uppercased(), body: body)
        #expect(throws: WebhookRefusal.self) { try verifier.verify(header: nil, body: body) }
        #expect(throws: WebhookRefusal.self) { try verifier.verify(header: "zz", body: body) }
        #expect(throws: WebhookRefusal.self) { try verifier.verify(header: good, body: body + [0x20]) }
        #expect(throws: WebhookRefusal.self) { try LemonSqueezySignature(secrets: ["other"]).verify(header: good, body: body) }
    }

    @Test("a Lemon Squeezy event id is the same for the same body and differs otherwise")
    func lemonSqueezyEventID() {
        #expect(LemonSqueezySignature.eventID(of: body) == LemonSqueezySignature.eventID(of: body))
        #expect(LemonSqueezySignature.eventID(of: body) != LemonSqueezySignature.eventID(of: body + [0x20]))
        #expect(LemonSqueezySignature.eventID(of: body).hasPrefix("ls_"))
    }
}
