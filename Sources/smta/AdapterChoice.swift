import ArgumentParser
import Logging
import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase

/// The identity adapters this executable knows; the configuration picks one by name.
enum AdapterChoice: String, CaseIterable, ExpressibleByArgument {
    case supabase
    case payload

    /// The adapter named by the configuration's `adapter` key.
    init(configuration: Configuration) throws {
        let name = try configuration.required(.adapter)
        guard let choice = AdapterChoice(rawValue: name) else {
            throw ConfigurationError(
                key: Configuration.Key.adapter.environmentName,
                problem: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
        }
        self = choice
    }

    /// Every migration for this adapter: the core's, then the adapter's SQL part.
    var migrations: [Migration] {
        switch self {
        case .supabase: CoreSchema.migrations + SupabaseSchema.migrations
        case .payload: CoreSchema.migrations + PayloadSchema.migrations
        }
    }
}

extension AdapterChoice {
    /// The adapter itself, configured from `configuration`.
    /// - Throws: ``ConfigurationError`` naming the key at fault.
    func makeAdapter(configuration: Configuration, logger: Logger) throws -> any IdentityAdapter {
        switch self {
        case .supabase: try SupabaseAdapter(configuration: configuration, logger: logger)
        case .payload: try PayloadAdapter(configuration: configuration, logger: logger)
        }
    }
}
