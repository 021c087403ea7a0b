import Foundation
import Logging
import SMTACore

/// How the bridge's log is written (`log_format`): `text`, swift-log's human-readable lines, or
/// `json`, one JSON object per line (``JSONLogHandler``).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-02T10:15:30+0000 info smta: method=POST … request`.
    case text
    /// `{"time":"2026-12-02T10:15:30.123Z","level":"info",…,"message":"request",…}`.
    case json

    /// The format `configuration` names (`SMTA_LOG_FORMAT`, default `text`).
    /// - Throws: `ConfigurationError` naming the key for any other value.
    public init(configuration: Configuration) throws(ConfigurationError) {
        let text = configuration[.logFormat]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard let format = text.isEmpty ? .text : LogFormat(rawValue: text) else {
            throw ConfigurationError(
                key: Configuration.Key.logFormat.environmentName,
                problem: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = format
    }

    /// A handler writing to standard error in this format for the logger `label`, at `level`.
    public func handler(label: String, level: Logger.Level) -> any LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            return JSONLogHandler(label: label, level: level)
        }
    }
}
