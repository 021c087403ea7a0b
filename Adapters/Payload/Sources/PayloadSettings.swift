import Foundation
import SMTACore

/// Everything the Payload adapter needs to know, as one value.
///
/// From the configuration: `SMTA_PAYLOAD_SECRET` (the app's `PAYLOAD_SECRET`),
/// `SMTA_PAYLOAD_DATABASE` (see ``PayloadDatabase``) and `SMTA_PAYLOAD_COLLECTIONS`
/// (comma-separated `slug[:option…]`, default `users`; options `verified`, `nosessions`,
/// `apikey`, `dbName=<table>`, see ``PayloadCollection``), `SMTA_PAYLOAD_COOKIE_PREFIX`,
/// `SMTA_PAYLOAD_CSRF` (comma-separated origins), `SMTA_PAYLOAD_SERVER_URL` (added to those
/// origins, as Payload adds `serverURL`), `SMTA_PAYLOAD_PREVIOUS_SECRETS`
/// (comma-separated secrets whose tokens are still accepted, Payload's `previousSecrets`) and
/// `SMTA_JWT_LEEWAY` (seconds). Unset, they keep Payload's defaults. See `PayloadSettings+Configuration.swift`.
public struct PayloadSettings: Sendable {
    /// The key derived from `PAYLOAD_SECRET` (the secret itself is not kept).
    public var signingKey: PayloadSigningKey
    /// Keys derived from previous secrets (Payload's `previousSecrets` keyring): tokens they
    /// signed are still accepted while the app rotates its secret.
    public var previousSigningKeys: [PayloadSigningKey]
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
        previousSecrets: [String] = [],
        database: PayloadDatabase,
        collections: [PayloadCollection],
        cookiePrefix: String = "payload",
        allowedOrigins: [String] = [],
        leeway: Duration = .zero,
        maxTokenSize: Int = 8192
    ) {
        self.signingKey = PayloadSigningKey(secret: secret)
        self.previousSigningKeys = previousSecrets.map { PayloadSigningKey(secret: $0) }
        self.database = database
        self.collections = collections
        self.cookiePrefix = cookiePrefix
        self.allowedOrigins = allowedOrigins
        self.leeway = leeway
        self.maxTokenSize = maxTokenSize
    }
}
