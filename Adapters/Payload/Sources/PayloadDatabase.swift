import Foundation
import SMTACore

/// Where Payload's database is: the SQLite file of `@payloadcms/db-sqlite` or the PostgreSQL
/// of `@payloadcms/db-postgres`.
public enum PayloadDatabase: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database, with the schema holding Payload's tables.
    case postgres(DatabaseURL, schema: String)

    /// Parses `SMTA_PAYLOAD_DATABASE`: a `postgres://` URL (with an optional `schema=` query
    /// parameter, default `public`), or a SQLite file path (optionally as libsql writes it,
    /// `file:./payload.db`).
    /// - Throws: `ConfigurationError` naming what is wrong (never the URL's password).
    public init(_ text: String) throws(ConfigurationError) {
        let key = Configuration.Key.payloadDatabase.environmentName
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            let url: DatabaseURL
            do {
                url = try DatabaseURL(text)
            } catch {
                throw ConfigurationError(key: key, problem: (error as? ConfigurationError)?.problem ?? "is not a PostgreSQL URL")
            }
            let schema = Self.queryParameter("schema", in: text) ?? "public"
            guard !schema.isEmpty, schema.utf8.count <= 63 else {
                throw ConfigurationError(key: key, problem: "schema= must name a schema of 1 to 63 bytes")
            }
            self = .postgres(url, schema: schema)
            return
        }
        let path = text.hasPrefix("file:") ? String(text.dropFirst(5)) : text
        guard !path.isEmpty, !path.contains("://") else {
            throw ConfigurationError(key: key, problem: "expected a SQLite file path or a postgres:// URL")
        }
        self = .sqlite(path: path)
    }

    /// The database, safe to log (no password).
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url, let schema): "\(url) (schema \(schema))"
        }
    }

    private static func queryParameter(_ name: String, in text: String) -> String? {
        guard let query = text.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name {
                return String(parts[1]).removingPercentEncoding
            }
        }
        return nil
    }
}
