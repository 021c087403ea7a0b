import ArgumentParser

/// `smta domains`: the platform's tasks for organizations' email domains.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains",
        abstract: "Manage organizations' email domains: verify the claims by DNS.",
        subcommands: [VerifyDomainsCommand.self]
    )
}
