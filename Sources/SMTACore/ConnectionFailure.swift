import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// Why a connection to PostgreSQL could not be opened, for a person: where (host and port, never
/// the password), why (refused, timed out, unknown host, authentication, …) and what to check,
/// in one line — instead of SwiftNIO's `SingleConnectionFailure(target: …)`.
public struct ConnectionFailure: Sendable, CustomStringConvertible {
    /// Why the connection failed.
    public enum Cause: Sendable, Equatable {
        /// Nothing listens there (`ECONNREFUSED`, or no Unix socket at that path).
        case refused
        /// No answer before the connect timeout.
        case timedOut
        /// The host name did not resolve.
        case unknownHost
        /// No route to the host or its network.
        case unreachable
        /// The server refused the credentials; the server's message (it names the user, never
        /// the password).
        case authentication(String)
        /// The server asks for a password and the URL gives none.
        case passwordMissing
        /// The server has no database of that name.
        case noSuchDatabase(String)
        /// TLS was required and the server does not offer it, or the handshake failed.
        case tls(String)
        /// Anything else, as the client library describes it.
        case other(String)
    }

    /// `host:port` (or the Unix socket's path).
    public var location: String
    /// Why it failed.
    public var cause: Cause

    /// Describes `error`, thrown while connecting to `url`.
    public init(_ error: any Error, connecting url: DatabaseURL) {
        location = url.location
        cause = Self.cause(of: error, url: url)
    }

    /// The reason, in a few words.
    public var why: String {
        switch cause {
        case .refused: "connection refused"
        case .timedOut: "connection timed out"
        case .unknownHost: "unknown host"
        case .unreachable: "host unreachable"
        case .authentication(let message): "authentication failed (\(message))"
        case .passwordMissing: "the server asks for a password and the URL gives none"
        case .noSuchDatabase(let name): "database \"\(name)\" does not exist"
        case .tls(let message): "TLS failed (\(message))"
        case .other(let message): message
        }
    }

    /// What to check.
    public var whatToCheck: String {
        switch cause {
        case .refused: "is PostgreSQL running, and listening on that host and port?"
        case .timedOut: "check the host and port, and any firewall between here and there"
        case .unknownHost: "check the host name in the database URL"
        case .unreachable: "check the host in the database URL and this machine's network"
        case .authentication: "check the user and password in the database URL, and the server's pg_hba.conf"
        case .passwordMissing: "give it in the URL: postgres://user:password@host:port/database"
        case .noSuchDatabase: "check the database name at the end of the URL, or create the database"
        case .tls: "check sslmode in the database URL (disable, prefer or require)"
        case .other: "check the database URL"
        }
    }

    /// One line: what could not be reached, why, what to check.
    public var description: String {
        "cannot reach PostgreSQL at \(location): \(why) — \(whatToCheck)"
    }

    private static func cause(of error: any Error, url: DatabaseURL) -> Cause {
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.beginError ?? transaction.closureError
        {
            return cause(of: inner, url: url)
        }
        if let psql = error as? PSQLError {
            if let info = psql.serverInfo {
                let message = info[.message] ?? "refused by the server"
                switch info[.sqlState] {
                case "28P01", "28000": return .authentication(message)
                case "3D000": return .noSuchDatabase(url.database)
                default: return .other(message)
                }
            }
            switch psql.code {
            case .authMechanismRequiresPassword: return .passwordMissing
            case .sslUnsupported: return .tls("the server does not offer TLS")
            case .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest: return .tls("the TLS handshake failed")
            default: break
            }
            if let underlying = psql.underlying {
                return cause(of: underlying, url: url)
            }
            return .other("the connection closed (\(psql.code))")
        }
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil, connection.dnsAAAAError != nil, connection.connectionErrors.isEmpty {
                return .unknownHost
            }
            // Several addresses may have been tried: the first refusal or timeout says enough.
            let causes = connection.connectionErrors.map { cause(of: $0.error, url: url) }
            return causes.first { $0 == .refused } ?? causes.first { $0 == .timedOut } ?? causes.first
                ?? .unknownHost
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return .timedOut
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED, ENOENT: return .refused
            case ETIMEDOUT: return .timedOut
            case EHOSTUNREACH, ENETUNREACH: return .unreachable
            default: return .other(String(describing: io))
            }
        }
        if error is NIOSSLError {
            return .tls(String(describing: error))
        }
        if let database = error as? DatabaseError {
            return .other(database.message)
        }
        return .other(String(describing: error))
    }
}

extension DatabaseError {
    /// A connection failure as one line (``ConnectionFailure``): what could not be reached, why,
    /// what to check; the SQLSTATE is kept when the server answered (authentication, unknown
    /// database).
    public init(connecting error: any Error, to url: DatabaseURL) {
        let failure = ConnectionFailure(error, connecting: url)
        self.init(sqlState: DatabaseError(error).sqlState, message: failure.description)
    }
}
