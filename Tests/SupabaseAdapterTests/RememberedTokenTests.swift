import Foundation
import SMTACore
import SMTASupabase
import SMTATestSupport
import Testing

/// The adapter remembers tokens it accepted (`VerifiedTokenCache`); these are the refusals that
/// must survive it.
@Suite("A token accepted once is judged again when it is forged from, or its key withdrawn")
struct RememberedTokenTests {
    let claims = TokenMinter.userClaims()

    @Test("a copy of an accepted token with one signature byte changed is refused")
    func alteredCopyIsRefused() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let token = TokenMinter.hs256(claims)
        #expect(await adapter.refusal(token) == nil)
        #expect(await adapter.refusal(token) == nil)
        var altered = Array(token.utf8)
        // A character inside the signature, changed to another base64url character: all six of
        // its bits are signature bits. (The last character's two low bits are padding, which
        // the decoder requires to be zero: changing them makes the token malformed, not forged.)
        let inside = altered.count - 10
        altered[inside] = altered[inside] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(await adapter.refusal(String(decoding: altered, as: UTF8.self))?.kind == .badSignature)
    }

    @Test("a token accepted under a key the JWKS then withdraws is refused once the new set is loaded")
    func withdrawnKey() async throws {
        let old = try await TestSigningKey.es256(kid: "key-1")
        let new = try await TestSigningKey.es256(kid: "key-2")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([old, new]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        try await adapter.loadKeys()
        let token = old.token(claims)
        #expect(await adapter.refusal(token) == nil)
        #expect(await adapter.refusal(token) == nil)

        await jwks.publish(TestSigningKey.jwks([new]))
        try await adapter.loadKeys()
        #expect(await adapter.refusal(token)?.kind == .badSignature)
        #expect(await adapter.refusal(new.token(claims)) == nil)
    }
}
