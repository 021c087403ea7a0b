import Foundation

/// The machine's PostgreSQL server programs (`initdb`, `pg_ctl`), found on `PATH` or in
/// Debian's standard location `/usr/lib/postgresql/<version>/bin` (newest version first).
public struct PostgresBinaries: Sendable {
    /// The folder holding `initdb` and `pg_ctl`.
    public let directory: String

    /// The path of one of the programs.
    public func path(_ program: String) -> String { directory + "/" + program }

    /// Finds the binaries or explains how to install them.
    public static func locate() throws -> PostgresBinaries {
        let fileManager = FileManager.default
        let pathFolders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let debianRoot = "/usr/lib/postgresql"
        let debianFolders = ((try? fileManager.contentsOfDirectory(atPath: debianRoot)) ?? [])
            .compactMap { version in Int(version).map { ($0, "\(debianRoot)/\(version)/bin") } }
            .sorted { $0.0 > $1.0 }
            .map(\.1)
        for folder in pathFolders + debianFolders {
            if fileManager.isExecutableFile(atPath: folder + "/initdb"),
                fileManager.isExecutableFile(atPath: folder + "/pg_ctl")
            {
                return PostgresBinaries(directory: folder)
            }
        }
        throw NotFound()
    }

    /// No PostgreSQL server binaries on this machine.
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String {
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; install them, e.g. apt-get install postgresql"
        }
    }
}
