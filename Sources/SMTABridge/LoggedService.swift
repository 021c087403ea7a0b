import Logging
import ServiceLifecycle

/// Runs a service of the bridge and says so in the log when it stops on its own: a background
/// service that ends while the server runs would otherwise take the server down silently (the
/// group then shuts everything down).
struct LoggedService: Service {
    let name: String
    let base: any Service
    let logger: Logger

    func run() async throws {
        do {
            try await base.run()
        } catch {
            if !Task.isCancelled && !Task.isShuttingDownGracefully {
                logger.error("\(name) failed; the bridge stops", metadata: ["error": "\(String(reflecting: error))"])
            }
            throw error
        }
        if !Task.isCancelled && !Task.isShuttingDownGracefully {
            logger.error("\(name) stopped on its own; the bridge stops")
        }
    }
}
