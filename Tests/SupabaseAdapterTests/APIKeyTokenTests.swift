import Foundation
import SMTACore
import SMTASupabase
import Testing

@Suite("Supabase API keys and anonymous requests")
struct APIKeyTokenTests {
    @Test("no Authorization header yields the anonymous identity, even with an apikey header")
    func noCredentialIsAnonymous() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let anonKey = TokenMinter.hs256(TokenMinter.apiKeyClaims(role: "anon"))
        for credentials in [Credentials(headers: []), Credentials(headers: [("apikey", anonKey)])] {
            let identity = try await adapter.identify(credentials)
            #expect(identity == .anonymous(source: "supabase"))
            #expect(identity.claimsJSON == #"{"role":"anon"}"#)
        }
    }

    @Test("the anon key as a bearer token yields role anon with no user")
    func anonKey() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let anonKey = TokenMinter.hs256(TokenMinter.apiKeyClaims(role: "anon"))
        let identity = try await adapter.identify(
            Credentials(headers: [("apikey", anonKey), ("Authorization", "Bearer \(anonKey)")]))
        #expect(identity.role == .anon)
        #expect(identity.userID == nil)
        #expect(identity.email == nil)
        #expect(identity.claimsJSON.contains(#""role":"anon""#))
    }

    @Test("the service_role key yields role service_role, even with an issuer configured for users")
    func serviceRoleKey() async throws {
        let adapter = try SupabaseAdapter.forTests(issuer: "http://127.0.0.1:54321/auth/v1")
        let identity = try await adapter.identify(
            TokenMinter.bearer(TokenMinter.hs256(TokenMinter.apiKeyClaims(role: "service_role"))))
        #expect(identity.role == .serviceRole)
        #expect(identity.userID == nil)
    }

    @Test("an apikey header does not rescue a forged bearer token")
    func apikeyDoesNotRescueForgery() async throws {
        let adapter = try SupabaseAdapter.forTests()
        let anonKey = TokenMinter.hs256(TokenMinter.apiKeyClaims(role: "anon"))
        let forged = TokenMinter.hs256(TokenMinter.userClaims(), secret: "another-secret-that-is-at-least-32-bytes-long")
        let error = await adapter.refusal(
            Credentials(headers: [("apikey", anonKey), ("Authorization", "Bearer \(forged)")]))
        #expect(error?.kind == .badSignature)
    }
}
