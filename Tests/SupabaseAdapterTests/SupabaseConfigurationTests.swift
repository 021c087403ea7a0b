import Foundation
import SMTACore
import SMTASupabase
import Testing

@Suite("Supabase adapter configuration")
struct SupabaseConfigurationTests {
    func configurationError(_ values: [Configuration.Key: String]) -> ConfigurationError? {
        do {
            _ = try SupabaseAdapter(configuration: Configuration(values: values))
            return nil
        } catch {
            return error
        }
    }

    @Test("no key at all is an error naming the three keys")
    func noKey() throws {
        let error = try #require(configurationError([.jwtAudience: "authenticated"]))
        #expect(error.description.contains("SMTA_JWT_SECRET"))
        #expect(error.description.contains("SMTA_JWKS_FILE"))
        #expect(error.description.contains("SMTA_JWKS_URL"))
    }

    @Test("a short secret is refused without repeating it")
    func shortSecret() throws {
        let error = try #require(configurationError([.jwtSecret: "too-short-secret"]))
        #expect(error.key == "SMTA_JWT_SECRET")
        #expect(!error.description.contains("too-short-secret"))
    }

    @Test("a JWKS file and URL together, a missing file, or a non-HTTP URL are refused")
    func badJWKS() throws {
        #expect(configurationError([.jwksFile: "/nonexistent/jwks.json"])?.key == "SMTA_JWKS_FILE")
        #expect(configurationError([.jwksURL: "ftp://example.com/jwks.json"])?.key == "SMTA_JWKS_URL")
        #expect(configurationError([.jwksURL: "not a url"])?.key == "SMTA_JWKS_URL")
        #expect(configurationError([.jwksFile: "/etc/hostname", .jwksURL: "https://example.com/jwks.json"])?.key == "SMTA_JWKS_URL")
    }

    @Test("audience and issuer from the configuration are enforced")
    func audienceAndIssuer() async throws {
        let adapter = try SupabaseAdapter(configuration: Configuration(values: [
            .jwtSecret: TokenMinter.secret, .jwtAudience: "mobile", .jwtIssuer: "https://p.supabase.co/auth/v1",
        ]))
        var claims = TokenMinter.userClaims()
        #expect(await adapter.refusal(TokenMinter.hs256(claims))?.kind == .invalidClaims)
        claims["aud"] = "mobile"
        #expect(await adapter.refusal(TokenMinter.hs256(claims))?.kind == .invalidClaims)
        claims["iss"] = "https://p.supabase.co/auth/v1"
        #expect(await adapter.refusal(TokenMinter.hs256(claims)) == nil)
        #expect(adapter.name == "supabase")
    }

    @Test("a JWKS URL and a valid secret make a working adapter")
    func urlAndSecret() async throws {
        let adapter = try SupabaseAdapter(configuration: Configuration(values: [
            .jwtSecret: TokenMinter.secret, .jwksURL: "http://127.0.0.1:9/auth/v1/.well-known/jwks.json",
        ]))
        #expect(await adapter.refusal(TokenMinter.hs256(TokenMinter.userClaims())) == nil)
    }
}
