import Logging
import ServiceLifecycle

/// Runs background work beside the server until graceful shutdown; work that ends early (or
/// fails, which is logged) leaves the service idle rather than stopping the server.
struct BackgroundService: Service {
    let name: String
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                try await work()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("\(name) failed: \(error)")
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
