import Foundation
import SMTACore

/// Everything the Payload adapter needs to know, as one value.
///
/// From the configuration: `SMTA_PAYLOAD_SECRET` (the app's `PAYLOAD_SECRET`),
/// `SMTA_PAYLOAD_DATABASE` (see ``PayloadDatabase``) and `SMTA_PAYLOAD_COLLECTIONS`
/// (comma-separated slugs, default `users`; a slug followed by `:verified` requires the
/// user's `_verified` flag, as `auth.verify` does), `SMTA_PAYLOAD_COOKIE_PREFIX`,
/// `SMTA_PAYLOAD_CSRF` (comma-separated origins) and `SMTA_JWT_LEEWAY` (seconds). Unset, they
/// keep Payload's defaults.
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
    /// Seconds of clock skew tolerated on the token's `exp`.
    public var leeway: Double
    /// Tokens longer than this many bytes are refused unread.
    public var maximumTokenSize: Int

    /// Creates settings.
    public init(
        secret: String,
        database: PayloadDatabase,
        collections: [PayloadCollection],
        cookiePrefix: String = "payload",
        allowedOrigins: [String] = [],
        leeway: Double = 30,
        maximumTokenSize: Int = 8192
    ) {
        self.signingKey = PayloadSigningKey(secret: secret)
        self.database = database
        self.collections = collections
        self.cookiePrefix = cookiePrefix
        self.allowedOrigins = allowedOrigins
        self.leeway = leeway
        self.maximumTokenSize = maximumTokenSize
    }

    /// Reads the settings from `configuration`.
    /// - Throws: ``ConfigurationError`` naming the key at fault: a missing secret or database,
    ///   a malformed database URL, a collection list with an invalid slug or option, an empty
    ///   cookie prefix, an origin that is not `scheme://host[:port]`, a leeway outside 0–300 s.
    public init(configuration: Configuration) throws {
        let secret = try configuration.required(.payloadSecret)
        let database = try PayloadDatabase(try configuration.required(.payloadDatabase))
        let collections = try Self.collections(configuration[.payloadCollections] ?? "users")
        let cookiePrefix = (configuration[.payloadCookiePrefix] ?? "payload").trimmingCharacters(in: .whitespaces)
        guard !cookiePrefix.isEmpty, cookiePrefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(
                key: Configuration.Key.payloadCookiePrefix.environmentName,
                problem: "must be letters, digits, '-' or '_'")
        }
        let origins = configuration.list(.payloadCSRF)
        for origin in origins {
            guard let url = URL(string: origin), url.scheme != nil, url.host != nil, url.path.isEmpty else {
                throw ConfigurationError(
                    key: Configuration.Key.payloadCSRF.environmentName,
                    problem: "'\(origin)' is not an origin (scheme://host[:port])")
            }
        }
        let leeway = try configuration.number(.jwtLeeway, in: 0...300, default: 30)
        self.init(
            secret: secret, database: database, collections: collections, cookiePrefix: cookiePrefix,
            allowedOrigins: origins, leeway: leeway)
    }

    private static func collections(_ list: String) throws -> [PayloadCollection] {
        let key = Configuration.Key.payloadCollections.environmentName
        var collections: [PayloadCollection] = []
        for entry in list.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, parts.count == 1 || parts[1] == "verified" else {
                throw ConfigurationError(key: key, problem: "'\(entry)': expected a slug, or a slug followed by :verified")
            }
            do {
                let collection = try PayloadCollection(slug: String(parts[0]), requiresVerification: parts.count == 2)
                guard !collections.contains(where: { $0.slug == collection.slug }) else {
                    throw ConfigurationError(key: key, problem: "'\(collection.slug)' is listed twice")
                }
                collections.append(collection)
            } catch let error as PayloadCollection.InvalidSlug {
                throw ConfigurationError(key: key, problem: error.description)
            }
        }
        guard !collections.isEmpty else {
            throw ConfigurationError(key: key, problem: "names no collection (default: users)")
        }
        return collections
    }
}
