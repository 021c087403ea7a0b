import ArgumentParser

/// `smta billing`: the operator's billing tasks.
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Manage billing: the products (plans) webhooks match prices against.",
        subcommands: [ProductsCommand.self]
    )
}
