import Foundation
import Logging
import PostgresNIO
import SMTACore
import SMTADev

/// The local system `smta dev` runs: a private PostgreSQL cluster, a database migrated for the
/// adapter, and (for Payload) the SQLite sessions file or (for OIDC) the demo issuer's JWKS, all
/// under one folder.
struct DevEnvironment {
    let folder: String
    let setup: DevSetup
    let adapter: AdapterChoice
    let cluster: LocalCluster

    /// The tenant database's name for the adapter (one per adapter, so both can be tried).
    var databaseName: String { "smta_\(adapter.rawValue)" }
    /// The tenant database.
    var databaseURL: DatabaseURL { cluster.url(database: databaseName) }

    /// Opens the environment in `folder`, creating what is missing, starting the cluster when it
    /// is stopped and migrating the database. `say` reports each long step.
    static func prepare(folder: String, adapter: AdapterChoice, say: @escaping @Sendable (String) -> Void) async throws -> DevEnvironment {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var setup: DevSetup
        if let saved = try DevSetup.load(from: folder) {
            setup = saved
        } else {
            setup = try DevSetup.make(for: folder)
            try setup.save(to: folder)
            if let external = setup.externalClusterDirectory {
                say("The postgres user cannot enter \(folder); the cluster's data goes to \(external).")
            }
        }
        let binaries = try PostgresBinaries.locate()
        var cluster = LocalCluster(directory: setup.clusterDirectory(in: folder), port: setup.postgresPort, binaries: binaries)
        if !cluster.exists {
            say("Creating a private PostgreSQL cluster in \(cluster.dataDirectory) (initdb)…")
            try cluster.create()
        }
        if !cluster.isRunning {
            if !LocalCluster.isFree(port: setup.postgresPort) {
                setup.postgresPort = try LocalCluster.freePort()
                try setup.save(to: folder)
                cluster = LocalCluster(directory: cluster.dataDirectory, port: setup.postgresPort, binaries: binaries)
            }
            say("Starting PostgreSQL on 127.0.0.1:\(setup.postgresPort)…")
            try cluster.start()
        }
        if adapter == .oidc {
            let key = setup.oidcKey()
            try DevToken.oidcJWKS(for: key).write(to: URL(fileURLWithPath: DevSetup.oidcJWKS(in: folder)))
        }
        if adapter == .oidc || setup.adapter != adapter.rawValue {
            setup.adapter = adapter.rawValue
            try setup.save(to: folder)
        }
        let environment = DevEnvironment(folder: folder, setup: setup, adapter: adapter, cluster: cluster)
        try await environment.createDatabase()
        let migrator = Migrator(migrations: adapter.migrations)
        let applied = try await migrator.migrate(environment.databaseURL) { step in
            if case .applying(let migration) = step { say("  migrating: \(migration.id)") }
        }
        if !applied.isEmpty {
            say("Applied \(applied.count) migration(s) to \(environment.databaseName).")
        }
        return environment
    }

    /// The configuration `smta serve` would need for this environment.
    func configuration(port: Int) -> Configuration {
        var values: [Configuration.Key: String] = [
            .adapter: adapter.rawValue, .databaseURL: databaseURL.description, .port: String(port),
            .secretsKey: setup.secretsKey,
        ]
        switch adapter {
        case .payload:
            values[.payloadSecret] = setup.payloadSecret
            values[.payloadDatabase] = DevSetup.payloadDatabase(in: folder)
        case .supabase:
            values[.jwtSecret] = setup.jwtSecret
        case .oidc:
            values[.oidcIssuer] = DevSetup.oidcIssuer
            values[.oidcAudience] = "smta-dev"
            values[.jwksFile] = DevSetup.oidcJWKS(in: folder)
        }
        return Configuration(values: values)
    }

    /// A credential for `email`, valid for `lifetime` seconds: for Payload, the user is created
    /// in the SQLite file when missing and gets a new session.
    func token(email: String, lifetime: TimeInterval) throws -> String {
        switch adapter {
        case .payload:
            let database = try DevPayloadDatabase(path: DevSetup.payloadDatabase(in: folder))
            let id = try database.userID(email: email)
            let sid = try database.openSession(userID: id, lifetime: lifetime)
            return DevToken.payload(id: id, email: email, sid: sid, secret: setup.payloadSecret, lifetime: lifetime)
        case .supabase:
            return DevToken.supabase(
                userID: DevToken.supabaseUserID(email: email), email: email, secret: setup.jwtSecret, lifetime: lifetime)
        case .oidc:
            var setup = setup
            return DevToken.oidc(email: email, issuer: DevSetup.oidcIssuer, key: setup.oidcKey(), lifetime: lifetime)
        }
    }

    /// The header carrying a credential, as the adapter's platform sends it.
    var authorizationScheme: String { adapter == .payload ? "JWT" : "Bearer" }

    private func createDatabase() async throws {
        let logger = Logger(label: "smta.dev")
        try await cluster.url().withConnection(applicationName: "smta-dev", logger: logger) { connection in
            let rows = try await connection.guardedQuery(
                "select 1 from pg_catalog.pg_database where datname = \(databaseName)", logger: logger)
            if rows.isEmpty {
                // The name is one of two fixed identifiers (smta_payload, smta_supabase).
                _ = try await connection.guardedQuery(PostgresQuery(unsafeSQL: "create database \(databaseName)"), logger: logger)
            }
        }
    }
}
