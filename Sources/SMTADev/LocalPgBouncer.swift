import Foundation
import SMTACore

/// A PgBouncer in transaction pooling mode in front of a ``LocalCluster``, in a folder of its own
/// and listening on loopback only: for tests and benchmarks, never production.
///
/// It uses the machine's `pgbouncer` (Debian's package) with `auth_type = any`: every client
/// reaches the cluster as its `postgres` superuser, whose `trust` authentication the cluster
/// allows. PgBouncer refuses to run as root; when this process is root, it runs as the
/// `postgres` system user, like the cluster.
public struct LocalPgBouncer: Sendable {
    /// The folder holding its configuration, log and pid file.
    public let directory: String
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The most server connections per database (`default_pool_size`).
    public let poolSize: Int
    private let serverPort: Int
    private let executable: String


    /// A PgBouncer in `directory` (created by ``start()``) listening on `port`, pooling at most
    /// `poolSize` server connections per database of the cluster listening on `serverPort`.
    /// - Throws: ``ProcessRunner/Failure`` when no `pgbouncer` is installed.
    public init(directory: String, port: Int, serverPort: Int, poolSize: Int) throws {
        self.directory = directory
        self.port = port
        self.serverPort = serverPort
        self.poolSize = poolSize
        self.executable = try Self.locate()
    }

    /// A connection URL for `database` through PgBouncer.
    public func url(database: String = "postgres") -> DatabaseURL {
        // A literal URL of known shape: parsing cannot fail.
        try! DatabaseURL("postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable")
    }

    /// The configuration file's text.
    var configuration: String {
        """
        [databases]
        * = host=127.0.0.1 port=\(serverPort) user=postgres

        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = \(port)
        unix_socket_dir =
        auth_type = any
        pool_mode = transaction
        default_pool_size = \(poolSize)
        max_client_conn = 2000
        ; a refused server login (a busy test cluster at max_connections) is tried again after a
        ; second, not PgBouncer's default 15
        server_login_retry = 1
        logfile = \(directory)/pgbouncer.log
        pidfile = \(directory)/pgbouncer.pid

        """
    }

    /// Writes the configuration and starts PgBouncer in the background; returns once it accepts
    /// connections.
    /// - Throws: ``ProcessRunner/Failure`` when it does not start (its log's tail is in the output).
    public func start() throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try configuration.write(toFile: directory + "/pgbouncer.ini", atomically: true, encoding: .utf8)
        try SystemUser.give(directory, purpose: "to run PgBouncer")
        try SystemUser.give(directory + "/pgbouncer.ini", purpose: "to run PgBouncer")
        try ProcessRunner.run(executable, ["-d", directory + "/pgbouncer.ini"], as: geteuid() == 0 ? SystemUser.name : nil)
        let deadline = ContinuousClock.now + .seconds(10)
        while LocalCluster.isFree(port: port) {
            guard ContinuousClock.now < deadline else {
                let log = (try? String(contentsOfFile: directory + "/pgbouncer.log", encoding: .utf8)) ?? ""
                throw ProcessRunner.Failure(command: "pgbouncer", status: 1, output: String(log.suffix(2000)))
            }
            usleep(20_000)
        }
    }

    /// Stops PgBouncer (closing its connections at once) and waits until it has exited.
    public func stop() throws {
        guard let text = try? String(contentsOfFile: directory + "/pgbouncer.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while kill(pid, 0) == 0, ContinuousClock.now < deadline {
            usleep(20_000)
        }
    }

    /// The `pgbouncer` executable (Debian installs it in `/usr/sbin`).
    /// - Throws: ``ProcessRunner/Failure`` naming the package to install.
    public static func locate() throws -> String {
        for folder in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = folder + "/pgbouncer"
            if FileManager.default.isExecutableFile(atPath: path) {
                return path
            }
        }
        throw ProcessRunner.Failure(command: "pgbouncer", status: 127, output: "no pgbouncer found: apt-get install pgbouncer")
    }
}
