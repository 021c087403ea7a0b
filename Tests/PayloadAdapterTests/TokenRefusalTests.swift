import Foundation
import SMTACore
import SMTAPayload
import Testing

@Suite("Forged, expired and malformed Payload tokens are refused before any session lookup")
struct TokenRefusalTests {
    @Test("each forged or malformed token is refused with its precise kind", arguments: StoreKind.allCases)
    func refusals(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (sid, token) = try await fixture.signedInUser(id: .number(5), email: "e@example.com")
        let claims = PayloadTokenMinter.claims(id: 5, sid: sid)
        let parts = token.split(separator: ".").map(String.init)
        var tamperedClaims = claims
        tamperedClaims["id"] = 6
        let tampered = parts[0] + "." + PayloadTokenMinter.encode(try JSONSerialization.data(withJSONObject: tamperedClaims)) + "." + parts[2]
        let cases: [(String, String, AuthenticationError.Kind)] = [
            ("expired token", PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 5, sid: sid, lifetime: -120)), .expired),
            ("signed with the raw secret", PayloadTokenMinter.token(claims, key: Array(PayloadTokenMinter.secret.utf8)), .badSignature),
            ("signed with another secret's key", PayloadTokenMinter.token(claims, key: PayloadTokenMinter.derivedKey("another-secret")), .badSignature),
            ("alg HS512", PayloadTokenMinter.token(claims, header: #"{"alg":"HS512","typ":"JWT"}"#), .badSignature),
            ("alg none", PayloadTokenMinter.encode(Data(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + ".", .badSignature),
            ("tampered claims", tampered, .badSignature),
            ("garbage", "not-a-token", .malformed),
            ("bad base64", "%%%." + parts[1] + "." + parts[2], .malformed),
            ("oversized", parts[0] + "." + String(repeating: "A", count: 9000) + "." + parts[2], .malformed),
            ("unknown collection", PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 5, collection: "customers", sid: sid)), .invalidClaims),
            ("no sid", PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 5, sid: nil)), .invalidClaims),
            ("fractional id", PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 5.5, sid: sid)), .invalidClaims),
        ]
        try await fixture.withAdapter { adapter in
            let accepted = try await adapter.accepted(.jwt(token))
            #expect(accepted.link?.subject == "users:5")
            for (name, candidate, kind) in cases {
                let refusal = await adapter.refusal(.jwt(candidate))
                #expect(refusal?.kind == kind, "\(name)")
                #expect(refusal?.reason.contains(PayloadTokenMinter.secret) == false, "\(name)")
                #expect(refusal.map { !candidate.isEmpty && $0.reason.contains(candidate) } == false, "\(name)")
            }
        }
    }

    @Test("a token signed with a previous secret is accepted only while that secret is listed", arguments: StoreKind.allCases)
    func previousSecrets(store: StoreKind) async throws {
        let fixture = try await store.makeFixture()
        let (sid, _) = try await fixture.signedInUser(id: .number(9), email: "rotated@example.com")
        let oldToken = PayloadTokenMinter.token(
            PayloadTokenMinter.claims(id: 9, email: "rotated@example.com", sid: sid), key: PayloadTokenMinter.derivedKey("the-old-secret"))
        try await fixture.withAdapter(previousSecrets: ["unrelated", "the-old-secret"]) { adapter in
            let identity = try await adapter.accepted(.jwt(oldToken))
            #expect(identity.link?.subject == "users:9")
        }
        try await fixture.withAdapter { adapter in
            let refusal = await adapter.refusal(.jwt(oldToken))
            #expect(refusal?.kind == .badSignature)
            #expect(refusal?.reason.contains("the-old-secret") == false)
        }
        try await fixture.withAdapter(previousSecrets: ["unrelated"]) { adapter in
            #expect(await adapter.refusal(.jwt(oldToken))?.kind == .badSignature)
        }
    }

    @Test("a token within the leeway of its exp is still accepted")
    func leeway() throws {
        let verifier = PayloadTokenVerifier(key: PayloadSigningKey(secret: PayloadTokenMinter.secret), leeway: .seconds(30), maxTokenSize: 8192)
        let token = PayloadTokenMinter.token(PayloadTokenMinter.claims(id: 1, sid: "s", lifetime: -10))
        #expect(try verifier.verify(token).id == .number(1))
        let strict = PayloadTokenVerifier(key: PayloadSigningKey(secret: PayloadTokenMinter.secret), leeway: .zero, maxTokenSize: 8192)
        let error = #expect(throws: AuthenticationError.self) { try strict.verify(token) }
        #expect(error?.kind == .expired)
    }
}
