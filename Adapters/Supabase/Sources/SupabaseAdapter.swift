import Crypto
import Foundation
import Logging
import SMTACore

/// Verifies Supabase access tokens exactly as Supabase Auth (GoTrue) issues them, and turns them
/// into an ``Identity`` whose claims PostgreSQL sees as `request.jwt.claims`.
///
/// The token comes from `Authorization: Bearer <jwt>`; a request without `Authorization` is
/// anonymous (a legacy anon key in `Authorization` is a token like any other and yields role
/// `anon`; a legacy `apikey` header is ignored). Supabase's API keys work as its gateway makes
/// them work: a configured publishable key (`sb_publishable_…`, as `apikey` or as the bearer)
/// with no user token is `anon`, a configured secret key (`sb_secret_…`) is `service_role`, a
/// user token beside a publishable key is that user, and any `sb_…` key that is not configured
/// is refused. The key is chosen as GoTrue chooses it: a `kid` naming a JWKS
/// key selects that key; otherwise an `HS256` token is checked with the legacy secret; any other
/// unknown `kid` triggers one rate-limited JWKS refresh and is refused if still unknown. Each key
/// verifies only its own algorithm, so neither `none` nor HS/ES/RS confusion can pass.
public struct SupabaseAdapter: IdentityAdapter {
    /// `supabase`.
    public var name: String { "supabase" }

    private let legacyKey: VerificationKey?
    private let keyRing: SupabaseKeyRing?
    private let audience: String
    private let issuer: String?
    private let leewaySeconds: Double
    private let maxTokenSize: Int
    private let apiKeys: SupabaseAPIKey

    /// Creates an adapter from typed settings. Nothing is fetched yet: call ``loadKeys()`` at
    /// start-up to fail fast on an unreadable JWKS (otherwise the first token with a `kid` loads it).
    /// - Throws: ``ConfigurationError`` when no key source is set, the secret is shorter than
    ///   32 bytes, or a limit is out of range.
    public init(settings: SupabaseSettings, logger: Logger = Logger(label: "smta.supabase")) throws(ConfigurationError) {
        let secretKey = Configuration.Key.jwtSecret.environmentName
        guard settings.jwtSecret != nil || settings.jwks != nil else {
            throw ConfigurationError(key: secretKey, problem: "the Supabase adapter needs a JWT secret or a JWKS")
        }
        if let secret = settings.jwtSecret {
            guard secret.utf8.count >= SupabaseSettings.minimumSecretLength else {
                throw ConfigurationError(
                    key: secretKey, problem: "must be at least \(SupabaseSettings.minimumSecretLength) bytes long")
            }
            legacyKey = VerificationKey(
                algorithm: "HS256", material: .hmacSHA256(SymmetricKey(data: Array(secret.utf8))))
        } else {
            legacyKey = nil
        }
        guard settings.leeway >= .zero, settings.jwksRefreshInterval >= .zero else {
            throw ConfigurationError(key: "supabase settings", problem: "leeway and JWKS refresh interval must not be negative")
        }
        guard settings.maxTokenSize > 0 else {
            throw ConfigurationError(key: "supabase settings", problem: "the maximum token size must be positive")
        }
        keyRing = settings.jwks.map {
            SupabaseKeyRing(source: $0, refreshInterval: settings.jwksRefreshInterval, logger: logger)
        }
        audience = settings.audience
        issuer = settings.issuer
        let leeway = settings.leeway.components
        leewaySeconds = Double(leeway.seconds) + Double(leeway.attoseconds) / 1e18
        maxTokenSize = settings.maxTokenSize
        apiKeys = SupabaseAPIKey(publishable: settings.publishableKeys, secret: settings.secretKeys)
    }

    /// Creates an adapter from SMTA's configuration (`SMTA_JWT_SECRET`, `SMTA_JWKS_FILE`,
    /// `SMTA_JWKS_URL`, `SMTA_JWT_AUD`, `SMTA_JWT_ISS`).
    /// - Throws: ``ConfigurationError`` naming the key at fault.
    public init(configuration: Configuration, logger: Logger = Logger(label: "smta.supabase")) throws(ConfigurationError) {
        try self.init(settings: SupabaseSettings(configuration: configuration), logger: logger)
    }

    /// Fetches the JWKS now, regardless of the refresh rate limit.
    /// - Returns: how many usable keys it holds (0 when only the legacy secret is configured).
    /// - Throws: ``JWKSUnavailable`` when it cannot be read or parsed (the previous keys stay).
    @discardableResult
    public func loadKeys() async throws -> Int {
        guard let keyRing else { return 0 }
        return try await keyRing.load()
    }

    /// Loads the JWKS, when one is configured, so that the first token need not wait for it.
    /// - Throws: ``JWKSUnavailable`` when it cannot be read; the adapter then loads it on the
    ///   first token with a `kid`.
    public func run() async throws {
        try await loadKeys()
    }

    /// Identifies the caller from `Authorization: Bearer <jwt or API key>` and the `apikey`
    /// header; anonymous without either.
    public func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
        var keyIdentity: Identity?
        if let header = credentials.header("apikey") {
            let apiKey = Array(header.utf8)
            if SupabaseAPIKey.isAPIKey(apiKey) {
                keyIdentity = try apiKeys.identity(of: apiKey, in: credentials, source: name)
            }
        }
        guard let authorization = credentials.header("authorization") else {
            return keyIdentity ?? .anonymous(source: name)
        }
        guard authorization.utf8.count <= maxTokenSize + 16 else {
            throw AuthenticationError(.malformed, "Authorization header longer than \(maxTokenSize) bytes")
        }
        let value = authorization.utf8
        let scheme = "bearer ".utf8
        let isLetter = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) }
        guard value.count > scheme.count,
            zip(value, scheme).allSatisfy({ $0 == $1 || (isLetter($0) && $0 | 0x20 == $1) })
        else {
            throw AuthenticationError(.malformed, "Authorization is not a Bearer token")
        }
        let token = value.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        if SupabaseAPIKey.isAPIKey(token) {
            return try apiKeys.identity(of: token, in: credentials, source: name)
        }
        return try await verify(token: Array(token))
    }

    /// Verifies one access token (the part after `Bearer `) at time `now`.
    ///
    /// This is the whole check, usable without HTTP (the CLI, benchmarks).
    /// - Throws: ``AuthenticationError`` with the precise reason.
    public func verify(token: String, at now: Date = Date()) async throws(AuthenticationError) -> Identity {
        try await verify(token: Array(token.utf8), at: now)
    }

    private func verify(token: [UInt8], at now: Date = Date()) async throws(AuthenticationError) -> Identity {
        guard !token.isEmpty else {
            throw AuthenticationError(.malformed, "empty bearer token")
        }
        guard token.count <= maxTokenSize else {
            throw AuthenticationError(.malformed, "token of \(token.count) bytes exceeds the \(maxTokenSize)-byte limit")
        }
        let jwt = try CompactJWT(token)
        guard jwt.header.crit == nil else {
            throw AuthenticationError(.malformed, "token header has critical extensions")
        }
        let key = try await selectKey(for: jwt.header)
        guard key.verifies(jwt.signature, of: jwt.signingInput) else {
            throw AuthenticationError(.badSignature, "\(key.algorithm) signature does not verify")
        }
        let claims: SupabaseClaims
        do {
            claims = try JSONDecoder().decode(SupabaseClaims.self, from: Data(jwt.payload))
        } catch {
            throw AuthenticationError(.malformed, "token payload is not a JSON object with well-typed claims")
        }
        return try identity(from: claims, payload: jwt.payload, now: now.timeIntervalSince1970)
    }

    /// GoTrue's key choice, with the algorithm bound to the key.
    private func selectKey(for header: CompactJWT.Header) async throws(AuthenticationError) -> VerificationKey {
        let algorithm = header.alg
        guard algorithm != "none", !algorithm.isEmpty else {
            throw AuthenticationError(.badSignature, "unsigned token (alg none)")
        }
        var key: VerificationKey?
        if let kid = header.kid, let keyRing {
            key = await keyRing.key(for: kid)
            if key == nil, algorithm != "HS256" || legacyKey == nil {
                key = await keyRing.refreshedKey(for: kid)
            }
        }
        if key == nil, algorithm == "HS256" {
            key = legacyKey
        }
        guard let key else {
            if header.kid != nil {
                throw AuthenticationError(.badSignature, "unknown kid for \(algorithm) token")
            }
            throw AuthenticationError(.badSignature, "no key for \(algorithm) token without kid")
        }
        guard key.algorithm == algorithm else {
            throw AuthenticationError(.badSignature, "alg \(algorithm) does not match the key's \(key.algorithm)")
        }
        return key
    }

    /// The claim checks, then the identity.
    private func identity(from claims: SupabaseClaims, payload: [UInt8], now: Double) throws(AuthenticationError) -> Identity {
        guard let roleName = claims.role else {
            throw AuthenticationError(.invalidClaims, "role claim missing")
        }
        guard let role = Identity.Role(rawValue: roleName) else {
            throw AuthenticationError(.invalidClaims, "role claim is not anon, authenticated or service_role")
        }
        let isUserToken = role == .authenticated
        if let exp = claims.exp {
            guard now < exp + leewaySeconds else {
                throw AuthenticationError(.expired, "exp is \(Int(now - exp)) s in the past")
            }
        } else if isUserToken {
            throw AuthenticationError(.invalidClaims, "exp claim missing on a user token")
        }
        if let nbf = claims.nbf, nbf > now + leewaySeconds {
            throw AuthenticationError(.notYetValid, "nbf is \(Int(nbf - now)) s in the future")
        }
        if let iat = claims.iat, iat > now + leewaySeconds {
            throw AuthenticationError(.notYetValid, "iat is \(Int(iat - now)) s in the future")
        }
        if isUserToken || claims.aud != nil {
            guard let aud = claims.aud else {
                throw AuthenticationError(.invalidClaims, "aud claim missing on a user token")
            }
            guard aud.contains(audience) else {
                throw AuthenticationError(.invalidClaims, "aud does not include \(audience)")
            }
        }
        if isUserToken, let issuer {
            guard claims.iss == issuer else {
                throw AuthenticationError(.invalidClaims, "iss is not the configured issuer")
            }
        }
        var userID: UUID?
        if let sub = claims.sub {
            guard let parsed = UUID(uuidString: sub) else {
                throw AuthenticationError(.invalidClaims, "sub is not a UUID")
            }
            userID = parsed
        } else if isUserToken {
            throw AuthenticationError(.invalidClaims, "sub claim missing on a user token")
        }
        let email = claims.email.flatMap { $0.isEmpty ? nil : $0 }
        return Identity(
            userID: userID, email: email, role: role, claimsJSON: String(decoding: payload, as: UTF8.self),
            source: name)
    }
}
