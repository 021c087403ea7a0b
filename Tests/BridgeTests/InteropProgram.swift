import Foundation
import SMTADev
import SMTATestSupport
import Testing

/// A Python program of `Tests/Interop` that starts `smta serve` itself and calls it with real
/// clients (postgrest-py, raw HTTP), checking with psycopg what the database holds afterwards.
///
/// The program gets the `smta` executable and what the suite prepared through `SMTA_INTEROP_*`
/// variables (see `Tests/Interop/bridge_common.py`) and exits non-zero on any failure, after
/// printing unittest's summary. They run under ``TestTools/python`` (`scripts/test` installs the
/// Python clients in its virtualenv, and Chromium with its driver); without them these tests fail
/// rather than skip.
struct InteropProgram: Sendable {
    /// The program's file name in `Tests/Interop`, e.g. `test_bridge_supabase.py`.
    let script: String

    /// `Tests/Interop`, found from this source file.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop").path

    /// The `smta` executable that `swift build --build-tests` puts beside the test bundle.
    static func smtaExecutable() throws -> String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let path = folder + "/smta"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingExecutable(path: path)
        }
        return path
    }

    /// Runs the program with `environment` added to this process's, plus the `smta` executable
    /// as `SMTA_INTEROP_BINARY`, and returns its exit status and output (waited for off Swift's
    /// cooperative threads).
    func run(environment: [String: String]) async throws -> ProcessRunner.Result {
        var environment = environment
        environment["SMTA_INTEROP_BINARY"] = try Self.smtaExecutable()
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        return try await TestTools.run(TestTools.python, ["-u", Self.folder + "/" + script], environment: environment)
    }

    /// Runs the program and records an issue, with the program's whole output, unless it passed.
    func expectPasses(environment: [String: String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await run(environment: environment)
        guard result.status == 0 else {
            Issue.record(
                "\(script) exited with status \(result.status):\n\(result.output)", sourceLocation: sourceLocation)
            return
        }
        print("\(script) passed:\n\(result.output)")
    }

    /// The `smta` executable is not where the test bundle's build puts it.
    struct MissingExecutable: Error, CustomStringConvertible {
        /// Where it was looked for.
        let path: String

        var description: String {
            "no smta executable at \(path): build it with `swift build --build-tests` before running BridgeTests"
        }
    }
}
