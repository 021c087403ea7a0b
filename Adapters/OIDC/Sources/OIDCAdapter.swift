import Foundation
import Logging
import SMTACore
import SMTASchema

/// Verifies access tokens of any OpenID Connect issuer with a JWKS (Auth0, Clerk, Keycloak,
/// Firebase, Cognito, better-auth's JWT plugin) and turns them into an `Identity`.
///
/// The token comes from `Authorization: Bearer …`; without one the caller is `anon`. It must be
/// signed by a key of the issuer's JWKS named by its `kid` (an unknown `kid` triggers one
/// rate-limited refresh, so rotated keys are picked up), with an allowed algorithm, from the
/// configured issuer, for the configured audience, unexpired (see `OIDCTokenVerifier`).
///
/// Subjects are rarely UUIDs (`auth0|abc`, `user_2x…`): the identity is linked as provider
/// `<issuer>`, subject `<sub>`, and the adapter's `core.link_identity` maps each pair to a
/// stable SMTA user id, derived from both, so two issuers never share a user. The email is
/// recorded only when the issuer marks it verified; invitations, bound to an email, can be
/// accepted only then.
///
/// Lifecycle: ``run()`` loads the JWKS at start-up; without it the first token loads it.
public struct OIDCAdapter: AdapterPlugin {
    /// `oidc`.
    public static let adapterName = "oidc"
    /// The OIDC keys and the shared JWT keys.
    public static let configurationKeys = OIDCSettings.configurationKeys
    /// ``OIDCSchema/migrations``.
    public static var migrations: [Migration] { OIDCSchema.migrations }

    /// `oidc`.
    public var name: String { Self.adapterName }

    private let extractor: OIDCTokenExtractor
    private let verifier: OIDCTokenVerifier

    /// Creates an adapter from typed settings; nothing is fetched until ``run()`` or the first token.
    /// - Throws: `ConfigurationError` when the algorithm list is empty or names an unsupported
    ///   algorithm, or a limit is out of range.
    public init(settings: OIDCSettings, logger: Logger = Logger(label: "smta.oidc")) throws(ConfigurationError) {
        guard !settings.algorithms.isEmpty, settings.algorithms.isSubset(of: OIDCSettings.supportedAlgorithms) else {
            throw ConfigurationError(
                key: Configuration.Key.oidcAlgorithms.environmentName,
                problem: "must list some of \(OIDCSettings.supportedAlgorithms.sorted().joined(separator: ", "))")
        }
        guard settings.leeway >= .zero, settings.jwksRefreshInterval >= .zero, settings.maxTokenSize > 0 else {
            throw ConfigurationError(key: "oidc settings", problem: "leeway, refresh interval and token size must not be negative")
        }
        extractor = OIDCTokenExtractor(maxTokenSize: settings.maxTokenSize)
        verifier = OIDCTokenVerifier(
            settings: settings,
            keyRing: JWKSKeyRing(source: settings.jwks, refreshInterval: settings.jwksRefreshInterval, logger: logger),
            clock: TokenClock(leeway: settings.leeway))
    }

    /// Creates an adapter from SMTA's configuration (`SMTA_OIDC_ISSUER`, `SMTA_JWKS_URL` or
    /// `SMTA_JWKS_FILE`, and the optional `SMTA_OIDC_*` keys).
    /// - Throws: `ConfigurationError` naming the key at fault.
    public init(configuration: Configuration, logger: Logger = Logger(label: "smta.oidc")) throws(ConfigurationError) {
        try self.init(settings: OIDCSettings(configuration: configuration), logger: logger)
    }

    /// Loads the JWKS so that the first token need not wait for it, then reads it again every
    /// `jwks_refresh_interval` until the calling task is cancelled: a key removed from the set
    /// stops verifying within that interval on every bridge.
    ///
    /// A failed start-up load is logged by the key ring; the adapter then loads the set on the
    /// first token, or at the next refresh.
    public func run() async throws {
        _ = try? await verifier.keyRing.load()
        await verifier.keyRing.refreshPeriodically()
    }

    /// Identifies the caller from `Authorization: Bearer <token>`; anonymous without it.
    public func identify(_ credentials: Credentials) async throws(AuthenticationError) -> Identity {
        guard let token = try extractor.token(in: credentials) else {
            return .anonymous(source: name)
        }
        return try await identity(verifying: token, at: Date())
    }

    /// Verifies one access token at time `now` (the CLI, tests).
    /// - Throws: `AuthenticationError` with the precise reason.
    public func verify(token: String, at now: Date = Date()) async throws(AuthenticationError) -> Identity {
        try await identity(verifying: Array(token.utf8), at: now)
    }

    private func identity(verifying token: [UInt8], at now: Date) async throws(AuthenticationError) -> Identity {
        let caller = try await verifier.verify(token, at: now)
        switch caller.role {
        case .authenticated:
            let issuer = verifier.settings.issuer
            return Identity(
                userID: nil, email: caller.verifiedEmail, role: .authenticated, claimsJSON: caller.claimsJSON,
                source: name, link: Identity.Link(provider: issuer, subject: caller.subject, email: caller.verifiedEmail))
        case .serviceRole, .anon:
            return Identity(userID: nil, email: nil, role: caller.role, claimsJSON: caller.claimsJSON, source: "\(name):\(caller.role.rawValue)")
        }
    }
}
