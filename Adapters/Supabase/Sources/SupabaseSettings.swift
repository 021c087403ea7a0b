import SMTACore

/// How the Supabase adapter verifies access tokens: which keys it trusts and which claims it
/// requires. At least one of ``jwtSecret`` and ``jwks`` must be set.
public struct SupabaseSettings: Sendable {
    /// The project's legacy JWT secret (HS256; the key is its UTF-8 bytes), at least 32 bytes.
    public var jwtSecret: String?
    /// Where the project's asymmetric signing keys (ES256, RS256, …) are published.
    public var jwks: (any JWKSSource)?
    /// The `aud` a user token must carry (as the string or inside an array).
    public var audience: String
    /// The `iss` a user token must carry, when set (`<project URL>/auth/v1`). API-key tokens
    /// (`anon`, `service_role`) carry `supabase` instead and are not held to it.
    public var issuer: String?
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var leeway: Duration
    /// How often the JWKS is read again in the background (so that a key removed from the set
    /// stops verifying on every bridge within it), and the least time between two refreshes
    /// triggered by unknown `kid`s.
    public var jwksRefreshInterval: Duration
    /// The longest token accepted, in bytes; longer ones are refused before parsing.
    public var maxTokenSize: Int
    /// The project's publishable API keys (`sb_publishable_…`): with no user token, the caller
    /// is `anon`.
    public var publishableKeys: [String]
    /// The project's secret API keys (`sb_secret_…`): the caller is `service_role`.
    public var secretKeys: [String]

    /// Creates settings; the defaults are Supabase's (`aud` `authenticated`, 30 s leeway,
    /// a JWKS refresh at most every 30 s, tokens up to 8 KiB).
    public init(
        jwtSecret: String? = nil,
        jwks: (any JWKSSource)? = nil,
        audience: String = "authenticated",
        issuer: String? = nil,
        leeway: Duration = .seconds(30),
        jwksRefreshInterval: Duration = .seconds(30),
        maxTokenSize: Int = 8192,
        publishableKeys: [String] = [],
        secretKeys: [String] = []
    ) {
        self.jwtSecret = jwtSecret
        self.jwks = jwks
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        self.jwksRefreshInterval = jwksRefreshInterval
        self.maxTokenSize = maxTokenSize
        self.publishableKeys = publishableKeys
        self.secretKeys = secretKeys
    }
}
