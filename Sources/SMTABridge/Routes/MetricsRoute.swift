import Hummingbird

/// `GET /metrics`: the bridge's metrics (``BridgeMetrics``) in Prometheus's text format, with the
/// gauges read at the moment of the scrape.
struct MetricsRoute: Sendable {
    let metrics: BridgeMetrics
    let inFlight: InFlightRequests
    let availability: DatabaseAvailability
    /// Where reads go: the read replicas' state.
    let reads: ReadRouter

    /// The exposition.
    func respond() -> Response {
        let (calls, waiting) = inFlight.counts
        let body = metrics.exposition(
            inFlight: calls, waiting: waiting, databaseIsUp: !availability.isDown, replicas: reads.observations)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Adds `GET /metrics` to `router`.
    func add(to router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in respond() }
    }
}
