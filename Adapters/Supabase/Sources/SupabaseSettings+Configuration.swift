import Foundation
import SMTACore

extension Configuration.Key {
    /// Supabase's legacy HS256 JWT secret.
    public static let jwtSecret = Configuration.Key("jwt_secret", secret: true)
    /// The `aud` a Supabase user token must carry (default `authenticated`).
    public static let jwtAudience = Configuration.Key("jwt_aud")
    /// The `iss` a Supabase user token must carry (`<project URL>/auth/v1`).
    public static let jwtIssuer = Configuration.Key("jwt_iss")
    /// The Supabase project's publishable keys (`sb_publishable_…`), comma-separated: the
    /// `anon` role when no user token comes with them.
    public static let supabasePublishableKeys = Configuration.Key("supabase_publishable_keys", secret: true)
    /// The Supabase project's secret keys (`sb_secret_…`), comma-separated: the `service_role`.
    public static let supabaseSecretKeys = Configuration.Key("supabase_secret_keys", secret: true)
}

extension SupabaseSettings {
    /// The shortest legacy secret accepted, in bytes (Supabase requires 32 characters).
    static let minimumSecretLength = 32

    /// The keys the Supabase adapter reads, besides the core's shared JWT keys (`jwt_leeway`,
    /// `jwks_url`, `jwks_file`, `jwks_refresh_interval`).
    public static let configurationKeys: [Configuration.Key] = [
        .jwtSecret, .jwtAudience, .jwtIssuer, .supabasePublishableKeys, .supabaseSecretKeys,
    ]

    /// Reads `SMTA_JWT_SECRET`, `SMTA_JWKS_FILE` or `SMTA_JWKS_URL`, `SMTA_JWT_AUD`,
    /// `SMTA_JWT_ISS`, `SMTA_JWT_LEEWAY` (seconds, 0–300, default 30), `SMTA_JWKS_REFRESH_INTERVAL`
    /// (seconds, default 30) and the API keys
    /// (`SMTA_SUPABASE_PUBLISHABLE_KEYS`, `SMTA_SUPABASE_SECRET_KEYS`) from `configuration`; the
    /// other settings keep their defaults.
    /// - Throws: `ConfigurationError` naming the key at fault: no key source at all, a secret
    ///   shorter than 32 bytes, both a JWKS file and URL, a missing file, a URL that is not HTTP(S).
    public init(configuration: Configuration) throws(ConfigurationError) {
        self.init()
        let secret = configuration[.jwtSecret].flatMap { $0.isEmpty ? nil : $0 }
        jwks = try configuration.jwksSource()
        guard secret != nil || jwks != nil else {
            throw ConfigurationError(
                key: Configuration.Key.jwtSecret.environmentName,
                problem: "the Supabase adapter needs a key: set \(Configuration.Key.jwtSecret.environmentName), "
                    + "\(Configuration.Key.jwksFile.environmentName) or \(Configuration.Key.jwksURL.environmentName)")
        }
        if let secret {
            guard secret.utf8.count >= Self.minimumSecretLength else {
                throw ConfigurationError(
                    key: Configuration.Key.jwtSecret.environmentName,
                    problem: "must be at least \(Self.minimumSecretLength) bytes long")
            }
            jwtSecret = secret
        }
        if let audience = configuration[.jwtAudience], !audience.isEmpty {
            self.audience = audience
        }
        if let issuer = configuration[.jwtIssuer], !issuer.isEmpty {
            self.issuer = issuer
        }
        leeway = try configuration.tokenClock(default: leeway).leeway
        jwksRefreshInterval = try configuration.jwksRefreshInterval(default: jwksRefreshInterval)
        publishableKeys = configuration.list(.supabasePublishableKeys)
        secretKeys = configuration.list(.supabaseSecretKeys)
        for (key, prefix, keys) in [
            (Configuration.Key.supabasePublishableKeys, SupabaseAPIKey.publishablePrefix, publishableKeys),
            (Configuration.Key.supabaseSecretKeys, SupabaseAPIKey.secretPrefix, secretKeys),
        ] where keys.contains(where: { !$0.hasPrefix(prefix) }) {
            throw ConfigurationError(key: key.environmentName, problem: "each key must start with \(prefix)")
        }
    }
}
