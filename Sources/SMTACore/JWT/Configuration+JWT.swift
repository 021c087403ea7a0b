import Foundation

extension Configuration.Key {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`, for every adapter that verifies
    /// JWTs (each adapter has its platform's default).
    public static let jwtLeeway = Configuration.Key("jwt_leeway")
    /// Where an issuer's JWKS is served (`https://…/.well-known/jwks.json`).
    public static let jwksURL = Configuration.Key("jwks_url")
    /// A file holding an issuer's JWKS, re-read on rotation.
    public static let jwksFile = Configuration.Key("jwks_file")
    /// Seconds between two reads of the JWKS: the background refresh that makes a key removed
    /// from the set stop verifying on every bridge, and the least time between two refreshes an
    /// unknown `kid` triggers (default 30).
    public static let jwksRefreshInterval = Configuration.Key("jwks_refresh_interval")
}

extension Configuration {
    /// The clock skew tolerated on token times (`SMTA_JWT_LEEWAY`, 0–300 seconds).
    /// - Parameter defaultValue: the platform's own leeway, used when the key is unset.
    /// - Throws: ``ConfigurationError`` when the value is not a number from 0 to 300.
    public func tokenClock(default defaultValue: Duration) throws(ConfigurationError) -> TokenClock {
        let seconds = try number(.jwtLeeway, in: 0...300, default: defaultValue.inSeconds)
        return TokenClock(leeway: .milliseconds(Int64((seconds * 1000).rounded())))
    }

    /// How often the JWKS is read again (`SMTA_JWKS_REFRESH_INTERVAL`, 1–86400 seconds).
    /// - Parameter defaultValue: used when the key is unset.
    /// - Throws: ``ConfigurationError`` when the value is not a number from 1 to 86400.
    public func jwksRefreshInterval(default defaultValue: Duration) throws(ConfigurationError) -> Duration {
        let seconds = try number(.jwksRefreshInterval, in: 1...86400, default: defaultValue.inSeconds)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The JWKS named by `SMTA_JWKS_FILE` or `SMTA_JWKS_URL`; nil when neither is set.
    /// - Throws: ``ConfigurationError`` when both are set, the file cannot be read, or the URL
    ///   is not http(s).
    public func jwksSource() throws(ConfigurationError) -> (any JWKSSource)? {
        let file = self[.jwksFile].flatMap { $0.isEmpty ? nil : $0 }
        let url = self[.jwksURL].flatMap { $0.isEmpty ? nil : $0 }
        switch (file, url) {
        case (.some, .some):
            throw ConfigurationError(
                key: Key.jwksURL.environmentName,
                problem: "set either \(Key.jwksFile.environmentName) or \(Key.jwksURL.environmentName), not both")
        case (.some(let path), nil):
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(key: Key.jwksFile.environmentName, problem: "cannot read \(path)")
            }
            return JWKSFile(path: path)
        case (nil, .some(let text)):
            guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(),
                scheme == "https" || scheme == "http", parsed.host != nil
            else {
                throw ConfigurationError(key: Key.jwksURL.environmentName, problem: "is not an http(s) URL")
            }
            return JWKSEndpoint(url: parsed)
        case (nil, nil):
            return nil
        }
    }
}
