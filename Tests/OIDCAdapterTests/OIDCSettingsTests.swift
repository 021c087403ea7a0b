import Foundation
import SMTACore
import SMTAOIDC
import Testing

@Suite("OIDC settings are read from the configuration with clear errors")
struct OIDCSettingsTests {
    static let jwksPath: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oidc-settings-jwks.json").path
        FileManager.default.createFile(atPath: path, contents: Data(#"{"keys":[]}"#.utf8))
        return path
    }()

    @Test("issuer and JWKS are enough; the defaults are RS256/ES256, sub, email, email_verified, 30 s")
    func defaults() throws {
        let settings = try OIDCSettings(configuration: Configuration(values: [
            .oidcIssuer: "https://tenant.eu.auth0.com/", .jwksFile: Self.jwksPath,
        ]))
        #expect(settings.issuer == "https://tenant.eu.auth0.com/")
        #expect(settings.audience == nil)
        #expect(settings.algorithms == ["RS256", "ES256"])
        #expect(settings.subjectClaim == "sub")
        #expect(settings.emailClaim == "email")
        #expect(settings.emailVerifiedClaim == "email_verified")
        #expect(settings.roleClaim == nil)
        #expect(settings.leeway == .seconds(30))
    }

    @Test("every key is read")
    func everyKey() throws {
        let settings = try OIDCSettings(configuration: Configuration(values: [
            .oidcIssuer: "https://clerk.example.com", .jwksURL: "https://clerk.example.com/.well-known/jwks.json",
            .oidcAudience: "api://smta", .oidcAlgorithms: "EdDSA, ES384", .oidcSubjectClaim: "uid",
            .oidcEmailClaim: "mail", .oidcEmailVerifiedClaim: "mail_ok", .oidcRoleClaim: "app_metadata.role",
            .jwtLeeway: "0",
        ]))
        #expect(settings.audience == "api://smta")
        #expect(settings.algorithms == ["EdDSA", "ES384"])
        #expect(settings.subjectClaim == "uid")
        #expect(settings.emailClaim == "mail")
        #expect(settings.emailVerifiedClaim == "mail_ok")
        #expect(settings.roleClaim == ["app_metadata", "role"])
        #expect(settings.leeway == .zero)
    }

    @Test("a missing issuer or JWKS, a plain-http issuer, HS256, an empty claim or path name their key")
    func errors() {
        let issuer = "https://issuer.example.com"
        let cases: [([Configuration.Key: String], String)] = [
            ([.jwksFile: Self.jwksPath], "SMTA_OIDC_ISSUER"),
            ([.oidcIssuer: issuer], "SMTA_JWKS_URL"),
            ([.oidcIssuer: "http://issuer.example.com", .jwksFile: Self.jwksPath], "SMTA_OIDC_ISSUER"),
            ([.oidcIssuer: "not a url", .jwksFile: Self.jwksPath], "SMTA_OIDC_ISSUER"),
            ([.oidcIssuer: issuer, .jwksFile: Self.jwksPath, .oidcAlgorithms: "HS256"], "SMTA_OIDC_ALGORITHMS"),
            ([.oidcIssuer: issuer, .jwksFile: Self.jwksPath, .oidcAlgorithms: "none"], "SMTA_OIDC_ALGORITHMS"),
            ([.oidcIssuer: issuer, .jwksFile: Self.jwksPath, .oidcSubjectClaim: " "], "SMTA_OIDC_SUBJECT_CLAIM"),
            ([.oidcIssuer: issuer, .jwksFile: Self.jwksPath, .oidcRoleClaim: "app_metadata..role"], "SMTA_OIDC_ROLE_CLAIM"),
            ([.oidcIssuer: issuer, .jwksFile: "/nonexistent/jwks.json"], "SMTA_JWKS_FILE"),
            ([.oidcIssuer: issuer, .jwksFile: Self.jwksPath, .jwtLeeway: "999"], "SMTA_JWT_LEEWAY"),
        ]
        for (values, key) in cases {
            let error = #expect(throws: ConfigurationError.self, "\(values)") {
                try OIDCSettings(configuration: Configuration(values: values))
            }
            #expect(error?.key == key, "\(values)")
        }
    }

    @Test("http:// issuers are accepted on loopback only, for local test issuers")
    func loopbackIssuer() throws {
        let settings = try OIDCSettings(configuration: Configuration(values: [
            .oidcIssuer: "http://127.0.0.1:8080/realms/dev", .jwksFile: Self.jwksPath,
        ]))
        #expect(settings.issuer == "http://127.0.0.1:8080/realms/dev")
    }
}
