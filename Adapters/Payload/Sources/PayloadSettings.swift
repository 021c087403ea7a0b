import Foundation
import SMTACore

/// Everything the Payload adapter needs to know, as one value.
///
/// From the configuration: `SMTA_PAYLOAD_SECRET` (the app's `PAYLOAD_SECRET`),
/// `SMTA_PAYLOAD_DATABASE` (see ``PayloadDatabase``) and `SMTA_PAYLOAD_COLLECTIONS`
/// (comma-separated slugs, default `users`; a slug followed by `:verified` requires the
/// user's `_verified` flag, as `auth.verify` does), `SMTA_PAYLOAD_COOKIE_PREFIX`,
/// `SMTA_PAYLOAD_CSRF` (comma-separated origins) and `SMTA_JWT_LEEWAY` (seconds). Unset, they
/// keep Payload's defaults. See `PayloadSettings+Configuration.swift`.
public struct PayloadSettings: Sendable {
    /// The key derived from `PAYLOAD_SECRET` (the secret itself is not kept).
    public var signingKey: PayloadSigningKey
    /// Payload's database.
    public var database: PayloadDatabase
    /// The auth collections whose tokens are accepted.
    public var collections: [PayloadCollection]
    /// Payload's `cookiePrefix`: the cookie is `<prefix>-token`.
    public var cookiePrefix: String
    /// Payload's `csrf` list: origins whose requests may authenticate with the cookie; empty
    /// allows all.
    public var allowedOrigins: [String]
    /// Clock skew tolerated on the token's `exp` (Payload, through jose's `jwtVerify`, allows none).
    public var leeway: Duration
    /// Tokens longer than this many bytes are refused unread.
    public var maxTokenSize: Int

    /// Creates settings.
    public init(
        secret: String,
        database: PayloadDatabase,
        collections: [PayloadCollection],
        cookiePrefix: String = "payload",
        allowedOrigins: [String] = [],
        leeway: Duration = .zero,
        maxTokenSize: Int = 8192
    ) {
        self.signingKey = PayloadSigningKey(secret: secret)
        self.database = database
        self.collections = collections
        self.cookiePrefix = cookiePrefix
        self.allowedOrigins = allowedOrigins
        self.leeway = leeway
        self.maxTokenSize = maxTokenSize
    }
}
