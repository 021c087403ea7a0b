import Foundation
import SMTADev

/// Runs command-line tools the tests rely on (`psql`, `pg_prove`, Python), found on `PATH`.
public enum TestTools {
    /// Runs `tool` with `arguments` and waits for it off Swift's cooperative threads (see
    /// ``offThePool(_:)``); extra `environment` entries are added to this process's.
    public static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> ProcessRunner.Result {
        try await offThePool { try ProcessRunner.result(tool, arguments, environment: environment) }
    }

    /// Runs `work`, which blocks (waits for a program, starts a cluster), on a thread of its own
    /// and returns what it returns.
    ///
    /// Swift's cooperative threads are as many as the machine has cores: a test blocking one of
    /// them stops every other test of the process that needs it. On two cores the two pg_prove
    /// runs of the pgTAP suite, waited for in place, froze every other suite for ~50 s — and the
    /// tests timing a cancellation measured the freeze.
    public static func offThePool<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
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
