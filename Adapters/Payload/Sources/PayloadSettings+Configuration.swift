import Foundation
import SMTACore

extension Configuration.Key {
    /// The Payload app's `PAYLOAD_SECRET`.
    public static let payloadSecret = Configuration.Key("payload_secret", secret: true)
    /// Secrets the app used before `payload_secret`, comma-separated: tokens they signed are still
    /// accepted (Payload's `previousSecrets`).
    public static let payloadPreviousSecrets = Configuration.Key("payload_previous_secrets", secret: true)
    /// Payload's database: a SQLite file path or a PostgreSQL URL.
    public static let payloadDatabase = Configuration.Key("payload_database", secret: true)
    /// Payload's auth collections, comma-separated, each with its options.
    public static let payloadCollections = Configuration.Key("payload_collections")
    /// Payload's `cookiePrefix` (default `payload`: the cookie is `payload-token`).
    public static let payloadCookiePrefix = Configuration.Key("payload_cookie_prefix")
    /// Payload's `csrf` list: comma-separated origins allowed to authenticate with the cookie.
    public static let payloadCSRF = Configuration.Key("payload_csrf")
    /// Payload's `serverURL`: like Payload, SMTA adds it to the `csrf` list, so that setting it
    /// alone already restricts the cookie to requests from that origin.
    public static let payloadServerURL = Configuration.Key("payload_server_url")
}

extension PayloadSettings {
    /// The keys the Payload adapter reads, besides the core's shared `jwt_leeway`.
    public static let configurationKeys: [Configuration.Key] = [
        .payloadSecret, .payloadPreviousSecrets, .payloadDatabase, .payloadCollections, .payloadCookiePrefix, .payloadCSRF,
        .payloadServerURL,
    ]

    /// Reads the settings from `configuration`.
    /// - Throws: `ConfigurationError` naming the key at fault: a missing secret or database,
    ///   a malformed database URL, a collection list with an invalid slug or option, an empty
    ///   cookie prefix, an origin (`csrf` entry or server URL) that is not `scheme://host[:port]`,
    ///   a leeway outside 0–300 s.
    public init(configuration: Configuration) throws(ConfigurationError) {
        let secret = try configuration.required(.payloadSecret)
        let database = try PayloadDatabase(try configuration.required(.payloadDatabase))
        let collections = try Self.collections(configuration[.payloadCollections] ?? "users")
        let cookiePrefix = (configuration[.payloadCookiePrefix] ?? "payload").trimmingCharacters(in: .whitespaces)
        guard !cookiePrefix.isEmpty, cookiePrefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(
                key: Configuration.Key.payloadCookiePrefix.environmentName,
                problem: "must be letters, digits, '-' or '_'")
        }
        var origins = configuration.list(.payloadCSRF)
        for origin in origins where !Self.isOrigin(origin) {
            throw ConfigurationError(
                key: Configuration.Key.payloadCSRF.environmentName,
                problem: "'\(origin)' is not an origin (scheme://host[:port])")
        }
        // Payload's sanitizeConfig: `if (config.serverURL !== '') config.csrf.push(config.serverURL)`.
        if let serverURL = configuration[.payloadServerURL]?.trimmingCharacters(in: .whitespaces), !serverURL.isEmpty {
            guard Self.isOrigin(serverURL) else {
                throw ConfigurationError(
                    key: Configuration.Key.payloadServerURL.environmentName,
                    problem: "'\(serverURL)' is not an origin (scheme://host[:port], no path), as Payload's serverURL must be")
            }
            origins.append(serverURL)
        }
        let clock = try configuration.tokenClock(default: .zero)
        self.init(
            secret: secret, previousSecrets: configuration.list(.payloadPreviousSecrets), database: database, collections: collections, cookiePrefix: cookiePrefix,
            allowedOrigins: origins, leeway: clock.leeway)
    }

    /// Whether `text` is an origin, `scheme://host[:port]` with no path.
    private static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), url.scheme != nil, url.host != nil, url.path.isEmpty else { return false }
        return true
    }

    /// Parses `slug[:option…]` entries, comma-separated. Options: `verified` (`auth.verify`),
    /// `nosessions` (`auth.useSessions: false`), `apikey` (`auth.useAPIKey`) and
    /// `dbName=<table>` (the collection's `dbName`).
    private static func collections(_ list: String) throws(ConfigurationError) -> [PayloadCollection] {
        let key = Configuration.Key.payloadCollections.environmentName
        var collections: [PayloadCollection] = []
        for entry in list.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            var verified = false
            var sessions = true
            var apiKeys = false
            var dbName: String?
            for option in parts.dropFirst() {
                switch option {
                case "verified" where !verified: verified = true
                case "nosessions" where sessions: sessions = false
                case "apikey" where !apiKeys: apiKeys = true
                case _ where option.hasPrefix("dbName=") && dbName == nil: dbName = String(option.dropFirst("dbName=".count))
                default:
                    throw ConfigurationError(
                        key: key,
                        problem: "'\(entry)': '\(option.prefix(40))' is not an option (verified, nosessions, apikey, dbName=<table>), or is given twice")
                }
            }
            let collection: PayloadCollection
            do {
                collection = try PayloadCollection(
                    slug: String(parts[0]), requiresVerification: verified, usesSessions: sessions, usesAPIKeys: apiKeys, dbName: dbName)
            } catch {
                throw ConfigurationError(key: key, problem: error.description)
            }
            guard !collections.contains(where: { $0.slug == collection.slug }) else {
                throw ConfigurationError(key: key, problem: "'\(collection.slug)' is listed twice")
            }
            guard !collections.contains(where: { $0.tableName == collection.tableName }) else {
                throw ConfigurationError(key: key, problem: "'\(collection.slug)' would read the same table as another collection (\(collection.tableName))")
            }
            collections.append(collection)
        }
        guard !collections.isEmpty else {
            throw ConfigurationError(key: key, problem: "names no collection (default: users)")
        }
        return collections
    }
}
