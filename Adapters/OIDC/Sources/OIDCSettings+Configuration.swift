import Foundation
import SMTACore

extension Configuration.Key {
    /// The OIDC issuer, compared exactly with `iss`.
    public static let oidcIssuer = Configuration.Key("oidc_issuer")
    /// The audience OIDC tokens must carry.
    public static let oidcAudience = Configuration.Key("oidc_audience")
    /// The accepted algorithms, comma-separated (default `RS256,ES256`).
    public static let oidcAlgorithms = Configuration.Key("oidc_algorithms")
    /// The claim holding the subject (default `sub`).
    public static let oidcSubjectClaim = Configuration.Key("oidc_subject_claim")
    /// The claim holding the email (default `email`).
    public static let oidcEmailClaim = Configuration.Key("oidc_email_claim")
    /// The claim saying the email is verified (default `email_verified`).
    public static let oidcEmailVerifiedClaim = Configuration.Key("oidc_email_verified_claim")
    /// A dot-separated path to the claim naming the database role (optional).
    public static let oidcRoleClaim = Configuration.Key("oidc_role_claim")
}

extension OIDCSettings {
    /// The keys the OIDC adapter reads, besides the core's shared JWT keys (`jwt_leeway`,
    /// `jwks_url`, `jwks_file`, `jwks_refresh_interval`).
    public static let configurationKeys: [Configuration.Key] = [
        .oidcIssuer, .oidcAudience, .oidcAlgorithms, .oidcSubjectClaim, .oidcEmailClaim,
        .oidcEmailVerifiedClaim, .oidcRoleClaim,
    ]

    /// Reads `SMTA_OIDC_ISSUER`, `SMTA_JWKS_URL` or `SMTA_JWKS_FILE` (required), and
    /// `SMTA_OIDC_AUDIENCE`, `SMTA_OIDC_ALGORITHMS`, `SMTA_OIDC_SUBJECT_CLAIM`,
    /// `SMTA_OIDC_EMAIL_CLAIM`, `SMTA_OIDC_EMAIL_VERIFIED_CLAIM`, `SMTA_OIDC_ROLE_CLAIM`,
    /// `SMTA_JWT_LEEWAY` (seconds, 0–300, default 30), `SMTA_JWKS_REFRESH_INTERVAL` (seconds, default 30).
    /// - Throws: `ConfigurationError` naming the key at fault: no issuer, an issuer that is not
    ///   an `https://` URL (`http://` only on loopback), no JWKS, an unknown or symmetric algorithm,
    ///   an empty claim name.
    public init(configuration: Configuration) throws(ConfigurationError) {
        let issuer = try configuration.required(.oidcIssuer)
        guard Self.isAcceptableIssuer(issuer) else {
            throw ConfigurationError(
                key: Configuration.Key.oidcIssuer.environmentName,
                problem: "must be an https:// URL (http:// only for localhost or 127.0.0.1)")
        }
        guard let jwks = try configuration.jwksSource() else {
            throw ConfigurationError(
                key: Configuration.Key.jwksURL.environmentName,
                problem: "the OIDC adapter needs the issuer's keys: set \(Configuration.Key.jwksURL.environmentName) or \(Configuration.Key.jwksFile.environmentName)")
        }
        self.init(issuer: issuer, jwks: jwks)
        if let audience = configuration[.oidcAudience], !audience.isEmpty {
            self.audience = audience
        }
        let algorithms = configuration.list(.oidcAlgorithms)
        if !algorithms.isEmpty {
            for algorithm in algorithms where !Self.supportedAlgorithms.contains(algorithm) {
                throw ConfigurationError(
                    key: Configuration.Key.oidcAlgorithms.environmentName,
                    problem: "'\(algorithm)' is not one of \(Self.supportedAlgorithms.sorted().joined(separator: ", ")) (shared-secret algorithms are not accepted)")
            }
            self.algorithms = Set(algorithms)
        }
        subjectClaim = try Self.claimName(configuration, .oidcSubjectClaim, default: subjectClaim)
        emailClaim = try Self.claimName(configuration, .oidcEmailClaim, default: emailClaim)
        emailVerifiedClaim = try Self.claimName(configuration, .oidcEmailVerifiedClaim, default: emailVerifiedClaim)
        if let path = configuration[.oidcRoleClaim], !path.isEmpty {
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: \.isEmpty) else {
                throw ConfigurationError(
                    key: Configuration.Key.oidcRoleClaim.environmentName,
                    problem: "'\(path)' is not a dot-separated claim path (e.g. app_metadata.role)")
            }
            roleClaim = parts
        }
        leeway = try configuration.tokenClock(default: leeway).leeway
        jwksRefreshInterval = try configuration.jwksRefreshInterval(default: jwksRefreshInterval)
    }

    private static func claimName(_ configuration: Configuration, _ key: Configuration.Key, default defaultValue: String) throws(ConfigurationError) -> String {
        guard let value = configuration[key] else { return defaultValue }
        let name = value.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            throw ConfigurationError(key: key.environmentName, problem: "must name a claim")
        }
        return name
    }

    /// An issuer is an `https://` URL; `http://` is accepted for loopback test issuers only.
    static func isAcceptableIssuer(_ issuer: String) -> Bool {
        guard let url = URL(string: issuer), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return false
        }
        return scheme == "https" || (scheme == "http" && ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host))
    }
}
