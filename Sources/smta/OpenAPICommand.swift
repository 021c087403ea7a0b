import ArgumentParser
import Foundation
import Logging
import SMTABridge
import SMTACore

/// `smta openapi`: prints the OpenAPI document that `smta serve` answers at `GET /`, read from a
/// database's function catalog.
struct OpenAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the bridge's OpenAPI document: the API functions a role may execute.",
        discussion: """
            The same document `smta serve` answers at GET / (and GET /rest/v1/), generated from \
            the database's catalog: every public function the role may execute, its arguments, \
            its result and its comment. Exit status 2 when the database could not be read.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "The role whose functions are listed: anon, authenticated or service_role.")
    var role: String = "authenticated"

    @Option(help: "The server path the document's paths are relative to (/ or /rest/v1).")
    var basePath: String = "/"

    func validate() throws {
        guard Identity.Role(rawValue: role) != nil else {
            throw ValidationError("--role must be anon, authenticated or service_role")
        }
    }

    func run() async throws {
        let document: [UInt8]
        do {
            let logger = Logger(label: "smta.openapi")
            document = try await BridgeOpenAPI.document(
                database: options.load().requiredDatabaseURL(), role: Identity.Role(rawValue: role) ?? .authenticated,
                basePath: basePath, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("smta openapi: could not read the catalog: \(error)\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardOutput.write(Data(document + [UInt8(ascii: "\n")]))
    }
}
