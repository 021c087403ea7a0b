import Foundation

/// CPU time spent by the processes of a benchmark, read from `/proc` (Linux), in seconds of user
/// plus system time.
///
/// Three accounts, sampled before and after a load run: this process (the in-process bridge, or
/// whichever in-process server or client the run exercised), the child processes this process
/// has waited for (the load generator, `wrk` or `pgbench`, which `ProcessRunner` waits for), and a
/// PostgreSQL cluster: its postmaster, the backends it has reaped and the ones still running.
struct ProcessCPU: Sendable {
    /// This process.
    var own: Double
    /// Children of this process that have exited and been waited for.
    var children: Double
    /// The cluster's processes; nil when it is not a local cluster (`--database-url`).
    var postgres: Double?

    /// The CPU time spent from `start` to `self`.
    func since(_ start: ProcessCPU) -> ProcessCPU {
        ProcessCPU(
            own: own - start.own, children: children - start.children,
            postgres: postgres.flatMap { now in start.postgres.map { now - $0 } })
    }

    /// Reads the three accounts now.
    /// - Parameter postmaster: the cluster's postmaster process id, if it is local.
    static func sample(postmaster: Int32?) -> ProcessCPU {
        let own = fields("self")
        return ProcessCPU(
            own: seconds(own, [utime, stime]), children: seconds(own, [cutime, cstime]),
            postgres: postmaster.map(cluster))
    }

    /// The postmaster's process id, from the first line of the data directory's `postmaster.pid`.
    static func postmaster(dataDirectory: String) -> Int32? {
        let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)
        return text?.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// The postmaster with everything it reaped, plus its live children.
    private static func cluster(_ postmaster: Int32) -> Double {
        var total = seconds(fields(String(postmaster)), [utime, stime, cutime, cstime])
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.first?.isNumber == true {
            let process = fields(entry)
            if process.count > stime, Int32(process[ppid]) == postmaster {
                total += seconds(process, [utime, stime])
            }
        }
        return total
    }

    // Indexes into the fields after the command name of `/proc/<pid>/stat` (proc(5)'s field
    // numbers minus 3): the parent, then user and system time of the process and of its
    // waited-for children, in clock ticks.
    private static let ppid = 1
    private static let utime = 11
    private static let stime = 12
    private static let cutime = 13
    private static let cstime = 14
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The fields of `/proc/<process>/stat` after the command name (which may contain spaces and
    /// parentheses, so the split starts after the last `)`); empty when the process is gone.
    private static func fields(_ process: String) -> [Substring] {
        guard let text = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
            let end = text.lastIndex(of: ")")
        else {
            return []
        }
        return text[text.index(after: end)...].split(separator: " ")
    }

    private static func seconds(_ fields: [Substring], _ indexes: [Int]) -> Double {
        indexes.reduce(0) { total, index in
            total + (index < fields.count ? Double(fields[index]) ?? 0 : 0)
        } / ticksPerSecond
    }
}
