import ArgumentParser
import Foundation
import Logging
import SMTABridge
import SMTACore
import SMTADev

/// `smta dev`: the embedded local setup, with no configuration.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run SMTA locally: a private PostgreSQL cluster, SQLite Payload sessions and the bridge.",
        discussion: """
            Creates (or reuses) ./.smta: a PostgreSQL cluster from this machine's PostgreSQL \
            binaries, a database migrated for the adapter, and for Payload a SQLite sessions \
            file with a demo user and a live session. Prints a ready credential and a curl \
            request, then serves the bridge. Ctrl-C stops the bridge and the cluster; running \
            again reuses both. Development only: trust authentication, secrets in .smta/dev.json.
            """
    )

    @Option(help: "The identity adapter to run (payload, supabase or oidc).")
    var adapter: AdapterChoice = .payload

    @Option(help: "The bridge's port (overrides SMTA_PORT and smta.json's port; default 3000).")
    var port: Int?

    @Option(help: "The folder holding the local setup.")
    var folder: String?

    @Option(help: "The demo user's email.")
    var email = "demo@example.com"

    @Flag(help: "Delete the local setup (cluster, sessions, secrets) and start over.")
    var reset = false

    func run() async throws {
        let folder = DevSetup.folder(self.folder)
        if reset {
            try Self.remove(folder)
        }
        // The port, like every bridge key, may come from smta.json or SMTA_PORT; the option wins.
        let port = try self.port ?? BridgeSettings(configuration: Configuration.load(keys: AdapterChoice.configurationKeys)).port
        let remedy = "choose another with --port (or SMTA_PORT, or smta.json's port)"
        // Said before PostgreSQL starts, rather than after.
        if port != 0, !LocalCluster.isFree(port: port) {
            throw PortInUse(host: "127.0.0.1", port: port, remedy: remedy)
        }
        let environment = try await DevEnvironment.prepare(folder: folder, adapter: adapter) { Console.line($0) }
        let configuration = environment.configuration(port: port)
        let logger = try Logger.bootstrap(configuration)
        let token = try environment.token(email: email, lifetime: 7 * 24 * 3600)
        let bridge = Bridge(
            adapter: try adapter.makeAdapter(configuration: configuration, logger: logger),
            database: environment.databaseURL, settings: try BridgeSettings(configuration: configuration), logger: logger)
        let scheme = environment.authorizationScheme
        // Said once the bridge listens, with the port it got (0 asks for a free one).
        let banner = { @Sendable (port: Int) in
            """

            SMTA is running (adapter \(adapter.rawValue)).
              bridge:     http://127.0.0.1:\(port)
              database:   \(environment.databaseURL)
              demo user:  \(email) — credential valid 7 days
              more users: swift run smta token --email you@example.com   (a \(adapter.rawValue) credential)

            export SMTA_TOKEN='\(token)'
            curl -s http://127.0.0.1:\(port)/rpc/create_organization \\
              -H "Authorization: \(scheme) $SMTA_TOKEN" -H 'Content-Type: application/json' \\
              -d '{"p_name": "Acme"}'
            curl -s http://127.0.0.1:\(port)/rpc/list_my_organizations -H "Authorization: \(scheme) $SMTA_TOKEN"

            Ctrl-C stops the bridge and the cluster.
            """
        }
        do {
            try await PortInUse.translating(host: "127.0.0.1", port: port, remedy: remedy) {
                try await bridge.run { bound in Console.line(banner(bound)) }
            }
        } catch {
            try? environment.cluster.stop()
            throw error
        }
        Console.line("Stopping PostgreSQL…")
        try environment.cluster.stop()
    }

    private static func remove(_ folder: String) throws {
        let setup = (try? DevSetup.load(from: folder)) ?? nil
        let clusterDirectory = setup?.clusterDirectory(in: folder) ?? folder + "/postgres"
        if FileManager.default.fileExists(atPath: clusterDirectory + "/postmaster.pid"),
            let binaries = try? PostgresBinaries.locate()
        {
            try? LocalCluster(directory: clusterDirectory, port: 0, binaries: binaries).stop()
        }
        if let external = setup?.externalClusterDirectory, FileManager.default.fileExists(atPath: external) {
            try FileManager.default.removeItem(atPath: (external as NSString).deletingLastPathComponent)
            Console.line("Removed \(external).")
        }
        if FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.removeItem(atPath: folder)
            Console.line("Removed \(folder).")
        }
    }
}
