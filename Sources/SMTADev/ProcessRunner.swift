import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs external programs (PostgreSQL's binaries, psql, pg_prove) and waits for them.
///
/// Built on `posix_spawn` and `waitpid` rather than Foundation's `Process`, whose
/// `waitUntilExit()` can wait forever on Linux when called from a Swift-concurrency thread.
/// Output goes to a file, not a pipe: `pg_ctl start` leaves a server running that would
/// inherit a pipe and keep it open.
public enum ProcessRunner {
    /// A finished program: its exit status and its standard output and error, interleaved.
    public struct Result: Sendable {
        /// The exit status (128 + signal number when killed by a signal).
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// A program that could not start or exited with a non-zero status.
    public struct Failure: Error, CustomStringConvertible {
        /// The program's name.
        public var command: String
        /// Its exit status.
        public var status: Int32
        /// Its output.
        public var output: String

        public var description: String {
            let tail = output.split(separator: "\n").suffix(5).joined(separator: "\n")
            return "\(command) exited with status \(status)\(tail.isEmpty ? "" : ":\n\(tail)")"
        }
    }

    /// Runs `executable` (a path, or a name looked up on `PATH`) and returns its result whatever
    /// its exit status. When `user` is given and this process is root, runs it as that user.
    /// Extra `environment` entries are added to this process's environment.
    public static func result(
        _ executable: String, _ arguments: [String], as user: String? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        var argv = [executable] + arguments
        if let user, geteuid() == 0 {
            argv = ["/usr/sbin/runuser", "-u", user, "--"] + argv
        }
        let outputPath = FileManager.default.temporaryDirectory.path + "/smta-run-\(UUID().uuidString)"
        defer { unlink(outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        markDescriptorsCloseOnExec()

        // The child starts with no blocked signal and default handlers: this process's threads
        // may block signals (SIGALRM, SIGTERM) that programs such as pgbench -T rely on.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let mergedEnvironment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let environmentStrings = mergedEnvironment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawnStatus = withCStrings(argv) { argvPointers in
            withCStrings(environmentStrings) { environmentPointers in
                posix_spawnp(&pid, argv[0], &actions, &attributes, argvPointers, environmentPointers)
            }
        }
        guard spawnStatus == 0 else {
            throw Failure(command: argv[0], status: spawnStatus, output: String(cString: strerror(spawnStatus)))
        }
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) == -1 && errno == EINTR {}
        let output = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        let exitCode = waitStatus & 0x7f == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f)
        return Result(status: exitCode, output: output)
    }

    /// Runs `executable` like ``result(_:_:as:environment:)`` and returns its output, throwing
    /// ``Failure`` on a non-zero exit.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], as user: String? = nil, environment: [String: String] = [:]
    ) throws -> String {
        let result = try result(executable, arguments, as: user, environment: environment)
        guard result.status == 0 else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw Failure(command: name, status: result.status, output: result.output)
        }
        return result.output
    }

    /// Calls `body` with a NULL-terminated C array of the strings.
    /// Marks every open descriptor above standard error close-on-exec, so that a child gets none
    /// of this process's: SwiftNIO opens its sockets without the flag, and a child would otherwise
    /// keep them open (a PostgreSQL server started here held this process's connections alive
    /// after it closed them) and start with high descriptor numbers (wrk refuses sockets numbered
    /// past its event loop's size). A descriptor opened meanwhile by another thread may still be
    /// inherited; the flag costs this process nothing.
    private static func markDescriptorsCloseOnExec() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for name in names {
            if let descriptor = Int32(name), descriptor > 2 {
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            }
        }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}
