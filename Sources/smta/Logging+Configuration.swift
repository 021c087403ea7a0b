import Logging
import SMTABridge
import SMTACore

extension Logger {
    /// Sets up logging to standard error at the configured level (`SMTA_LOG_LEVEL`, default
    /// `info`) in the configured format (`SMTA_LOG_FORMAT`: `text`, default, or `json`) and
    /// returns the `smta` logger.
    /// - Throws: `ConfigurationError` for an unknown level or format.
    static func bootstrap(_ configuration: Configuration) throws -> Logger {
        let text = configuration[.logLevel]?.lowercased() ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw ConfigurationError(
                key: Configuration.Key.logLevel.environmentName,
                problem: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let format = try LogFormat(configuration: configuration)
        LoggingSystem.bootstrap { label in
            format.handler(label: label, level: level)
        }
        var logger = Logger(label: "smta")
        logger.logLevel = level
        return logger
    }
}
