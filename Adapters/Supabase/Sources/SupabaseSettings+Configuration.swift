import Foundation
import SMTACore

extension SupabaseSettings {
    /// The shortest legacy secret accepted, in bytes (Supabase requires 32 characters).
    static let minimumSecretLength = 32

    /// Reads `SMTA_JWT_SECRET`, `SMTA_JWKS_FILE` or `SMTA_JWKS_URL`, `SMTA_JWT_AUD`,
    /// `SMTA_JWT_ISS`, `SMTA_JWT_LEEWAY` (seconds, 0–300) and the API keys
    /// (`SMTA_SUPABASE_PUBLISHABLE_KEYS`, `SMTA_SUPABASE_SECRET_KEYS`) from `configuration`; the
    /// other settings keep their defaults.
    /// - Throws: ``ConfigurationError`` naming the key at fault: no key source at all, a secret
    ///   shorter than 32 bytes, both a JWKS file and URL, a missing file, a URL that is not HTTP(S).
    public init(configuration: Configuration) throws(ConfigurationError) {
        self.init()
        let secret = configuration[.jwtSecret].flatMap { $0.isEmpty ? nil : $0 }
        let file = configuration[.jwksFile].flatMap { $0.isEmpty ? nil : $0 }
        let url = configuration[.jwksURL].flatMap { $0.isEmpty ? nil : $0 }
        guard secret != nil || file != nil || url != nil else {
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
        switch (file, url) {
        case (.some, .some):
            throw ConfigurationError(
                key: Configuration.Key.jwksURL.environmentName,
                problem: "set either \(Configuration.Key.jwksFile.environmentName) or \(Configuration.Key.jwksURL.environmentName), not both")
        case (.some(let path), nil):
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(key: Configuration.Key.jwksFile.environmentName, problem: "cannot read \(path)")
            }
            jwks = JWKSFile(path: path)
        case (nil, .some(let text)):
            guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(),
                scheme == "https" || scheme == "http", parsed.host != nil
            else {
                throw ConfigurationError(key: Configuration.Key.jwksURL.environmentName, problem: "is not an http(s) URL")
            }
            jwks = JWKSEndpoint(url: parsed)
        case (nil, nil):
            break
        }
        if let audience = configuration[.jwtAudience], !audience.isEmpty {
            self.audience = audience
        }
        if let issuer = configuration[.jwtIssuer], !issuer.isEmpty {
            self.issuer = issuer
        }
        leeway = .milliseconds(Int64(try configuration.number(.jwtLeeway, in: 0...300, default: 30) * 1000))
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
