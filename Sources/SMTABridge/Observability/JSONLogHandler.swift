#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// A log handler writing one JSON object per line to standard error, for log shippers
/// (`log_format: json`).
///
/// Each line holds `time` (UTC, ISO 8601 with milliseconds), `level`, `logger` (the label),
/// `message`, then the metadata: numbers and booleans given as such stay JSON numbers and
/// booleans (`status`, `duration_ms`), nested metadata becomes objects and arrays, and
/// Hummingbird's `hb.request.id` is written `request_id`. Each line is one `write(2)`, so lines
/// from concurrent requests never interleave.
public struct JSONLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    /// The lowest level written.
    public var logLevel: Logger.Level
    /// Metadata added to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Metadata added to every line from the context (task-locals), if any.
    public var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler for the logger `label`, logging at `level` and above.
    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    /// One entry of ``metadata``.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event` as one line: the handler's metadata, the provider's, then the event's,
    /// later ones winning.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let given = event.metadata {
            merged.merge(given) { _, new in new }
        }
        var line = "{\"time\":\(JSONText.string(Self.timestamp())),\"level\":\(JSONText.string(event.level.rawValue)),"
            + "\"logger\":\(JSONText.string(label)),\"message\":\(JSONText.string(event.message.description))"
        if let error = event.error {
            line += ",\"error\":\(JSONText.string(String(describing: error)))"
        }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += ",\(JSONText.string(key == "hb.request.id" ? "request_id" : key)):\(Self.json(value))"
        }
        line += "}\n"
        Self.writeToStandardError(line)
    }

    /// `value` as JSON.
    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return JSONText.string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: return String(number)
            case let number as Double where number.isFinite: return String(number)
            case let flag as Bool: return flag ? "true" : "false"
            default: return JSONText.string(convertible.description)
            }
        case .dictionary(let dictionary):
            let members = dictionary.sorted(by: { $0.key < $1.key }).map { "\(JSONText.string($0.key)):\(json($0.value))" }
            return "{" + members.joined(separator: ",") + "}"
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        }
    }

    /// Now, as `2026-12-02T10:15:30.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
            + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))"
            + ".\(padded(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }

    private static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
