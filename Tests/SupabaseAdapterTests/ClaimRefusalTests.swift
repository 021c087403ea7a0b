import Foundation
import SMTACore
import SMTASupabase
import Testing

@Suite("Validly signed Supabase tokens with unacceptable claims are refused")
struct ClaimRefusalTests {
    func refusal(_ change: (inout [String: Any]) -> Void, issuer: String? = nil) async throws -> AuthenticationError? {
        var claims = TokenMinter.userClaims()
        change(&claims)
        return try await SupabaseAdapter.forTests(issuer: issuer).refusal(TokenMinter.hs256(claims))
    }

    var now: Int { Int(Date().timeIntervalSince1970) }

    @Test("an expired token is refused beyond the leeway and accepted within it")
    func expired() async throws {
        let now = now
        #expect(try await refusal { $0["exp"] = now - 120; $0["iat"] = now - 3720 }?.kind == .expired)
        #expect(try await refusal { $0["exp"] = now - 10 } == nil)
    }

    @Test("a user token without exp is refused")
    func missingExp() async throws {
        #expect(try await refusal { $0["exp"] = nil }?.kind == .invalidClaims)
    }

    @Test("a token whose nbf is in the future is not yet valid")
    func notBefore() async throws {
        let now = now
        #expect(try await refusal { $0["nbf"] = now + 600 }?.kind == .notYetValid)
        #expect(try await refusal { $0["nbf"] = now + 5 } == nil)
    }

    @Test("a token issued in the future is not yet valid")
    func futureIssuedAt() async throws {
        let now = now
        #expect(try await refusal { $0["iat"] = now + 600; $0["exp"] = now + 4200 }?.kind == .notYetValid)
    }

    @Test("a user token for another audience, or without one, is refused")
    func wrongAudience() async throws {
        #expect(try await refusal { $0["aud"] = "anon" }?.kind == .invalidClaims)
        #expect(try await refusal { $0["aud"] = ["a", "b"] }?.kind == .invalidClaims)
        #expect(try await refusal { $0["aud"] = nil }?.kind == .invalidClaims)
    }

    @Test("a user token from another issuer is refused when an issuer is configured")
    func wrongIssuer() async throws {
        let issuer = "https://project.supabase.co/auth/v1"
        #expect(try await refusal({ $0["iss"] = "https://evil.supabase.co/auth/v1" }, issuer: issuer)?.kind == .invalidClaims)
        #expect(try await refusal({ $0["iss"] = nil }, issuer: issuer)?.kind == .invalidClaims)
        #expect(try await refusal({ $0["iss"] = issuer }, issuer: issuer) == nil)
    }

    @Test("a user token whose sub is not a UUID, or missing, is refused")
    func nonUUIDSubject() async throws {
        #expect(try await refusal { $0["sub"] = "42" }?.kind == .invalidClaims)
        #expect(try await refusal { $0["sub"] = "'; drop table users; --" }?.kind == .invalidClaims)
        #expect(try await refusal { $0["sub"] = nil }?.kind == .invalidClaims)
    }

    @Test("a role other than anon, authenticated or service_role, or none, is refused")
    func unknownRole() async throws {
        #expect(try await refusal { $0["role"] = "postgres" }?.kind == .invalidClaims)
        #expect(try await refusal { $0["role"] = "supabase_admin" }?.kind == .invalidClaims)
        #expect(try await refusal { $0["role"] = nil }?.kind == .invalidClaims)
    }

    @Test("an API-key token with a wrong aud or an expired exp is refused")
    func apiKeyClaims() async throws {
        let adapter = try SupabaseAdapter.forTests()
        var wrongAudience = TokenMinter.apiKeyClaims(role: "anon")
        wrongAudience["aud"] = "other"
        var expired = TokenMinter.apiKeyClaims(role: "service_role")
        expired["exp"] = now - 3600
        #expect(await adapter.refusal(TokenMinter.hs256(wrongAudience))?.kind == .invalidClaims)
        #expect(await adapter.refusal(TokenMinter.hs256(expired))?.kind == .expired)
    }
}
