import Logging
import SMTASchema

/// An identity adapter as a plugin: what a program needs to offer it by name without knowing
/// anything else of it — its name, the configuration keys it reads, its SQL part, and how to
/// build it from the configuration.
///
/// The core and the bridge never name an adapter; the one list of plugins lives in the program
/// that ships them (the `smta` tool's `AdapterChoice`).
public protocol AdapterPlugin: IdentityAdapter {
    /// The name the `adapter` key selects it by (`supabase`, `payload`, `oidc`).
    static var adapterName: String { get }

    /// Every configuration key the adapter reads, so that a configuration file naming one is
    /// accepted and a typo is not.
    static var configurationKeys: [Configuration.Key] { get }

    /// The adapter's SQL part, applied after the core migrations (source: ``adapterName``).
    static var migrations: [Migration] { get }

    /// Builds the adapter from `configuration`.
    /// - Throws: ``ConfigurationError`` naming the key at fault.
    init(configuration: Configuration, logger: Logger) throws(ConfigurationError)
}
