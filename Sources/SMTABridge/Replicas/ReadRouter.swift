import Logging
import NIOConcurrencyHelpers
import NIOCore
import SMTACore

/// Decides where a read goes: a read replica when one is usable and the caller has not written
/// through this bridge within `replica_lag`, else the primary; and answers from the primary when
/// the replica fails the call for a reason the primary would not have.
///
/// Only what the caller may already do is routed: the handler sends here only `GET`/`HEAD` calls
/// of `STABLE` or `IMMUTABLE` functions, after the credential, the catalog and the arguments were
/// checked, and the replica runs the same `core.gate_call` as the primary.
final class ReadRouter: Sendable {
    /// The replicas, in the order configured.
    let replicas: [ReadReplica]
    /// Who wrote recently.
    let stickiness: WriterStickiness
    private let primary: Gate
    /// Each replica's metrics, in the order of ``replicas``.
    private let series: [BridgeMetrics.ReplicaSeries]
    private let logger: Logger
    private let turn = NIOLockedValueBox(0)

    /// Creates a router over `replicas` (none: every call goes to `primary`), whose reads and
    /// fallbacks are counted in `metrics`.
    init(primary: Gate, replicas: [ReadReplica], stickiness: WriterStickiness, metrics: BridgeMetrics, logger: Logger) {
        self.primary = primary
        self.replicas = replicas
        self.stickiness = stickiness
        self.series = replicas.map { metrics.replicaSeries(label: $0.label) }
        self.logger = logger
    }

    /// The replicas as a scrape shows them.
    var observations: [BridgeMetrics.ReplicaObservation] {
        zip(replicas, series).map { replica, series in
            BridgeMetrics.ReplicaObservation(series: series, isUsable: replica.isUsable, lag: replica.currentLag)
        }
    }

    /// Records that `identity` wrote (or may have written) through this bridge.
    func noteWrite(by identity: Identity) {
        guard !replicas.isEmpty else { return }
        stickiness.noteWrite(by: identity)
    }

    /// Whether a replica would serve `identity`'s read now: one is usable and `identity` has not
    /// written through this bridge within `replica_lag`. While the primary is unreachable, the
    /// bridge answers such reads from the replica and every other call 503.
    func hasReplica(for identity: Identity) -> Bool {
        !replicas.isEmpty && !stickiness.isSticky(identity) && replicas.contains(where: \.isUsable)
    }

    /// The index in ``replicas`` of the replica that should serve `identity`'s read now, taking
    /// the usable ones in turn; nil: the primary.
    private func route(for identity: Identity) -> Int? {
        guard !replicas.isEmpty, !stickiness.isSticky(identity) else { return nil }
        let usable = replicas.indices.filter { replicas[$0].isUsable }
        guard !usable.isEmpty else { return nil }
        let index = turn.withLockedValue { turn in
            defer { turn &+= 1 }
            return turn
        }
        return usable[Int(UInt(bitPattern: index) % UInt(usable.count))]
    }

    /// Runs a read-only call (see ``Gate/call(_:arguments:as:readOnly:)``) as `identity` on a
    /// replica when one should serve it, else on the primary; a replica that cannot take the
    /// call (connection lost, shutting down, a recovery conflict, or a write the caller's
    /// identity needs first, such as recording a new identity link) is marked unusable until its
    /// next probe when it is unreachable, and the primary answers — as a write, with its commit
    /// confirmed and the caller's next reads sent to the primary, when the replica refused it for
    /// writing.
    /// - Throws: ``DatabaseError`` as the gate does.
    func read(_ statement: String, arguments: String, as identity: Identity) async throws -> ByteBuffer? {
        if let index = route(for: identity) {
            let replica = replicas[index]
            do {
                let result = try await replica.gate.call(statement, arguments: arguments, as: identity, readOnly: true)
                series[index].reads.increment()
                return result
            } catch let error as DatabaseError where Self.primaryMayAnswer(error) {
                if error.meansDatabaseUnreachable {
                    replica.record(.unreachable)
                }
                series[index].fallbacks.increment()
                logger.info(
                    "read replica could not take the call; the primary answers",
                    metadata: ["replica": "\(replica.label)", "error": "\(error)"])
                if error.sqlState == Self.writeInReadOnlyTransaction {
                    // The call writes after all (an identity link recorded on first sight, a
                    // STABLE function that calls a writer): on the primary it is a write, answered
                    // once its commit is confirmed, and its caller's next reads go to the primary.
                    defer { noteWrite(by: identity) }
                    return try await primary.call(statement, arguments: arguments, as: identity, readOnly: false)
                }
            }
        }
        return try await primary.call(statement, arguments: arguments, as: identity, readOnly: true)
    }

    /// `25006`: the replica refused a write in its read-only transaction.
    private static let writeInReadOnlyTransaction = "25006"

    /// Whether the primary may answer a read the replica failed: not when the budget is spent,
    /// nor when the statement itself failed (the primary would refuse it alike).
    private static func primaryMayAnswer(_ error: DatabaseError) -> Bool {
        guard !error.isTimeout, !Task.isCancelled else { return false }
        guard let code = error.sqlState else { return true }
        // 25006: a write in a read-only transaction (a new identity link); 40001: canceled by a
        // conflict with recovery; 08…, 57P01–57P03: the replica went away or is starting.
        return code == writeInReadOnlyTransaction || code == "40001" || error.meansDatabaseUnreachable
    }
}
