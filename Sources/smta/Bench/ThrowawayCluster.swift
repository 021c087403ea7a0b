import Foundation
import SMTADev

/// A PostgreSQL cluster of a benchmark's own, in a scratch folder that is removed afterwards.
enum ThrowawayCluster {
    /// Creates and starts a cluster in a new scratch folder, runs `body` with it, then stops the
    /// cluster and removes the folder, whatever `body` does.
    /// - Parameters:
    ///   - durable: whether commits must survive an immediate stop (`fsync` and
    ///     `synchronous_commit` kept on); throwaway speed otherwise.
    static func with<T>(durable: Bool = false, _ body: (LocalCluster) async throws -> T) async throws -> T {
        let scratch = FileManager.default.temporaryDirectory.path + "/smta-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let cluster = LocalCluster(directory: scratch + "/postgres", port: try LocalCluster.freePort(), binaries: try PostgresBinaries.locate())
        Console.line("Starting a throwaway PostgreSQL cluster…")
        try cluster.create()
        try cluster.start(durable: durable)
        defer { try? cluster.stop(immediate: true) }
        return try await body(cluster)
    }
}
