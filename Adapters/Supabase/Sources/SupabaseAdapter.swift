import Crypto
import Foundation
import Logging
import SMTACore
import SMTASchema

/// Verifies Supabase access tokens exactly as Supabase Auth (GoTrue) issues them, and turns them
/// into an `Identity` whose claims PostgreSQL sees as `request.jwt.claims`.
///
/// The token comes from `Authorization: Bearer <jwt>`; a request without `Authorization` is
/// anonymous (a legacy anon key in `Authorization` is a token like any other and yields role
/// `anon`; a legacy `apikey` header is ignored). Supabase's API keys work as its gateway makes
/// them work: a configured publishable key (`sb_publishable_…`, as `apikey` or as the bearer)
/// with no user token is `anon`, a configured secret key (`sb_secret_…`) is `service_role`, a
/// user token beside a publishable key is that user, and any `sb_…` key that is not configured
/// is refused. Tokens are checked by `SupabaseTokenVerifier` (GoTrue's key choice, claims).
/// An anonymous sign-in (`is_anonymous: true`) is an `authenticated` user marked
/// `Identity.isAnonymous`; the database refuses it what makes it a tenant unless the bridge
/// allows anonymous users.
///
/// Lifecycle: ``run()`` loads the JWKS at start-up; without it the first token with a `kid`
/// loads it.
public struct SupabaseAdapter: AdapterPlugin {
    /// `supabase`.
    public static let adapterName = "supabase"
    /// The Supabase keys and the shared JWT keys.
    public static let configurationKeys = SupabaseSettings.configurationKeys
    /// ``SupabaseSchema/migrations``.
    public static var migrations: [Migration] { SupabaseSchema.migrations }

    /// `supabase`.
    public var name: String { Self.adapterName }

    private let extractor: SupabaseTokenExtractor
    private let verifier: SupabaseTokenVerifier
    private let apiKeys: SupabaseAPIKey

    /// Creates an adapter from typed settings. Nothing is fetched yet: call ``loadKeys()`` at
    /// start-up to fail fast on an unreadable JWKS (otherwise the first token with a `kid` loads it).
    /// - Throws: `ConfigurationError` when no key source is set, the secret is shorter than
    ///   32 bytes, or a limit is out of range.
    public init(settings: SupabaseSettings, logger: Logger = Logger(label: "smta.supabase")) throws(ConfigurationError) {
        let secretKey = Configuration.Key.jwtSecret.environmentName
        guard settings.jwtSecret != nil || settings.jwks != nil else {
            throw ConfigurationError(key: secretKey, problem: "the Supabase adapter needs a JWT secret or a JWKS")
        }
        var legacyKey: VerificationKey?
        if let secret = settings.jwtSecret {
            guard secret.utf8.count >= SupabaseSettings.minimumSecretLength else {
                throw ConfigurationError(
                    key: secretKey, problem: "must be at least \(SupabaseSettings.minimumSecretLength) bytes long")
            }
            legacyKey = VerificationKey(
                algorithm: "HS256", material: .hmacSHA256(SymmetricKey(data: Array(secret.utf8))))
        }
        guard settings.leeway >= .zero, settings.jwksRefreshInterval >= .zero else {
            throw ConfigurationError(key: "supabase settings", problem: "leeway and JWKS refresh interval must not be negative")
        }
        guard settings.maxTokenSize > 0 else {
            throw ConfigurationError(key: "supabase settings", problem: "the maximum token size must be positive")
        }
        extractor = SupabaseTokenExtractor(maxTokenSize: settings.maxTokenSize)
        verifier = SupabaseTokenVerifier(
            legacyKey: legacyKey,
            keyRing: settings.jwks.map { JWKSKeyRing(source: $0, refreshInterval: settings.jwksRefreshInterval, logger: logger) },
            audience: settings.audience, issuer: settings.issuer, clock: TokenClock(leeway: settings.leeway),
            source: Self.adapterName, verified: VerifiedTokenCache())
        apiKeys = SupabaseAPIKey(publishable: settings.publishableKeys, secret: settings.secretKeys)
    }

    /// Creates an adapter from SMTA's configuration (`SMTA_JWT_SECRET`, `SMTA_JWKS_FILE`,
    /// `SMTA_JWKS_URL`, `SMTA_JWT_AUD`, `SMTA_JWT_ISS`, `SMTA_JWT_LEEWAY`, the API keys).
    /// - Throws: `ConfigurationError` naming the key at fault.
    public init(configuration: Configuration, logger: Logger = Logger(label: "smta.supabase")) throws(ConfigurationError) {
        try self.init(settings: SupabaseSettings(configuration: configuration), logger: logger)
    }

    /// Fetches the JWKS now, regardless of the refresh rate limit.
    /// - Returns: how many usable keys it holds (0 when only the legacy secret is configured).
    /// - Throws: `JWKSUnavailable` when it cannot be read or parsed (the previous keys stay).
    @discardableResult
    public func loadKeys() async throws -> Int {
        guard let keyRing = verifier.keyRing else { return 0 }
        return try await keyRing.load()
    }

    /// Loads the JWKS, when one is configured, so that the first token need not wait for it,
    /// then reads it again every `jwks_refresh_interval` until the calling task is cancelled: a
    /// key removed from the set stops verifying within that interval on every bridge.
    ///
    /// A failed start-up load is logged by the key ring; the adapter then loads the set on the
    /// first token with a `kid`, or at the next refresh.
    public func run() async throws {
        guard let keyRing = verifier.keyRing else { return }
        _ = try? await keyRing.load()
        await keyRing.refreshPeriodically()
    }

    /// Identifies the caller from `Authorization: Bearer <jwt or API key>` and the `apikey`
    /// header; anonymous without either.
    public func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
        var keyIdentity: Identity?
        if let apiKey = extractor.apiKey(in: credentials) {
            keyIdentity = try apiKeys.identity(of: apiKey, in: credentials, source: name)
        }
        switch try extractor.bearer(in: credentials) {
        case nil:
            return keyIdentity ?? .anonymous(source: name)
        case .apiKey(let key):
            return try apiKeys.identity(of: key, in: credentials, source: name)
        case .token(let token):
            return try await verifier.verify(token, at: Date())
        }
    }

    /// Verifies one access token (the part after `Bearer `) at time `now`.
    ///
    /// This is the whole check, usable without HTTP (the CLI, benchmarks).
    /// - Throws: `AuthenticationError` with the precise reason.
    public func verify(token: String, at now: Date = Date()) async throws(AuthenticationError) -> Identity {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else {
            throw AuthenticationError(.malformed, "empty bearer token")
        }
        guard bytes.count <= extractor.maxTokenSize else {
            throw AuthenticationError(.malformed, "token of \(bytes.count) bytes exceeds the \(extractor.maxTokenSize)-byte limit")
        }
        return try await verifier.verify(bytes, at: now)
    }
}
