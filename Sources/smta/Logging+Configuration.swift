import Logging
import SMTACore

extension Logger {
    /// Sets up logging to standard error at the configured level (`SMTA_LOG_LEVEL`, default
    /// `info`) and returns the `smta` logger.
    /// - Throws: `ConfigurationError` for an unknown level.
    static func bootstrap(_ configuration: Configuration) throws -> Logger {
        let text = configuration[.logLevel]?.lowercased() ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw ConfigurationError(
                key: Configuration.Key.logLevel.environmentName,
                problem: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "smta")
        logger.logLevel = level
        return logger
    }
}
