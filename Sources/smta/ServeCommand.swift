import ArgumentParser
import Logging
import SMTABridge
import SMTACore

/// `smta serve`: the bridge server, configured by file and environment.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve SMTA's public functions over HTTP in PostgREST's RPC dialect.",
        discussion: """
            Routes: POST|GET /rpc/{function} (also under /rest/v1), GET /health, GET /live, \
            GET /ready, GET /metrics (also on admin_port), POST /webhooks/stripe and \
            /webhooks/lemonsqueezy. Every call is authenticated by the \
            configured adapter and runs as the caller under row-level security. SIGTERM or SIGINT \
            stops accepting connections and finishes the requests in flight.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The address to listen on (overrides SMTA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (overrides SMTA_PORT; default 3000).")
    var port: Int?

    func run() async throws {
        var configuration = try options.load()
        if let host { configuration[.host] = host }
        if let port { configuration[.port] = String(port) }
        let logger = try Logger.bootstrap(configuration)
        let adapter = try configuration.adapterChoice()
        let url = try configuration.requiredDatabaseURL()
        let settings = try BridgeSettings(configuration: configuration)
        // Every configuration error stops start-up before the database is contacted.
        let identityAdapter = try adapter.makeAdapter(configuration: configuration, logger: logger)
        try await SchemaCheck.refusePending(adapter: adapter, url: url, logger: logger)
        let bridge = Bridge(adapter: identityAdapter, database: url, settings: settings, logger: logger)
        try await PortInUse.translating(
            host: settings.host, port: settings.port, remedy: "choose another with --port (or SMTA_PORT, or smta.json's port)"
        ) {
            try await bridge.run { port in
                logger.notice("smta bridge listening on http://\(settings.host):\(port) (adapter \(adapter.rawValue), database \(url))")
            }
        }
    }
}
