import ArgumentParser

/// `smta dev`: the embedded local setup. Not built yet; says so instead of pretending.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run SMTA locally with a private PostgreSQL cluster and SQLite sessions (coming soon)."
    )

    func run() async throws {
        print("""
            smta dev is coming: the local cluster and bridge are not built yet.
            Today you can apply the schema to a PostgreSQL you run yourself:
              smta migrate --adapter payload --database-url postgres://postgres@127.0.0.1:5432/smta
            """)
        throw ExitCode(2)
    }
}
