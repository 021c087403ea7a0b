import Foundation

/// SMTA's configuration: one value, read from a JSON file and the environment.
///
/// Every key may appear in the file (`smta.json`: `{"adapter": "payload", "database_url": …}`)
/// and in the environment as `SMTA_` plus the key in capitals (`SMTA_DATABASE_URL`); the
/// environment wins. Unknown keys in the file are refused, so a typo cannot silently leave a
/// default in force. The values of secret keys (``Key/isSecret``) are never printed.
public struct Configuration: Sendable {
    /// A key SMTA reads: its file name and environment name.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        /// The name in the configuration file, e.g. `database_url`.
        public let name: String
        /// The environment variable, e.g. `SMTA_DATABASE_URL`.
        public var environmentName: String { "SMTA_" + name.uppercased() }
        /// Whether the value is a secret (never printed).
        public let isSecret: Bool

        /// Declares a key. Each module declares the keys it reads (as static members of an
        /// extension of `Key`) and lists them for ``Configuration/load(file:environment:keys:)``.
        /// - Parameters:
        ///   - name: the lowercase name in the configuration file, e.g. `payload_secret`.
        ///   - secret: whether the value must never be printed.
        public init(_ name: String, secret: Bool = false) {
            self.name = name
            self.isSecret = secret
        }

        public var description: String { "\(environmentName) (\(name))" }

        /// The identity adapter, by its name (`supabase`, `payload`, …).
        public static let adapter = Key("adapter")
        /// The PostgreSQL holding tenant data.
        public static let databaseURL = Key("database_url", secret: true)
        /// The key of SMTA's own secret encryption.
        public static let secretsKey = Key("secrets_key", secret: true)
        /// The log level: trace, debug, info, notice, warning, error or critical (default info).
        public static let logLevel = Key("log_level")
        /// Whether anonymous sign-ins may create organizations and become members (`true` or
        /// `false`, default false).
        public static let allowAnonymousUsers = Key("allow_anonymous_users")

        /// The keys the core itself reads, plus those shared by the adapters that verify JWTs
        /// (``jwtLeeway``, ``jwksURL``, ``jwksFile``, ``jwksRefreshInterval``).
        public static let core: [Key] = [
            .adapter, .databaseURL, .secretsKey, .logLevel, .allowAnonymousUsers, .jwtLeeway, .jwksURL, .jwksFile,
            .jwksRefreshInterval,
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
    /// - Parameters:
    ///   - file: the configuration file to read; nil reads `smta.json` when present.
    ///   - environment: the variables to read `SMTA_…` keys from (the process's by default).
    ///   - keys: every key the program reads (the core's, the bridge's, each adapter's); a file
    ///     key outside them is refused.
    /// - Throws: ``ConfigurationError`` naming the file or key at fault.
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment, keys: [Key]
    ) throws -> Configuration {
        var configuration = Configuration()
        let path = file ?? (FileManager.default.fileExists(atPath: defaultFileName) ? defaultFileName : nil)
        if let path {
            configuration.values = try readFile(path, keys: keys)
        }
        for key in keys {
            if let value = environment[key.environmentName], !value.isEmpty {
                configuration.values[key.name] = value
            }
        }
        return configuration
    }

    private static func readFile(_ path: String, keys: [Key]) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: path, problem: "cannot read the configuration file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError(key: path, problem: "not a JSON object")
        }
        let known = Set(keys.map(\.name))
        var values: [String: String] = [:]
        for (name, value) in object {
            guard known.contains(name) else {
                throw ConfigurationError(
                    key: "\(path): \(name)",
                    problem: "unknown key (known: \(keys.map(\.name).sorted().joined(separator: ", ")))")
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
    public func required(_ key: Key) throws(ConfigurationError) -> String {
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

    /// The value of `key` as a boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`), or
    /// `defaultValue` when unset.
    /// - Throws: ``ConfigurationError`` naming the key for any other value.
    public func boolean(_ key: Key, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let text = self[key]?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty else { return defaultValue }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(key: key.environmentName, problem: "must be true or false")
        }
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
