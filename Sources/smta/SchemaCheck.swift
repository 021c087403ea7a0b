import Logging
import SMTACore

/// What `smta serve` checks of the database before it listens.
enum SchemaCheck {
    /// Refuses to serve a database whose schema lags behind this `smta` (pending migrations) or
    /// belongs to something else (changed or unknown migrations); a database that cannot be
    /// reached yet is only logged, and the bridge answers 503 until it can.
    /// - Throws: `ConfigurationError` naming the database URL and what to run.
    static func refusePending(adapter: AdapterChoice, url: DatabaseURL, logger: Logger) async throws {
        let status: MigrationStatus
        do {
            status = try await Migrator(migrations: adapter.migrations).status(of: url)
        } catch {
            guard case .unreachable(_, let reason) = error else { throw error }
            logger.warning("database not reachable yet; serving 503 until it is", metadata: ["error": "\(reason.message)"])
            return
        }
        let key = Configuration.Key.databaseURL.environmentName
        if let changed = status.changed.first {
            throw ConfigurationError(key: key, problem: "\(url): migration \(changed.id) was applied with different SQL")
        }
        if !status.unknown.isEmpty {
            throw ConfigurationError(
                key: key, problem: "\(url) has migrations this smta does not know (\(status.unknown.map(\.id).joined(separator: ", "))): upgrade smta")
        }
        if !status.pending.isEmpty {
            throw ConfigurationError(
                key: key, problem: "\(url) lacks \(status.pending.count) migration(s): run `smta migrate --adapter \(adapter.rawValue)` first")
        }
    }
}
