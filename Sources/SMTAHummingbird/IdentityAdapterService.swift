import Logging
import ServiceLifecycle
import SMTACore

/// Runs an adapter's `IdentityAdapter.run()` as a service of a Hummingbird
/// application, beside its server, until graceful shutdown.
///
/// Adapters differ in what `run()` does: the Supabase and OIDC adapters load their JWKS and
/// return; the Payload adapter keeps its PostgreSQL session store's pool serving until
/// cancelled. Either way this service stays up until the application shuts down, so an adapter
/// that has finished preparing does not stop the server; a failure is logged (the adapters
/// retry on the first request that needs what failed to load) and the service then idles.
///
/// ```swift
/// let app = Application(router: router, services: [client, IdentityAdapterService(adapter)])
/// ```
public struct IdentityAdapterService: Service {
    let adapter: any IdentityAdapter
    let logger: Logger

    /// Creates the service for `adapter`.
    public init(_ adapter: any IdentityAdapter, logger: Logger = Logger(label: "smta.adapter")) {
        self.adapter = adapter
        self.logger = logger
    }

    /// Runs the adapter's work, then waits for graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                try await adapter.run()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("adapter \(adapter.name) failed to prepare", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
