import Hummingbird

/// `GET /live` and `GET /ready` (and `HEAD`), as PostgREST's admin server answers them: a
/// status and an empty body, for load balancers and orchestrators.
///
/// `/live` is 200 while the process serves. `/ready` is 200 when the function catalog is loaded
/// and the database is reachable (``DatabaseAvailability``), 503 otherwise; a probe that finds
/// the database up but the catalog not yet read reads it (within two seconds), so a fresh bridge
/// becomes ready without waiting for its first call.
struct ProbeRoutes: Sendable {
    let catalog: FunctionCatalog
    let availability: DatabaseAvailability

    /// The answer to `/live`.
    func live() -> Response {
        Response(status: .ok)
    }

    /// The answer to `/ready`.
    func ready() async -> Response {
        if !availability.isDown && !catalog.isLoaded {
            let catalog = catalog
            _ = await Deadline.run(within: .seconds(2)) { (try? await catalog.reload()) != nil }
        }
        let ready = !availability.isDown && catalog.isLoaded
        return Response(status: ready ? .ok : .serviceUnavailable)
    }

    /// Adds `/live` and `/ready` to `router`, for `GET` and `HEAD`.
    func add(to router: Router<BasicRequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/live", method: method) { _, _ in live() }
            router.on("/ready", method: method) { _, _ in await ready() }
        }
    }
}
