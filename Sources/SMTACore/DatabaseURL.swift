import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL, as libpq and every PostgreSQL tool write it:
/// `postgres://user:password@host:port/database?sslmode=disable`.
///
/// Supported query parameters: `sslmode` (`disable`, `prefer` — the default, `require`) and
/// `host` (a Unix-socket directory, as libpq accepts it).
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS.
    public enum TLSMode: String, Sendable {
        /// Never use TLS.
        case disable
        /// Use TLS when the server offers it.
        case prefer
        /// Require TLS.
        case require
    }

    /// The server's host name or address; nil when connecting through ``socketDirectory``.
    public var host: String?
    /// The server's port.
    public var port: Int
    /// The Unix-socket directory, when given with `?host=/path`.
    public var socketDirectory: String?
    /// The user name.
    public var username: String
    /// The password, if any.
    public var password: String?
    /// The database name.
    public var database: String
    /// The TLS mode.
    public var tls: TLSMode

    /// Parses a `postgres://` or `postgresql://` URL.
    /// - Throws: ``ConfigurationError`` naming what is wrong with the URL (never its password).
    public init(_ string: String) throws {
        let invalid = { (reason: String) in ConfigurationError(key: "database URL", problem: reason) }
        guard let components = URLComponents(string: string),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw invalid("expected postgres://user:password@host:port/database")
        }
        let queryItems = components.queryItems ?? []
        func parameter(_ name: String) -> String? {
            queryItems.first { $0.name == name }?.value
        }
        let socketDirectory = parameter("host").flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        guard host != nil || socketDirectory != nil else {
            throw invalid("the URL names no host")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw invalid("the URL names no database (…/database at the end)")
        }
        let tlsName = parameter("sslmode") ?? "prefer"
        guard let tls = TLSMode(rawValue: tlsName) else {
            throw invalid("sslmode must be disable, prefer or require, not \(tlsName)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.socketDirectory = socketDirectory
        self.username = components.user?.removingPercentEncoding ?? "postgres"
        self.password = components.password?.removingPercentEncoding
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    /// The URL with its password masked: safe to print and log.
    public var description: String {
        let credentials = username + (password == nil ? "" : ":***")
        let location = host.map { "\($0):\(port)" } ?? "localhost"
        var text = "postgres://\(credentials)@\(location)/\(database)"
        var parameters: [String] = []
        if let socketDirectory { parameters.append("host=\(socketDirectory)") }
        if tls != .prefer { parameters.append("sslmode=\(tls.rawValue)") }
        if !parameters.isEmpty { text += "?" + parameters.joined(separator: "&") }
        return text
    }

    /// Where the server is, for messages: `host:port` or the socket path.
    public var location: String {
        if let socketDirectory { return "\(socketDirectory)/.s.PGSQL.\(port)" }
        return "\(host ?? "localhost"):\(port)"
    }

    /// The same server and credentials with another database name.
    public func withDatabase(_ name: String) -> DatabaseURL {
        var copy = self
        copy.database = name
        return copy
    }

    /// A PostgresNIO connection configuration for this URL.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)",
                username: username, password: password, database: database)
        }
        return PostgresConnection.Configuration(
            host: host ?? "localhost", port: port, username: username, password: password,
            database: database, tls: try connectionTLS())
    }

    /// A PostgresNIO pool configuration for this URL.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)",
                username: username, password: password, database: database)
        }
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host ?? "localhost", port: port, username: username, password: password,
            database: database, tls: tls)
    }

    private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}
