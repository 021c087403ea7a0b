import ArgumentParser
import Foundation
import SMTACore
import SMTASchema

/// `smta migrate`: applies the schema for the configured adapter.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply SMTA's schema (core plus the adapter's SQL part) to a PostgreSQL database.",
        discussion: """
            Each migration runs in its own transaction under an advisory lock and is recorded \
            with its checksum in smta.schema_migrations; running again applies only what is new. \
            --status changes nothing; without --adapter it reads the adapter from the database, \
            and it exits with status 1 when the database was migrated for another adapter.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "List applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let configuration = try options.load()
        let url = try configuration.requiredDatabaseURL()
        if status {
            try await printStatus(url: url, requested: configuration[.adapter] == nil ? nil : configuration.adapterChoice())
            return
        }
        let adapter: AdapterChoice
        do {
            adapter = try configuration.adapterChoice()
        } catch let error as ConfigurationError {
            // Say which adapter the database already has, when it can be read.
            guard let found = try? await Self.adapters(in: url), found.count == 1, let only = found.first else { throw error }
            throw ConfigurationError(key: error.key, problem: error.problem + " (this database was migrated with --adapter \(only.rawValue))")
        }
        print("Migrating \(url) for the \(adapter.rawValue) adapter")
        let applied = try await Migrator(migrations: adapter.migrations).migrate(url) { step in
            switch step {
            case .applying(let migration):
                print("  applying \(migration.id)")
            case .applied(let migration, let duration):
                print("  applied  \(migration.id) in \(duration.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
            }
        }
        print(applied.isEmpty ? "Up to date: nothing to apply." : "Applied \(applied.count) migration(s).")
    }

    /// The adapters whose SQL part the database holds (none for an empty or core-only database;
    /// more than one only if someone mixed them by hand). Reads only.
    static func adapters(in url: DatabaseURL) async throws -> [AdapterChoice] {
        var everything = CoreSchema.migrations
        for adapter in AdapterChoice.allCases {
            everything += adapter.migrations.filter { $0.source != "core" }
        }
        let status = try await Migrator(migrations: everything).status(of: url)
        let sources = Set(status.entries.compactMap { $0.applied?.source } + status.unknown.map(\.source))
        return AdapterChoice.allCases.filter { adapter in
            adapter.migrations.contains { $0.source != "core" && sources.contains($0.source) }
        }
    }

    /// Prints what is applied and pending, for `requested` or else the adapter the database was
    /// migrated for; exits 1 when the database belongs to another adapter.
    private func printStatus(url: DatabaseURL, requested: AdapterChoice?) async throws {
        let found = try await Self.adapters(in: url)
        if let requested, !found.isEmpty, !found.contains(requested) {
            let other = found.map(\.rawValue).joined(separator: " and ")
            FileHandle.standardError.write(Data("""
                smta migrate: \(url) was migrated for the \(other) adapter, not \(requested.rawValue): \
                run `smta migrate --status --adapter \(found[0].rawValue)`, or point --database-url at the \(requested.rawValue) database.

                """.utf8))
            throw ExitCode(1)
        }
        if requested == nil, found.count > 1 {
            FileHandle.standardError.write(Data("""
                smta migrate: \(url) holds the SQL of several adapters (\(found.map(\.rawValue).joined(separator: ", "))): \
                name the one to report with --adapter.

                """.utf8))
            throw ExitCode(1)
        }
        let adapter = requested ?? found.first
        let migrations = adapter?.migrations ?? CoreSchema.migrations
        let status = try await Migrator(migrations: migrations).status(of: url)
        switch (adapter, requested) {
        case (let adapter?, nil): print("Migrations of \(url) (adapter \(adapter.rawValue), read from the database):")
        case (let adapter?, _): print("Migrations of \(url) (adapter \(adapter.rawValue)):")
        case (nil, _): print("Migrations of \(url) (core only: no adapter's migration is applied yet):")
        }
        for (migration, applied) in status.entries {
            let state: String
            if let applied {
                state = applied.checksum == migration.checksum
                    ? "applied \(applied.appliedAt.formatted(.iso8601))" : "CHANGED since applied"
            } else {
                state = "pending"
            }
            print("  \(migration.id.padding(toLength: 40, withPad: " ", startingAt: 0)) \(state)")
        }
        for unknown in status.unknown {
            print("  \(unknown.id.padding(toLength: 40, withPad: " ", startingAt: 0)) applied, unknown to this smta")
        }
        print("\(status.pending.count) pending.")
        if adapter == nil {
            print("The adapter's own migrations are listed with --adapter \(AdapterChoice.allCases.map(\.rawValue).joined(separator: "|")).")
        }
    }
}
