import ArgumentParser
import Logging
import SMTABridge
import SMTACore
import SMTAOIDC
import SMTAPayload
import SMTASchema
import SMTASupabase

/// The identity adapters this executable ships: the one place that names them. Everything
/// else about an adapter (its keys, its SQL part, how it is built) comes from its
/// `AdapterPlugin` conformance.
enum AdapterChoice: String, CaseIterable, ExpressibleByArgument {
    case supabase
    case payload
    case oidc

    /// The adapter's plugin type.
    var plugin: any AdapterPlugin.Type {
        switch self {
        case .supabase: SupabaseAdapter.self
        case .payload: PayloadAdapter.self
        case .oidc: OIDCAdapter.self
        }
    }

    /// The adapter named by the configuration's `adapter` key.
    init(configuration: Configuration) throws {
        let name = try configuration.required(.adapter)
        guard let choice = Self.allCases.first(where: { $0.plugin.adapterName == name }) else {
            throw ConfigurationError(
                key: Configuration.Key.adapter.environmentName,
                problem: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
        }
        self = choice
    }

    /// Every configuration key this executable reads: the core's, the bridge's and each
    /// adapter's, each once.
    static var configurationKeys: [Configuration.Key] {
        var seen = Set<String>()
        return (Configuration.Key.core + BridgeSettings.configurationKeys + allCases.flatMap { $0.plugin.configurationKeys })
            .filter { seen.insert($0.name).inserted }
    }

    /// Every migration for this adapter: the core's, then the adapter's SQL part.
    var migrations: [Migration] {
        CoreSchema.migrations + plugin.migrations
    }

    /// The adapter itself, configured from `configuration`.
    /// - Throws: `ConfigurationError` naming the key at fault.
    func makeAdapter(configuration: Configuration, logger: Logger) throws -> any IdentityAdapter {
        try plugin.init(configuration: configuration, logger: logger)
    }
}
