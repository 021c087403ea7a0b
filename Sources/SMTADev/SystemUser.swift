import Foundation

/// The `postgres` system user (Debian's postgresql package makes it), under which the local
/// cluster and PgBouncer run when this process is root: neither will run as root.
enum SystemUser {
    /// Its name.
    static let name = "postgres"

    /// Makes `path` belong to it when this process is root; nothing otherwise.
    /// - Parameter purpose: what it is needed for, in the error ("to own the cluster").
    /// - Throws: ``ProcessRunner/Failure`` when there is no such user, or `chown` fails.
    static func give(_ path: String, purpose: String) throws {
        guard geteuid() == 0 else { return }
        guard let account = getpwnam(name) else {
            throw ProcessRunner.Failure(
                command: "chown", status: 1,
                output: "running as root needs a '\(name)' system user \(purpose) (it comes with Debian's postgresql package)")
        }
        guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
            throw ProcessRunner.Failure(command: "chown", status: errno, output: "cannot give \(path) to \(name)")
        }
    }
}
