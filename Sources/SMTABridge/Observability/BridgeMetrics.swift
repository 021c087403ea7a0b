import HTTPTypes
import NIOConcurrencyHelpers
import Prometheus
import SMTACore

/// The bridge's Prometheus metrics: one registry, the collectors the bridge records into, and
/// their exposition for `GET /metrics`.
///
/// Every name starts with `smta_`, counters end in `_total`, durations are in seconds. Label
/// values come from bounded sets only: function names from the catalog (any other name is
/// counted as `unknown`, so a client cannot create series by calling made-up names), HTTP
/// statuses, `AuthenticationError.Kind`, the webhook providers and their outcomes. Nothing from
/// a credential ever becomes a label.
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `smta_rpc_requests_total` | counter | `function`, `status`, `adapter` |
/// | `smta_rpc_request_duration_seconds` | histogram | `function` |
/// | `smta_credential_refusals_total` | counter | `reason` |
/// | `smta_calls_in_flight`, `smta_calls_waiting` | gauge | |
/// | `smta_pool_connections_max` | gauge | |
/// | `smta_database_up` | gauge | |
/// | `smta_database_outages_total` | counter | |
/// | `smta_webhook_events_total` | counter | `provider`, `outcome` |
/// | `smta_replica_up`, `smta_replica_lag_seconds` | gauge | `replica` |
/// | `smta_replica_reads_total`, `smta_replica_fallbacks_total` | counter | `replica` |
///
/// A replica's label is its `host:port/database` from `read_database_url`: configuration, never
/// credentials.
final class BridgeMetrics: Sendable {
    /// The label value of every function name the catalog does not know.
    static let unknownFunction = "unknown"

    /// The outcomes a webhook delivery is counted under; any other is counted as `other`.
    static let webhookOutcomes: Set<String> = ["applied", "duplicate", "stale", "ignored", "rejected", "refused"]

    /// Upper bounds of the latency histogram's buckets.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30),
    ]

    private let registry = PrometheusCollectorRegistry()
    private let adapter: String
    private let callsInFlight: Gauge
    private let callsWaiting: Gauge
    private let databaseUp: Gauge
    private let outages: Counter
    /// The series of each (function, status) called so far: the registry's lookup by labels
    /// costs several µs per call, a dictionary lookup under a lock well under one.
    private let callSeries = NIOLockedValueBox([CallKey: (requests: Counter, latency: DurationHistogram)]())

    private struct CallKey: Hashable {
        var function: String
        var status: Int
    }

    /// Creates the registry for a bridge serving `adapter` with a pool of `poolSize` connections;
    /// the series without labels are present (at zero) from the first scrape.
    init(adapter: String, poolSize: Int) {
        self.adapter = adapter
        registry.makeGauge(descriptor: Self.poolSize).set(Int64(poolSize))
        callsInFlight = registry.makeGauge(descriptor: Self.callsInFlight)
        callsWaiting = registry.makeGauge(descriptor: Self.callsWaiting)
        databaseUp = registry.makeGauge(descriptor: Self.databaseUp)
        outages = registry.makeCounter(descriptor: Self.outages)
    }

    /// Counts one answered RPC call and its latency. `function` must already be a catalog name
    /// or ``unknownFunction``.
    func recordCall(function: String, status: HTTPResponse.Status, duration: Duration) {
        let key = CallKey(function: function, status: status.code)
        let series = callSeries.withLockedValue { known in
            if let series = known[key] { return series }
            let series = (
                requests: registry.makeCounter(
                    descriptor: Self.requests, labels: [("function", function), ("status", String(status.code)), ("adapter", adapter)]),
                latency: registry.makeDurationHistogram(
                    descriptor: Self.latency, labels: [("function", function)], buckets: Self.latencyBuckets))
            known[key] = series
            return series
        }
        series.requests.increment()
        series.latency.record(duration)
    }

    /// Counts a refused credential under its kind (`expired`, `bad_signature`, …).
    func recordRefusal(_ kind: AuthenticationError.Kind) {
        registry.makeCounter(descriptor: Self.refusals, labels: [("reason", Self.label(kind))]).increment()
    }

    /// Counts a webhook delivery: `provider` is `stripe` or `lemon_squeezy`, `outcome` what the
    /// ledger recorded (`applied`, `duplicate`, `stale`, `ignored`, `rejected`) or `refused` for
    /// a delivery whose signature did not verify.
    func recordWebhook(provider: String, outcome: String) {
        let outcome = Self.webhookOutcomes.contains(outcome) ? outcome : "other"
        registry.makeCounter(descriptor: Self.webhooks, labels: [("provider", provider), ("outcome", outcome)]).increment()
    }

    /// The series of one read replica, made once when the bridge starts.
    struct ReplicaSeries: Sendable {
        /// Reads (`GET`/`HEAD` of read-only functions) the replica answered.
        let reads: Counter
        /// Reads sent to the replica that it could not take, answered by the primary.
        let fallbacks: Counter
        fileprivate let up: Gauge
        fileprivate let lag: Gauge
    }

    /// What a scrape shows of one replica.
    struct ReplicaObservation {
        /// The replica's series.
        let series: ReplicaSeries
        /// Whether it serves reads now.
        let isUsable: Bool
        /// How far behind the primary its last probe found it; nil when no probe measured it
        /// (not probed yet, unreachable, not a replica).
        let lag: Duration?
    }

    /// Makes the series of the replica labelled `label` (`host:port/database`), present (at
    /// zero, not serving) from the first scrape.
    func replicaSeries(label: String) -> ReplicaSeries {
        let labels = [("replica", label)]
        let series = ReplicaSeries(
            reads: registry.makeCounter(descriptor: Self.replicaReads, labels: labels),
            fallbacks: registry.makeCounter(descriptor: Self.replicaFallbacks, labels: labels),
            up: registry.makeGauge(descriptor: Self.replicaUp, labels: labels),
            lag: registry.makeGauge(descriptor: Self.replicaLag, labels: labels))
        series.lag.set(Double.nan)
        return series
    }

    /// Counts a transition of the database from reachable to unreachable.
    func recordOutage() {
        outages.increment()
    }

    /// The text exposition (format 0.0.4) of every metric, with the gauges first set to what
    /// is observed now.
    /// - Parameters:
    ///   - inFlight: the RPC calls being answered.
    ///   - waiting: those of them beyond the pool's size, which may wait for a connection.
    ///   - databaseIsUp: whether the database is reachable.
    ///   - replicas: the read replicas as they are now (`smta_replica_lag_seconds` is NaN for one
    ///     no probe measured).
    func exposition(inFlight: Int, waiting: Int, databaseIsUp: Bool, replicas: [ReplicaObservation] = []) -> [UInt8] {
        callsInFlight.set(Int64(inFlight))
        callsWaiting.set(Int64(waiting))
        databaseUp.set(Int64(databaseIsUp ? 1 : 0))
        for replica in replicas {
            replica.series.up.set(Int64(replica.isUsable ? 1 : 0))
            replica.series.lag.set(replica.lag?.inSeconds ?? .nan)
        }
        return registry.emitToBuffer()
    }

    /// `badSignature` → `bad_signature`: Prometheus label values in the house style of metric
    /// names.
    static func label(_ kind: AuthenticationError.Kind) -> String {
        var label = ""
        for character in kind.rawValue {
            if character.isUppercase {
                label += "_" + character.lowercased()
            } else {
                label.append(character)
            }
        }
        return label
    }

    // The descriptors are built on use: MetricNameDescriptor is not Sendable.
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "rpc_requests", unitName: "total",
            helpText: "RPC calls answered, by function (catalog name or unknown), HTTP status and adapter.")
    }

    private static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "rpc_request_duration", unitName: "seconds",
            helpText: "Time to answer an RPC call, from its head read to its answer ready, by function.")
    }

    private static var refusals: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "credential_refusals", unitName: "total",
            helpText: "Credentials refused by the adapter, by reason.")
    }

    private static var callsInFlight: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "calls_in_flight", unitName: "",
            helpText: "RPC calls being answered now.")
    }

    private static var callsWaiting: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "calls_waiting", unitName: "",
            helpText: "RPC calls beyond the pool's size, which may be waiting for a connection.")
    }

    private static var poolSize: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "pool_connections_max", unitName: "",
            helpText: "The most PostgreSQL connections the bridge opens (pool_size).")
    }

    private static var databaseUp: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "database_up", unitName: "",
            helpText: "1 while the database is reachable, 0 while it is not.")
    }

    private static var outages: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "database_outages", unitName: "total",
            helpText: "Times the database went from reachable to unreachable.")
    }

    private static var replicaUp: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "replica_up", unitName: "",
            helpText: "1 while the read replica serves reads (reachable, within max_replica_lag), 0 while it does not.")
    }

    private static var replicaLag: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "replica_lag", unitName: "seconds",
            helpText: "How far the read replica is behind the primary, by its last probe; NaN when no probe measured it.")
    }

    private static var replicaReads: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "replica_reads", unitName: "total",
            helpText: "Reads the read replica answered.")
    }

    private static var replicaFallbacks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "replica_fallbacks", unitName: "total",
            helpText: "Reads sent to the read replica that it could not take, answered by the primary.")
    }

    private static var webhooks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "smta", metricName: "webhook_events", unitName: "total",
            helpText: "Billing webhook deliveries, by provider and outcome.")
    }
}
