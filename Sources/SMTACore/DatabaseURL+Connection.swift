import Logging
import PostgresNIO

extension DatabaseURL {
    /// Opens one connection to this database, runs `body` on it and closes it, whether `body`
    /// returns or throws: for commands and tools that need a single session, not a pool.
    /// - Parameters:
    ///   - applicationName: shown in `pg_stat_activity`, if given.
    ///   - logger: the connection's logger.
    ///   - body: the work to run on the connection.
    /// - Throws: ``DatabaseError`` when the database cannot be reached, its message one line
    ///   saying where, why and what to check (``ConnectionFailure``); `body`'s errors unchanged.
    public func withConnection<Result: Sendable>(
        applicationName: String? = nil, logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var configuration = try connectionConfiguration()
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw DatabaseError(connecting: error, to: self)
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
