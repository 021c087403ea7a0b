import ArgumentParser
import Foundation
import SMTACore

/// `smta migrate`: applies the schema for the configured adapter.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply SMTA's schema (core plus the adapter's SQL part) to a PostgreSQL database.",
        discussion: """
            Each migration runs in its own transaction under an advisory lock and is recorded \
            with its checksum in smta.schema_migrations; running again applies only what is new.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "List applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let configuration = try options.load()
        let adapter = try AdapterChoice(configuration: configuration)
        let url = try configuration.databaseURL()
        let migrator = Migrator(migrations: adapter.migrations)
        if status {
            try await printStatus(migrator.status(of: url), url: url)
            return
        }
        print("Migrating \(url) for the \(adapter.rawValue) adapter")
        let applied = try await migrator.migrate(url) { step in
            switch step {
            case .applying(let migration):
                print("  applying \(migration.id)")
            case .applied(let migration, let duration):
                print("  applied  \(migration.id) in \(duration.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
            }
        }
        print(applied.isEmpty ? "Up to date: nothing to apply." : "Applied \(applied.count) migration(s).")
    }

    private func printStatus(_ status: MigrationStatus, url: DatabaseURL) {
        print("Migrations of \(url):")
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
    }
}
