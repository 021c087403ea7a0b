import SMTACore
import SMTATestSupport
import Testing

@testable import SMTABridge

@Suite("Replica lag: an upper bound on how stale a replica is, growing until the next probe, frozen while the primary is lost")
struct ReplicaLagTests {
    typealias Sample = ReplicaLagMonitor.Sample

    static let now = ContinuousClock.now
    static let maxLag: Duration = .seconds(5)

    /// Primary samples taken `ago` seconds before ``now``, at positions 100, 200, …
    static func samples(_ ago: [Double]) -> [Sample] {
        ago.enumerated().map { index, seconds in
            Sample(at: now - .milliseconds(Int64(seconds * 1000)), position: Int64(index + 1) * 100)
        }
    }

    static func health(replayed: Int64, _ ago: [Double]) -> ReadReplica.Health {
        ReplicaLagMonitor.health(replayed: replayed, samples: samples(ago), at: now, maxLag: maxLag)
    }

    @Test("a replica that replayed the newest sample is as stale as that sample is old, not zero")
    func caughtUp() {
        #expect(Self.health(replayed: 300, [3, 2, 1]) == .ready(lag: .seconds(1)))
        #expect(Self.health(replayed: 350, [3, 2, 1]) == .ready(lag: .seconds(1)))
    }

    @Test("a replica between samples is as stale as the newest one it replayed")
    func between() {
        #expect(Self.health(replayed: 250, [7, 4, 1]) == .ready(lag: .seconds(4)))
        #expect(Self.health(replayed: 150, [7, 4, 1]) == .lagging(.seconds(7)))
    }

    @Test("behind every sample: unknown while the history is shorter than max_replica_lag, lagging after; no sample: unknown")
    func behindEverything() {
        #expect(Self.health(replayed: 50, [2, 1]) == .unknown)
        #expect(Self.health(replayed: 50, [6, 1]) == .lagging(.seconds(6)))
        #expect(Self.health(replayed: 50, []) == .unknown)
    }

    static func replica() throws -> ReadReplica {
        try ReadReplica(
            url: try DatabaseURL("postgres://nobody@127.0.0.1:1/none"), startupParameters: [], route: .session, size: 1,
            secretsKey: nil, allowsAnonymousUsers: false, maxLag: maxLag, logger: TestSQL.logger)
    }

    @Test("a ready verdict serves while its lag plus the time since the probe stays within max_replica_lag")
    func lagGrowsUntilTheNextProbe() throws {
        let replica = try Self.replica()
        #expect(!replica.isUsable, "unprobed")
        replica.record(.ready(lag: .seconds(1)), at: .now)
        #expect(replica.isUsable)
        replica.record(.ready(lag: .milliseconds(4800)), at: .now - .milliseconds(500))
        #expect(!replica.isUsable, "4.8 s at the probe, 5.3 s now")
        replica.record(.ready(lag: .seconds(1)), at: .now - .seconds(4))
        #expect(!replica.isUsable, "a verdict older than the freshness rule")
        replica.record(.lagging(.seconds(6)), at: .now)
        #expect(!replica.isUsable)
    }

    @Test("while the primary is lost nothing commits: a ready replica's lag stays what was measured")
    func frozenWhilePrimaryIsLost() throws {
        let replica = try Self.replica()
        replica.record(.ready(lag: .milliseconds(4800)), lagGrows: false, at: .now - .milliseconds(500))
        #expect(replica.isUsable)
    }
}
