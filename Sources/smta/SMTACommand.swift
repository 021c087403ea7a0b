import ArgumentParser

/// The `smta` command-line tool.
@main
struct SMTACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smta",
        abstract: "SMTA for Swift: the multi-tenant layer for Supabase and Payload apps on PostgreSQL.",
        subcommands: [DevCommand.self, ServeCommand.self, MigrateCommand.self, TokenCommand.self]
    )
}
