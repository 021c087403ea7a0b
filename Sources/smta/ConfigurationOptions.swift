import ArgumentParser
import SMTACore

/// Options shared by commands that read the configuration.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "The configuration file (default: ./smta.json when present).")
    var file: String?

    @Option(help: "The identity adapter: \(AdapterChoice.allCases.map(\.rawValue).joined(separator: ", ")) (overrides SMTA_ADAPTER).")
    var adapter: AdapterChoice?

    @Option(name: .customLong("database-url"), help: "The PostgreSQL URL (overrides SMTA_DATABASE_URL).")
    var databaseURL: String?

    /// The configuration from file and environment, with these options on top.
    func load() throws -> Configuration {
        var configuration = try Configuration.load(file: file, keys: AdapterChoice.configurationKeys)
        if let adapter { configuration[.adapter] = adapter.rawValue }
        if let databaseURL { configuration[.databaseURL] = databaseURL }
        return configuration
    }
}

extension Configuration {
    /// The adapter, or an error naming all three ways to give it (`--adapter`, `SMTA_ADAPTER`,
    /// `smta.json`) when it is not set.
    func adapterChoice() throws -> AdapterChoice {
        guard self[.adapter]?.isEmpty == false else {
            throw ConfigurationError(
                key: Key.adapter.environmentName,
                problem: "is not set: pass --adapter \(AdapterChoice.allCases.map(\.rawValue).joined(separator: "|")), "
                    + "or set SMTA_ADAPTER or smta.json's adapter")
        }
        return try AdapterChoice(configuration: self)
    }

    /// The database URL, or an error naming all three ways to give it (`--database-url`,
    /// `SMTA_DATABASE_URL`, `smta.json`) when it is not set.
    func requiredDatabaseURL() throws -> DatabaseURL {
        guard self[.databaseURL]?.isEmpty == false else {
            throw ConfigurationError(
                key: Key.databaseURL.environmentName,
                problem: "is not set: pass --database-url postgres://user:password@host:port/database, "
                    + "or set SMTA_DATABASE_URL or smta.json's database_url")
        }
        return try databaseURL()
    }
}
