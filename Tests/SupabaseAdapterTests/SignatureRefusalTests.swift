import Foundation
import SMTACore
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("Forged or malformed Supabase tokens are refused")
struct SignatureRefusalTests {
    let claims = TokenMinter.userClaims()

    @Test("garbage in Authorization is malformed, and the refusal never echoes it")
    func garbage() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let garbage = [
            ("Bearer", "not-a-jwt"), ("Bearer", "abc.def"), ("Bearer", "abc.def.ghi.jkl"), ("Bearer", "!!!.???.***"),
            ("Bearer", ""), ("Basic", "dXNlcjpwYXNz"), ("Bearerx", "y.z"),
        ]
        for (scheme, credential) in garbage {
            let error = await adapter.refusal(Credentials(headers: [("Authorization", "\(scheme) \(credential)")]))
            #expect(error?.kind == .malformed, "\(scheme) \(credential)")
            if !credential.isEmpty {
                #expect(error.map { !$0.reason.contains(credential) } == true)
            }
        }
    }

    @Test("a header that is not JSON, or a payload that is not a claims object, is malformed")
    func notJSON() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let secret = Array(TokenMinter.secret.utf8)
        let badHeader = TokenMinter.mint(headerJSON: "HS256", payloadJSON: TokenMinter.json(claims), signer: .hs256(secret))
        let badPayload = TokenMinter.mint(headerJSON: #"{"alg":"HS256"}"#, payloadJSON: "[1,2]", signer: .hs256(secret))
        let wrongTypes = TokenMinter.mint(
            headerJSON: #"{"alg":"HS256"}"#, payloadJSON: #"{"role":"authenticated","exp":"tomorrow"}"#, signer: .hs256(secret))
        #expect(await adapter.refusal(badHeader)?.kind == .malformed)
        #expect(await adapter.refusal(badPayload)?.kind == .malformed)
        #expect(await adapter.refusal(wrongTypes)?.kind == .malformed)
    }

    @Test("alg none is refused, with or without a signature")
    func algNone() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let unsigned = TokenMinter.mint(alg: "none", claims: claims, signer: .unsigned)
        let signedAnyway = TokenMinter.mint(alg: "none", claims: claims, signer: .hs256(Array(TokenMinter.secret.utf8)))
        #expect(await adapter.refusal(unsigned)?.kind == .badSignature)
        #expect(await adapter.refusal(signedAnyway)?.kind == .badSignature)
    }

    @Test("an HS256 token signed with another secret is refused, and the refusal leaks neither")
    func wrongSecret() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let otherSecret = "another-secret-that-is-at-least-32-bytes-long"
        let token = TokenMinter.hs256(claims, secret: otherSecret)
        let error = try #require(await adapter.refusal(token))
        #expect(error.kind == .badSignature)
        for text in [error.reason, error.publicMessage, error.description] {
            #expect(!text.contains(token) && !text.contains(otherSecret) && !text.contains(TokenMinter.secret))
        }
    }

    @Test("an HS256 token signed with a JWKS public key's bytes is refused (HS/ES and HS/RS confusion)")
    func algorithmConfusion() async throws {
        let ec = try await TestSigningKey.es256(kid: "ec-1")
        let rsa = try await TestSigningKey.rs256(kid: "rsa-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([ec, rsa])))
        for key in [ec, rsa] {
            let withKid = TokenMinter.mint(alg: "HS256", kid: key.kid, claims: claims, signer: .hs256(Array(key.publicKeyPEM.utf8)))
            let withoutKid = TokenMinter.mint(alg: "HS256", claims: claims, signer: .hs256(Array(key.publicKeyPEM.utf8)))
            #expect(await adapter.refusal(withKid)?.kind == .badSignature)
            #expect(await adapter.refusal(withoutKid)?.kind == .badSignature)
        }
    }

    @Test("an ES256 token naming the RS256 key's kid is refused (alg bound to the key)")
    func algorithmMismatch() async throws {
        let ec = try await TestSigningKey.es256(kid: "ec-1")
        let rsa = try await TestSigningKey.rs256(kid: "rsa-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([rsa])))
        let error = await adapter.refusal(ec.token(claims, kid: "rsa-1"))
        #expect(error?.kind == .badSignature)
    }

    @Test("an asymmetric token with an unknown kid, or no kid, is refused")
    func unknownKid() async throws {
        let published = try await TestSigningKey.es256(kid: "ec-1")
        let stranger = try await TestSigningKey.es256(kid: "ec-stranger")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([published])))
        let noKid = TokenMinter.mint(alg: "ES256", claims: claims, signer: stranger.signer)
        #expect(await adapter.refusal(stranger.token(claims))?.kind == .badSignature)
        #expect(await adapter.refusal(noKid)?.kind == .badSignature)
        // The published key still works: the refusals were about the token, not the ring.
        #expect(await adapter.refusal(published.token(claims)) == nil)
    }

    @Test("a token naming a known kid but signed with another key is refused")
    func knownKidWrongKey() async throws {
        let published = try await TestSigningKey.es256(kid: "ec-1")
        let impostor = try await TestSigningKey.es256(kid: "ec-1")
        let rsaPublished = try await TestSigningKey.rs256(kid: "rsa-1")
        let rsaImpostor = try await TestSigningKey.rs256(kid: "rsa-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([published, rsaPublished])))
        #expect(await adapter.refusal(impostor.token(claims))?.kind == .badSignature)
        #expect(await adapter.refusal(rsaImpostor.token(claims))?.kind == .badSignature)
    }

    @Test("a tampered payload is refused for every algorithm")
    func tamperedPayload() async throws {
        let ec = try await TestSigningKey.es256(kid: "ec-1")
        let rsa = try await TestSigningKey.rs256(kid: "rsa-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([ec, rsa])))
        var escalated = claims
        escalated["role"] = "service_role"
        let forgedPayload = TokenMinter.base64URL(Array(TokenMinter.json(escalated).utf8))
        for token in [TokenMinter.hs256(claims), ec.token(claims), rsa.token(claims)] {
            #expect(await adapter.refusal(token) == nil)
            let parts = token.split(separator: ".")
            let tampered = "\(parts[0]).\(forgedPayload).\(parts[2])"
            #expect(await adapter.refusal(tampered)?.kind == .badSignature)
        }
    }

    @Test("a token larger than the limit is refused before parsing")
    func oversized() async throws {
        let adapter = try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: TokenMinter.secret, maxTokenSize: 2048))
        var claims = claims
        claims["user_metadata"] = ["padding": String(repeating: "x", count: 4096)]
        let token = TokenMinter.hs256(claims)
        let error = await adapter.refusal(token)
        #expect(error?.kind == .malformed)
        #expect(error?.reason.contains("limit") == true || error?.reason.contains("longer") == true)
        #expect(await adapter.refusal(TokenMinter.hs256(TokenMinter.userClaims())) == nil)
    }
}
