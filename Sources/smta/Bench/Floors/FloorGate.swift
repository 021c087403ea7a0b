import Logging
import SMTACore

/// SMTACore's `Gate` over a `RenewablePool` of its own, quiet: how the floors that call the
/// database as the bridge does (``HummingbirdBridgeFloor``, ``NIOGateFloor``) reach it.
struct FloorGate: Sendable {
    let gate: Gate
    private let pool: Task<Void, Never>

    /// Opens a pool of at most `clients` connections to `url` (on demand) and its gate.
    init(url: DatabaseURL, clients: Int, label: String) throws {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let connections = RenewablePool(configuration: try url.connectionConfiguration(), size: clients, logger: logger)
        pool = Task { await connections.run() }
        gate = Gate(pool: connections, logger: logger)
    }

    /// Closes the pool.
    func close() async {
        pool.cancel()
        await pool.value
    }
}
