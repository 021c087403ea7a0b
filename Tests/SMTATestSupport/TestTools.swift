import SMTADev

/// Runs command-line tools the tests rely on (`psql`, `pg_prove`), found on `PATH`.
public enum TestTools {
    /// Runs `tool` with `arguments`; extra `environment` entries are added to this process's.
    public static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> ProcessRunner.Result {
        try ProcessRunner.result(tool, arguments, environment: environment)
    }
}
