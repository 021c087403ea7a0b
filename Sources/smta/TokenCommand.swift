import ArgumentParser
import Foundation
import SMTADev

/// `smta token`: a development credential for an email, from the `smta dev` setup only.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a development credential for an email (needs a smta dev setup).",
        discussion: """
            Reads the secrets of ./.smta/dev.json, never the configuration or environment, so it \
            cannot mint credentials for a real deployment. The credential is for the adapter the \
            latest `smta dev` serves (recorded in dev.json) unless --adapter names another. For \
            Payload the user is created in the dev SQLite file when missing and gets a new \
            session. Prints only the token.
            """
    )

    @Option(help: "The user's email.")
    var email: String

    @Option(help: "The identity adapter the credential is for (default: the one `smta dev` serves).")
    var adapter: AdapterChoice?

    @Option(help: "The folder holding the local setup.")
    var folder: String?

    @Option(help: "Seconds the credential stays valid.")
    var lifetime: Int = 7200

    func validate() throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(where: \.isWhitespace) else {
            throw ValidationError("'\(email)' is not an email address")
        }
        guard (60...(30 * 24 * 3600)).contains(lifetime) else {
            throw ValidationError("--lifetime must be from 60 seconds to 30 days")
        }
    }

    func run() async throws {
        let folder = DevSetup.folder(self.folder)
        guard let setup = try DevSetup.load(from: folder) else {
            throw ValidationError("no smta dev setup in \(folder): run `smta dev` first (smta token only mints development credentials)")
        }
        // Setups saved before dev.json recorded the adapter were Payload's unless told otherwise.
        let adapter = self.adapter ?? setup.adapter.flatMap(AdapterChoice.init(rawValue:)) ?? .payload
        let binaries = try PostgresBinaries.locate()
        let environment = DevEnvironment(
            folder: folder, setup: setup, adapter: adapter,
            cluster: .init(directory: setup.clusterDirectory(in: folder), port: setup.postgresPort, binaries: binaries))
        print(try environment.token(email: email, lifetime: TimeInterval(lifetime)))
    }
}
