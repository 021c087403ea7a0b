import SMTACore

extension Configuration.Key {
    /// The bridge's listen address.
    public static let host = Configuration.Key("host")
    /// The bridge's port.
    public static let port = Configuration.Key("port")
    /// The port of the admin listener (`/live`, `/ready`, `/metrics`); unset, none is opened.
    public static let adminPort = Configuration.Key("admin_port")
    /// The most PostgreSQL connections the bridge opens (default 16).
    public static let poolSize = Configuration.Key("pool_size")
    /// Seconds a bridge request may take, waiting for a connection included (default 30).
    public static let requestTimeout = Configuration.Key("request_timeout")
    /// Seconds one statement may run before PostgreSQL cancels it (default 15).
    public static let statementTimeout = Configuration.Key("statement_timeout")
    /// Whether `database_url` leads to a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`): `true` or `false` (default).
    public static let transactionPooling = Configuration.Key("transaction_pooling")
    /// A URL straight to PostgreSQL for the bridge's session work (LISTEN for catalog reloads, the
    /// database watch) when `database_url` leads to a transaction pooler; unset: `database_url`.
    public static let directDatabaseURL = Configuration.Key("direct_database_url", secret: true)
    /// The largest request body the bridge reads, in bytes (default 1048576).
    public static let maxBodySize = Configuration.Key("max_body_size")
    /// Seconds a keep-alive connection may stay idle between requests (default 75).
    public static let idleTimeout = Configuration.Key("idle_timeout")
    /// Seconds a client may take to send a request's header section (default 10).
    public static let headerTimeout = Configuration.Key("header_timeout")
    /// The log's format: `text` (default) or `json` (one JSON object per line).
    public static let logFormat = Configuration.Key("log_format")
    /// Browser origins allowed to call the bridge *with credentials* (cookies), comma-separated;
    /// every other origin may call it without credentials, as PostgREST allows by default.
    public static let corsOrigins = Configuration.Key("cors_origins")
    /// Seconds an `Idempotency-Key` and its call's result are kept (default 86400, at most 30 days).
    public static let idempotencyWindow = Configuration.Key("idempotency_window")
    /// Seconds a graceful shutdown waits for the requests in flight (default: request_timeout + 5).
    public static let drainTimeout = Configuration.Key("drain_timeout")
    /// The token claim naming the request's active organization (`organization_id`, or a dotted
    /// path such as `app_metadata.organization_id`); unset, only `X-SMTA-Organization` names one.
    public static let organizationClaim = Configuration.Key("organization_claim")
    /// Requests per second each SCIM token may send, with bursts of five times as many (default 25).
    public static let scimRateLimit = Configuration.Key("scim_rate_limit")
    /// Read replicas of the database, comma-separated PostgreSQL URLs: `GET` calls of `STABLE` and
    /// `IMMUTABLE` functions go to one of them (unset: every call goes to `database_url`).
    public static let readDatabaseURL = Configuration.Key("read_database_url", secret: true)
    /// Seconds after a caller's write during which this bridge sends that caller's reads to the
    /// primary (read-your-writes; default `max_replica_lag` + 2).
    public static let replicaLag = Configuration.Key("replica_lag")
    /// Seconds a replica may be behind the primary and still serve reads (default 5).
    public static let maxReplicaLag = Configuration.Key("max_replica_lag")
    /// Stripe's webhook signing secret.
    public static let stripeWebhookSecret = Configuration.Key("stripe_webhook_secret", secret: true)
    /// Lemon Squeezy's webhook signing secret.
    public static let lemonSqueezyWebhookSecret = Configuration.Key("lemonsqueezy_webhook_secret", secret: true)
}

extension BridgeSettings {
    /// Every configuration key the bridge reads.
    public static let configurationKeys: [Configuration.Key] = [
        .host, .port, .adminPort, .poolSize, .requestTimeout, .statementTimeout, .transactionPooling, .directDatabaseURL, .maxBodySize, .idleTimeout, .headerTimeout,
        .logFormat, .corsOrigins, .idempotencyWindow, .drainTimeout, .organizationClaim, .scimRateLimit,
        .readDatabaseURL, .replicaLag, .maxReplicaLag, .stripeWebhookSecret, .lemonSqueezyWebhookSecret,
    ]
}
