import Foundation

extension LocalCluster {
    /// Makes a streaming replica of this cluster, which must be running: `pg_basebackup -R`
    /// (a base backup streaming its WAL, with `standby.signal` and `primary_conninfo` written)
    /// into `directory`, which must not exist yet, for a server on `port`. Start it with
    /// ``start(durable:maxConnections:)`` (with the primary's `maxConnections`, which a standby
    /// may not go below); it then follows the primary as a hot standby, readable.
    ///
    /// The primary needs what `initdb` gives it by default: `wal_level=replica`, WAL senders, and
    /// a `replication` line for loopback in `pg_hba.conf` (trust, as ``create()`` sets).
    /// For development and tests only.
    /// - Throws: ``ProcessRunner/Failure`` when `pg_basebackup` fails.
    public func makeStreamingReplica(directory: String, port: Int) throws -> LocalCluster {
        try ProcessRunner.run(
            basebackupPath(),
            ["-D", directory, "-h", "127.0.0.1", "-p", "\(self.port)", "-U", "postgres", "-R", "-X", "stream",
             "-c", "fast", "--no-sync"],
            as: SystemUser.name)
        return LocalCluster(directory: directory, port: port, binaries: binaries)
    }

    /// `pg_basebackup` beside `initdb` and `pg_ctl`, or beside the file `pg_ctl` links to (a
    /// machine may link only the server's programs into a folder on `PATH`).
    private func basebackupPath() -> String {
        let beside = binaries.path("pg_basebackup")
        if FileManager.default.isExecutableFile(atPath: beside) {
            return beside
        }
        return URL(fileURLWithPath: binaries.path("pg_ctl")).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("pg_basebackup").path
    }
}
