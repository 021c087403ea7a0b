import Foundation
import SMTADev

/// Runs command-line tools the tests rely on (`psql`, `pg_prove`, Python), found on `PATH`.
public enum TestTools {
    /// Runs `tool` with `arguments`; extra `environment` entries are added to this process's.
    public static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> ProcessRunner.Result {
        try ProcessRunner.result(tool, arguments, environment: environment)
    }

    /// The Python interpreter that runs the interop programs of `Tests/Interop`: the one named by
    /// `SMTA_TEST_PYTHON` (`scripts/test` sets it to its virtualenv's, which holds the packages of
    /// `Tests/Interop/requirements.txt`), else `python3` from `PATH`.
    public static var python: String {
        guard let named = ProcessInfo.processInfo.environment["SMTA_TEST_PYTHON"], !named.isEmpty else {
            return "python3"
        }
        return named
    }
}
