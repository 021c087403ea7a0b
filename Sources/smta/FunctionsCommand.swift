import ArgumentParser
import Foundation
import Logging
import SMTACore

/// `smta functions`: the API reference — every public function, grouped by domain, with its
/// arguments, result and who may call it — read from a database's catalog.
struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions",
        abstract: "List SMTA's API functions by domain: arguments, result, who may call them.",
        discussion: """
            Read from the database's catalog (pg_catalog) and the functions' comments, so it \
            describes exactly what that database serves. --markdown prints what docs/API.md \
            holds: `smta functions --markdown > docs/API.md`. Exit status 2 when the database \
            could not be read.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "Print Markdown (the form of docs/API.md) instead of text.")
    var markdown = false

    func run() async throws {
        let reference: APIReference
        do {
            let logger = Logger(label: "smta.functions")
            reference = try await options.load().requiredDatabaseURL().withConnection(applicationName: "smta functions", logger: logger) {
                try await APIReference.read(on: $0, logger: logger)
            }
        } catch {
            FileHandle.standardError.write(Data("smta functions: could not read the catalog: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print(markdown ? reference.markdown : reference.text, terminator: markdown ? "" : "\n")
    }
}
