import Foundation
import NIOConcurrencyHelpers
import SMTACore

/// The callers who wrote through this bridge within the last `window`: their reads go to the
/// primary, so that each sees its own writes (read-your-writes) whatever the replicas' lag.
///
/// Per process: a write made through another bridge is not known here (see docs/scaling.md).
/// The memory holds one instant per caller who wrote within the window; expired entries are
/// dropped whenever the table reaches ``pruneThreshold``, so its size is bounded by the number
/// of writers in one window.
final class WriterStickiness: Sendable {
    /// How long after a write the writer's reads stay on the primary.
    let window: Duration
    private let writes = NIOLockedValueBox([String: ContinuousClock.Instant]())

    /// The size at which expired entries are dropped.
    static let pruneThreshold = 10_000

    /// Creates an empty table whose entries last `window`.
    init(window: Duration) {
        self.window = window
    }

    /// Records that `identity` wrote (or may have written) at `now`.
    func noteWrite(by identity: Identity, now: ContinuousClock.Instant = .now) {
        let key = Self.key(identity)
        let window = window
        writes.withLockedValue { writes in
            if writes.count >= Self.pruneThreshold {
                writes = writes.filter { $0.value.duration(to: now) < window }
            }
            writes[key] = now
        }
    }

    /// Whether `identity` wrote within the window before `now`.
    func isSticky(_ identity: Identity, now: ContinuousClock.Instant = .now) -> Bool {
        let key = Self.key(identity)
        guard let last = writes.withLockedValue({ $0[key] }) else { return false }
        return last.duration(to: now) < window
    }

    /// How many writers are remembered (expired ones included until the next pruning).
    var count: Int {
        writes.withLockedValue { $0.count }
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
