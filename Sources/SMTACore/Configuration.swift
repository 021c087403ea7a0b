import Foundation

/// SMTA's configuration: one value, read from a JSON file and the environment.
///
/// Every key may appear in the file (`smta.json`: `{"adapter": "payload", "database_url": …}`)
/// and in the environment as `SMTA_` plus the key in capitals (`SMTA_DATABASE_URL`); the
/// environment wins. Unknown keys in the file are refused, so a typo cannot silently leave a
/// default in force. Secrets are held as ``Secret`` and never printed.
public struct Configuration: Sendable {
    /// A key SMTA reads: its file name and environment name.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        /// The name in the configuration file, e.g. `database_url`.
        public let name: String
        /// The environment variable, e.g. `SMTA_DATABASE_URL`.
        public var environmentName: String { "SMTA_" + name.uppercased() }
        /// Whether the value is a secret (never printed).
        public let isSecret: Bool

        init(_ name: String, secret: Bool = false) {
            self.name = name
            self.isSecret = secret
        }

        public var description: String { "\(environmentName) (\(name))" }

        /// `supabase` or `payload`.
        public static let adapter = Key("adapter")
        /// The PostgreSQL holding tenant data.
        public static let databaseURL = Key("database_url", secret: true)
        /// The bridge's listen address.
        public static let host = Key("host")
        /// The bridge's port.
        public static let port = Key("port")
        /// Supabase's HS256 JWT secret.
        public static let jwtSecret = Key("jwt_secret", secret: true)
        /// Where Supabase's JWKS is served.
        public static let jwksURL = Key("jwks_url")
        /// A file holding Supabase's JWKS.
        public static let jwksFile = Key("jwks_file")
        /// The expected `aud` claim.
        public static let jwtAudience = Key("jwt_aud")
        /// The expected `iss` claim.
        public static let jwtIssuer = Key("jwt_iss")
        /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat` (both adapters; default 30).
        public static let jwtLeeway = Key("jwt_leeway")
        /// The Payload app's `PAYLOAD_SECRET`.
        public static let payloadSecret = Key("payload_secret", secret: true)
        /// Payload's database: a SQLite file path or a PostgreSQL URL.
        public static let payloadDatabase = Key("payload_database", secret: true)
        /// Payload's auth collections, comma-separated.
        public static let payloadCollections = Key("payload_collections")
        /// Payload's `cookiePrefix` (default `payload`: the cookie is `payload-token`).
        public static let payloadCookiePrefix = Key("payload_cookie_prefix")
        /// Payload's `csrf` list: comma-separated origins allowed to authenticate with the cookie.
        public static let payloadCSRF = Key("payload_csrf")
        /// The key of SMTA's own secret encryption.
        public static let secretsKey = Key("secrets_key", secret: true)
        /// Stripe's webhook signing secret.
        public static let stripeWebhookSecret = Key("stripe_webhook_secret", secret: true)
        /// Lemon Squeezy's webhook signing secret.
        public static let lemonSqueezyWebhookSecret = Key("lemonsqueezy_webhook_secret", secret: true)
        /// The most PostgreSQL connections the bridge opens (default 16).
        public static let poolSize = Key("pool_size")
        /// Seconds a bridge request may take, waiting for a connection included (default 30).
        public static let requestTimeout = Key("request_timeout")
        /// Seconds one statement may run before PostgreSQL cancels it (default 15).
        public static let statementTimeout = Key("statement_timeout")
        /// The largest request body the bridge reads, in bytes (default 1048576).
        public static let maxBodySize = Key("max_body_size")
        /// The log level: trace, debug, info, notice, warning, error or critical (default info).
        public static let logLevel = Key("log_level")
        /// Browser origins allowed to call the bridge *with credentials* (cookies), comma-separated;
        /// every other origin may call it without credentials, as PostgREST allows by default.
        public static let corsOrigins = Key("cors_origins")
        /// The Supabase project's publishable keys (`sb_publishable_…`), comma-separated: the
        /// `anon` role when no user token comes with them.
        public static let supabasePublishableKeys = Key("supabase_publishable_keys", secret: true)
        /// The Supabase project's secret keys (`sb_secret_…`), comma-separated: the `service_role`.
        public static let supabaseSecretKeys = Key("supabase_secret_keys", secret: true)

        /// Every key, in documentation order.
        public static let all: [Key] = [
            .adapter, .databaseURL, .host, .port, .jwtSecret, .jwksURL, .jwksFile, .jwtAudience,
            .jwtIssuer, .jwtLeeway, .payloadSecret, .payloadDatabase, .payloadCollections,
            .payloadCookiePrefix, .payloadCSRF, .secretsKey, .stripeWebhookSecret,
            .lemonSqueezyWebhookSecret, .poolSize, .requestTimeout, .statementTimeout, .maxBodySize,
            .logLevel, .corsOrigins, .supabasePublishableKeys, .supabaseSecretKeys,
        ]
    }

    /// The default configuration file, looked for in the working directory.
    public static let defaultFileName = "smta.json"

    private var values: [String: String]

    /// Creates a configuration from raw values by key name (for tests and embedding).
    public init(values: [Key: String] = [:]) {
        self.values = Dictionary(uniqueKeysWithValues: values.map { ($0.key.name, $0.value) })
    }

    /// Loads the configuration: the file (if `file` is given it must exist; otherwise
    /// `smta.json` in the working directory is read when present), then the environment on top.
    /// - Throws: ``ConfigurationError`` naming the file or key at fault.
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Configuration {
        var configuration = Configuration()
        let path = file ?? (FileManager.default.fileExists(atPath: defaultFileName) ? defaultFileName : nil)
        if let path {
            configuration.values = try readFile(path)
        }
        for key in Key.all {
            if let value = environment[key.environmentName], !value.isEmpty {
                configuration.values[key.name] = value
            }
        }
        return configuration
    }

    private static func readFile(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: path, problem: "cannot read the configuration file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError(key: path, problem: "not a JSON object")
        }
        let known = Set(Key.all.map(\.name))
        var values: [String: String] = [:]
        for (name, value) in object {
            guard known.contains(name) else {
                throw ConfigurationError(
                    key: "\(path): \(name)",
                    problem: "unknown key (known: \(Key.all.map(\.name).joined(separator: ", ")))")
            }
            switch value {
            case let text as String: values[name] = text
            case let number as NSNumber: values[name] = number.stringValue
            default: throw ConfigurationError(key: "\(path): \(name)", problem: "must be a string or a number")
            }
        }
        return values
    }

    /// The raw value of `key`, if set.
    public subscript(key: Key) -> String? {
        get { values[key.name] }
        set { values[key.name] = newValue }
    }

    /// The value of `key`, or a ``ConfigurationError`` saying it is missing.
    public func required(_ key: Key) throws -> String {
        guard let value = self[key], !value.isEmpty else {
            throw ConfigurationError(key: key.environmentName, problem: "is not set (environment or \(Self.defaultFileName): \(key.name))")
        }
        return value
    }

    /// The value of `key` as a number within `range`, or `defaultValue` when unset.
    /// - Throws: ``ConfigurationError`` naming the key when the value is not a number in `range`.
    public func number(_ key: Key, in range: ClosedRange<Double>, default defaultValue: Double) throws(ConfigurationError) -> Double {
        guard let text = self[key], !text.isEmpty else { return defaultValue }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, range.contains(value) else {
            throw ConfigurationError(
                key: key.environmentName,
                problem: "must be a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
        }
        return value
    }

    /// The value of `key` as a whole number within `range`, or `defaultValue` when unset.
    /// - Throws: ``ConfigurationError`` naming the key when the value is not a whole number in `range`.
    public func integer(_ key: Key, in range: ClosedRange<Int>, default defaultValue: Int) throws(ConfigurationError) -> Int {
        guard let text = self[key], !text.isEmpty else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                key: key.environmentName, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The value of `key` split at commas, trimmed, empty entries dropped; empty when unset.
    public func list(_ key: Key) -> [String] {
        (self[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }

    /// The PostgreSQL URL holding tenant data.
    public func databaseURL() throws -> DatabaseURL {
        let text = try required(.databaseURL)
        do {
            return try DatabaseURL(text)
        } catch let error as ConfigurationError {
            throw ConfigurationError(key: Key.databaseURL.environmentName, problem: error.problem)
        }
    }
}
