import SMTACore

/// How the OpenID Connect adapter verifies access tokens: the issuer it trusts, where that
/// issuer publishes its keys, and which claims say who the caller is.
///
/// Works with any issuer of signed JWT access tokens with a JWKS: Auth0, Clerk, Keycloak,
/// Firebase, Cognito, better-auth's JWT plugin, …
public struct OIDCSettings: Sendable {
    /// The issuer, compared exactly with the token's `iss` (e.g. `https://tenant.eu.auth0.com/`).
    public var issuer: String
    /// The audience the token must carry in `aud` (a string or inside an array); nil accepts
    /// any audience (some issuers, such as Clerk's session tokens, set none).
    public var audience: String?
    /// Where the issuer's signing keys are published.
    public var jwks: any JWKSSource
    /// The algorithms accepted; a key verifies only its own algorithm, and only if listed here.
    public var algorithms: Set<String>
    /// The claim holding the user's stable subject (`sub`).
    public var subjectClaim: String
    /// The claim holding the user's email (`email`).
    public var emailClaim: String
    /// The claim saying the email is verified (`email_verified`); an email not marked verified
    /// is never recorded, so invitations cannot be accepted with it.
    public var emailVerifiedClaim: String
    /// A dot-separated path to a claim naming the database role (`service_role`, `anon`); nil,
    /// or a token without it: every verified token is `authenticated`.
    public var roleClaim: [String]?
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var leeway: Duration
    /// How often the JWKS is read again in the background (so that a key removed from the set
    /// stops verifying on every bridge within it), and the least time between two refreshes
    /// triggered by unknown `kid`s.
    public var jwksRefreshInterval: Duration
    /// The longest token accepted, in bytes; longer ones are refused before parsing.
    public var maxTokenSize: Int

    /// The algorithms a JWKS key may verify with this adapter at all.
    public static let supportedAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"]

    /// Creates settings; the defaults accept `RS256` and `ES256`, read `sub`, `email` and
    /// `email_verified`, allow 30 s of clock skew and refresh the JWKS at most every 30 s.
    public init(
        issuer: String,
        audience: String? = nil,
        jwks: any JWKSSource,
        algorithms: Set<String> = ["RS256", "ES256"],
        subjectClaim: String = "sub",
        emailClaim: String = "email",
        emailVerifiedClaim: String = "email_verified",
        roleClaim: [String]? = nil,
        leeway: Duration = .seconds(30),
        jwksRefreshInterval: Duration = .seconds(30),
        maxTokenSize: Int = 16384
    ) {
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.algorithms = algorithms
        self.subjectClaim = subjectClaim
        self.emailClaim = emailClaim
        self.emailVerifiedClaim = emailVerifiedClaim
        self.roleClaim = roleClaim
        self.leeway = leeway
        self.jwksRefreshInterval = jwksRefreshInterval
        self.maxTokenSize = maxTokenSize
    }
}
