import Foundation
import SMTACore
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("Supabase user tokens that must be accepted")
struct AcceptedUserTokenTests {
    let userID = UUID(uuidString: "8d0fd2b3-9ca7-4d9e-a95f-9e13dded323e")!

    @Test("an HS256 token signed with the project secret yields the user, email and role")
    func hs256() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let identity = try await adapter.identify(TokenMinter.bearer(TokenMinter.hs256(TokenMinter.userClaims())))
        #expect(identity.userID == userID)
        #expect(identity.email == "ada@example.com")
        #expect(identity.role == .authenticated)
        #expect(identity.source == "supabase")
        #expect(identity.link == nil)
    }

    @Test("an ES256 token whose kid names a JWKS key is accepted")
    func es256() async throws {
        let key = try await TestSigningKey.es256(kid: "ec-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([key])), secret: nil)
        let identity = try await adapter.identify(TokenMinter.bearer(key.token(TokenMinter.userClaims())))
        #expect(identity.userID == userID)
        #expect(identity.role == .authenticated)
    }

    @Test("an RS256 token whose kid names a JWKS key is accepted")
    func rs256() async throws {
        let key = try await TestSigningKey.rs256(kid: "rsa-1")
        let adapter = try SupabaseAdapter.forTests(jwks: InMemoryJWKS(TestSigningKey.jwks([key])))
        let identity = try await adapter.identify(TokenMinter.bearer(key.token(TokenMinter.userClaims())))
        #expect(identity.userID == userID)
    }

    @Test("the claims JSON is exactly the token's payload, role included")
    func claimsPassThrough() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let payload = TokenMinter.json(TokenMinter.userClaims())
        let token = TokenMinter.mint(
            headerJSON: #"{"alg":"HS256","typ":"JWT"}"#, payloadJSON: payload,
            signer: .hs256(Array(TokenMinter.secret.utf8)))
        let identity = try await adapter.identify(TokenMinter.bearer(token))
        #expect(identity.claimsJSON == payload)
        let object = try JSONSerialization.jsonObject(with: Data(identity.claimsJSON.utf8)) as? [String: Any]
        #expect(object?["role"] as? String == "authenticated")
        #expect((object?["app_metadata"] as? [String: Any])?["provider"] as? String == "email")
    }

    @Test("an empty email claim means no email")
    func emptyEmail() async throws {
        var claims = TokenMinter.userClaims()
        claims["email"] = ""
        let identity = try await SupabaseAdapter.forTests().identify(TokenMinter.bearer(TokenMinter.hs256(claims)))
        #expect(identity.email == nil)
        #expect(identity.userID == userID)
    }

    @Test("aud may be an array containing the expected audience")
    func audienceArray() async throws {
        var claims = TokenMinter.userClaims()
        claims["aud"] = ["other", "authenticated"]
        let identity = try await SupabaseAdapter.forTests().identify(TokenMinter.bearer(TokenMinter.hs256(claims)))
        #expect(identity.role == .authenticated)
    }

    @Test("the configured issuer is accepted, and the Bearer scheme is case-insensitive")
    func issuerAndScheme() async throws {
        let adapter = try SupabaseAdapter.forTests(issuer: "http://127.0.0.1:54321/auth/v1")
        let token = TokenMinter.hs256(TokenMinter.userClaims())
        let identity = try await adapter.identify(Credentials(headers: [("authorization", "bearer \(token)")]))
        #expect(identity.userID == userID)
    }

    @Test("an HS256 token with a kid unknown to the JWKS falls back to the legacy secret, as GoTrue does")
    func hs256WithUnknownKid() async throws {
        let key = try await TestSigningKey.es256(kid: "ec-1")
        let jwks = InMemoryJWKS(TestSigningKey.jwks([key]))
        let adapter = try SupabaseAdapter.forTests(jwks: jwks)
        let token = TokenMinter.mint(
            alg: "HS256", kid: "legacy", claims: TokenMinter.userClaims(), signer: .hs256(Array(TokenMinter.secret.utf8)))
        #expect(try await adapter.identify(TokenMinter.bearer(token)).userID == userID)
        #expect(await jwks.fetchCount == 0)
    }
}
