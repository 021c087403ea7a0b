import Foundation
import SMTACore

/// A private PostgreSQL cluster in a folder of its own, listening on loopback only, with
/// `trust` authentication for the `postgres` user: for development and tests, never production.
///
/// PostgreSQL refuses to run as root; when this process is root, the cluster belongs to the
/// `postgres` system user and its programs run as that user.
public struct LocalCluster: Sendable {
    /// The cluster's data folder.
    public let dataDirectory: String
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    let binaries: PostgresBinaries

    /// A cluster in `directory` (created by ``create()`` when absent) listening on `port`.
    public init(directory: String, port: Int, binaries: PostgresBinaries) {
        self.dataDirectory = directory
        self.port = port
        self.binaries = binaries
    }

    /// A connection URL for `database` as the cluster's superuser.
    public func url(database: String = "postgres") -> DatabaseURL {
        // A literal URL of known shape: parsing cannot fail.
        try! DatabaseURL("postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable")
    }

    /// Whether the data folder already holds a cluster.
    public var exists: Bool {
        FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION")
    }

    /// Runs `initdb` in the data folder (which must not hold a cluster yet).
    public func create() throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try SystemUser.give(dataDirectory, purpose: "to own the cluster")
        try ProcessRunner.run(
            binaries.path("initdb"),
            ["-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
            as: SystemUser.name)
    }

    /// Starts the server and waits until it accepts connections.
    /// - Parameters:
    ///   - durable: false for throwaway clusters (no fsync: faster, not crash-safe).
    ///   - maxConnections: PostgreSQL's `max_connections`; nil keeps its default (100).
    public func start(durable: Bool = true, maxConnections: Int? = nil) throws {
        var options = "-p \(port) -c listen_addresses=127.0.0.1 -k \(dataDirectory)"
        if let maxConnections { options += " -c max_connections=\(maxConnections)" }
        if !durable { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
        try ProcessRunner.run(
            binaries.path("pg_ctl"),
            ["-D", dataDirectory, "-l", dataDirectory + "/server.log", "-o", options, "-w", "-t", "60", "start"],
            as: SystemUser.name)
    }

    /// Whether the server is running.
    public var isRunning: Bool {
        (try? ProcessRunner.run(binaries.path("pg_ctl"), ["-D", dataDirectory, "status"], as: SystemUser.name)) != nil
    }

    /// Stops the server. `immediate` skips the shutdown checkpoint (for throwaway clusters).
    public func stop(immediate: Bool = false) throws {
        try ProcessRunner.run(
            binaries.path("pg_ctl"),
            ["-D", dataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "stop"],
            as: SystemUser.name)
    }

    /// A free TCP port on 127.0.0.1, asked from the kernel.
    public static func freePort() throws -> Int {
        guard let port = bindLoopback(port: 0) else {
            throw ProcessRunner.Failure(command: "bind", status: errno, output: "")
        }
        return port
    }

    /// Whether `port` on 127.0.0.1 can be bound now (no server listens there).
    public static func isFree(port: Int) -> Bool {
        bindLoopback(port: port) != nil
    }

    /// Binds a socket to 127.0.0.1:`port` (0: any), closes it, and returns the port it got.
    private static func bindLoopback(port: Int) -> Int? {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return nil }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socketFD, generic, length) == 0 && getsockname(socketFD, generic, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
