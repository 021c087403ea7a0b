import Foundation
import NIOConcurrencyHelpers

/// Everything the fault benchmark saw: every answer by status, the slowest, the writes and what
/// each answer said of them, and each broken rule.
final class FaultLedger: Sendable {
    /// What an answer said of a write.
    enum WriteOutcome: Sendable {
        /// 200: applied, so it must be in the database exactly once.
        case applied
        /// 503 or 504 with `Retry-After`, without an Idempotency-Key: not applied, so it must not be.
        case notApplied
        /// 504 `08007` without `Retry-After`: may or may not be; either is right.
        case unknown
        /// An idempotent write that never got a final answer within the retry budget: at most once.
        case unresolved
    }

    private struct State {
        var statuses: [Int: Int] = [:]
        var worstSeconds = 0.0
        var violations: [String] = []
        var violationCount = 0
        var writes: [String: WriteOutcome] = [:]
        var replays = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Records one answer's status and time.
    func answered(status: Int, seconds: Double) {
        state.withLockedValue { state in
            state.statuses[status, default: 0] += 1
            state.worstSeconds = max(state.worstSeconds, seconds)
        }
    }

    /// Records a broken rule (the first 50 are kept word for word).
    func violation(_ text: String) {
        state.withLockedValue { state in
            state.violationCount += 1
            if state.violations.count < 50 { state.violations.append(text) }
        }
    }

    /// Records what the answers said of the write that created `name`.
    func wrote(_ name: String, _ outcome: WriteOutcome) {
        state.withLockedValue { $0.writes[name] = outcome }
    }

    /// Counts an answer taken from an Idempotency-Key's record.
    func replayed() {
        state.withLockedValue { $0.replays += 1 }
    }

    /// Answers by status.
    var statuses: [Int: Int] { state.withLockedValue { $0.statuses } }
    /// The slowest answer, in seconds.
    var worstSeconds: Double { state.withLockedValue { $0.worstSeconds } }
    /// The broken rules: how many, and the first ones.
    var violations: (count: Int, first: [String]) { state.withLockedValue { ($0.violationCount, $0.violations) } }
    /// Every write, by organization name.
    var writes: [String: WriteOutcome] { state.withLockedValue { $0.writes } }
    /// Answers replayed from a key's record.
    var replays: Int { state.withLockedValue { $0.replays } }
}
