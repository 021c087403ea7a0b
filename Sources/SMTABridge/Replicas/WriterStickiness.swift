import Foundation
import NIOConcurrencyHelpers
import SMTACore

/// The callers who wrote through this bridge within the last `window`: their reads go to the
/// primary, so that each sees its own writes (read-your-writes) whatever the replicas' lag.
///
/// Per process: a write made through another bridge is not known here (see docs/scaling.md).
/// The memory holds one instant per caller who wrote within the window; expired entries are
/// dropped when the table reaches its limit: ``pruneThreshold`` at first, then twice what a
/// pruning kept (never less than ``pruneThreshold``). So its size stays within twice the number
/// of writers in one window, and each write costs O(1) amortised however many writers are live:
/// a fixed limit would filter the whole table on every write once more than that many wrote
/// within one window.
final class WriterStickiness: Sendable {
    /// How long after a write the writer's reads stay on the primary.
    let window: Duration
    private let table = NIOLockedValueBox(Table())

    private struct Table {
        var writes: [String: ContinuousClock.Instant] = [:]
        /// The size at which expired entries are next dropped.
        var limit = WriterStickiness.pruneThreshold
        /// How many times expired entries were dropped.
        var prunings = 0
    }

    /// The smallest size at which expired entries are dropped.
    static let pruneThreshold = 10_000

    /// Creates an empty table whose entries last `window`.
    init(window: Duration) {
        self.window = window
    }

    /// Records that `identity` wrote (or may have written) at `now`.
    func noteWrite(by identity: Identity, now: ContinuousClock.Instant = .now) {
        let key = Self.key(identity)
        let window = window
        table.withLockedValue { table in
            if table.writes.count >= table.limit {
                table.writes = table.writes.filter { $0.value.duration(to: now) < window }
                table.limit = max(Self.pruneThreshold, 2 * table.writes.count)
                table.prunings += 1
            }
            table.writes[key] = now
        }
    }

    /// Whether `identity` wrote within the window before `now`.
    func isSticky(_ identity: Identity, now: ContinuousClock.Instant = .now) -> Bool {
        let key = Self.key(identity)
        guard let last = table.withLockedValue({ $0.writes[key] }) else { return false }
        return last.duration(to: now) < window
    }

    /// How many writers are remembered (expired ones included until the next pruning).
    var count: Int {
        table.withLockedValue { $0.writes.count }
    }

    /// How many times expired writers were dropped.
    var prunings: Int {
        table.withLockedValue { $0.prunings }
    }

    /// Who the caller is: the user id, else the adapter's subject, else the claims (one key for
    /// every anonymous caller, which changes nothing but where anonymous reads go).
    private static func key(_ identity: Identity) -> String {
        if let user = identity.userID {
            return "user:\(user.uuidString)"
        }
        if let link = identity.link {
            return "link:\(link.provider):\(link.subject)"
        }
        return "claims:\(identity.role.rawValue):\(identity.claimsJSON)"
    }
}
