import Logging
import PostgresNIO
import ServiceLifecycle
import SMTACore

/// Reloads the function catalog when the database says its schema changed:
/// `NOTIFY smta, 'reload schema'`, or PostgREST's own `NOTIFY pgrst, 'reload schema'` (an empty
/// payload counts too, as it does for PostgREST), so that a migration can end with the same line
/// for either server.
///
/// One connection of its own LISTENs on both channels; when it is lost the listener reconnects
/// every ``retryInterval`` (the catalog's periodic refresh and its reload on unknown names keep it
/// current meanwhile).
struct CatalogReloadListener: Service {
    /// The channels listened to.
    static let channels = ["smta", "pgrst"]

    let configuration: PostgresConnection.Configuration
    let catalog: FunctionCatalog
    let retryInterval: Duration
    let logger: Logger

    /// Listens until graceful shutdown.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                    await listen(on: connection)
                    try? await connection.close()
                } catch {
                    logger.debug("catalog listener could not connect: \(DatabaseError(error))")
                }
                try? await Task.sleep(for: retryInterval)
            }
        }
    }

    /// Reloads on every reload notification of any channel, until one stream ends.
    private func listen(on connection: PostgresConnection) async {
        await withTaskGroup(of: Void.self) { group in
            for channel in Self.channels {
                group.addTask {
                    do {
                        try await connection.listen(on: channel) { notifications in
                            for try await notification in notifications
                            where ["", "reload schema"].contains(notification.payload) {
                                do {
                                    try await catalog.reload()
                                    logger.info("function catalog reloaded", metadata: ["channel": "\(channel)"])
                                } catch {
                                    logger.warning("catalog reload failed: \(DatabaseError(error))")
                                }
                            }
                        }
                    } catch {
                        logger.debug("catalog listener lost its connection: \(DatabaseError(error))")
                    }
                }
            }
            // Either stream ending means the connection is gone: stop the other and reconnect.
            await group.next()
            group.cancelAll()
        }
    }
}
