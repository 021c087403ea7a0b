import ArgumentParser
import NIOCore
import NIOPosix

/// The `smta` command-line tool.
@main
struct SMTACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smta",
        abstract: "SMTA for Swift: the multi-tenant layer for Supabase and Payload apps on PostgreSQL.",
        subcommands: [DevCommand.self, ServeCommand.self, MigrateCommand.self, DoctorCommand.self, FunctionsCommand.self, OpenAPICommand.self, BillingCommand.self, DomainsCommand.self, TokenCommand.self, BenchCommand.self]
    )

    /// Runs the command with SwiftNIO's event loops as Swift Concurrency's executor, so the
    /// bridge's handlers, the PostgreSQL client and the HTTP server share threads instead of
    /// handing every request between NIO's threads and the default pool.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
