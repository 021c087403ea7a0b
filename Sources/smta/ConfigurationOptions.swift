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
