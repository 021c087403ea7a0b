import Foundation
import SMTACore

/// How the bridge listens and what it accepts.
public struct BridgeSettings: Sendable {
    /// The address to listen on (default `127.0.0.1`).
    public var host: String
    /// The port to listen on (default 3000; 0 picks a free one).
    public var port: Int
    /// The port of the admin listener (`/live`, `/ready`, `/metrics`) on ``host``; nil for none.
    public var adminPort: Int?
    /// The most PostgreSQL connections the bridge opens.
    public var poolSize: Int
    /// How long one request may take, waiting for a connection included.
    public var requestTimeout: Duration
    /// How long one statement may run before PostgreSQL cancels it (`statement_timeout`).
    public var statementTimeout: Duration
    /// Whether the database URL leads to a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`): each call then runs in a transaction of its own that sets
    /// `statement_timeout`, no statement is prepared, and catalog reload notifications need
    /// ``directDatabase``.
    public var transactionPooling: Bool
    /// PostgreSQL reached directly, for the work that needs a session of its own (LISTEN for
    /// catalog reloads, the database watch) when the database URL leads to a transaction pooler;
    /// nil: that work uses the database URL.
    public var directDatabase: DatabaseURL?
    /// The largest request body read, in bytes.
    public var maxBodySize: Int
    /// The largest header section accepted, in bytes.
    public var maxHeaderSize: Int
    /// How long a keep-alive connection may stay idle between requests before it is closed.
    public var idleTimeout: Duration
    /// How long a client may take to send a request's header section before its connection is
    /// closed (a slowloris defence).
    public var headerTimeout: Duration
    /// How often the function catalog is re-read in the background.
    public var catalogRefreshInterval: Duration
    /// The key of SMTA's secret encryption (`app.secrets_key`), if configured.
    public var secretsKey: String?
    /// Stripe's webhook signing secrets, current first; empty leaves `/webhooks/stripe` off (501).
    public var stripeWebhookSecrets: [String]
    /// Lemon Squeezy's webhook signing secrets; empty leaves `/webhooks/lemonsqueezy` off (501).
    public var lemonSqueezyWebhookSecrets: [String]
    /// Browser origins that may call with credentials (cookies); any origin may call without.
    public var corsOrigins: [String]
    /// Whether anonymous sign-ins may create organizations and become members.
    public var allowsAnonymousUsers: Bool
    /// How long an `Idempotency-Key` and the result of its call are kept (default 24 hours).
    public var idempotencyWindow: Duration
    /// The token claim naming the request's active organization (a name, or a dotted path such
    /// as `app_metadata.organization_id`); nil: only the `X-SMTA-Organization` header names one.
    public var organizationClaim: String?
    /// How long a graceful shutdown waits for the requests in flight before cancelling them
    /// (default: the request timeout plus 5 seconds).
    public var drainTimeout: Duration
    /// Requests per second each SCIM token may send (a burst of five times as many is allowed;
    /// default 25).
    public var scimRateLimit: Int
    /// Read replicas of the database: `GET` calls of `STABLE` / `IMMUTABLE` functions go to one
    /// of them while it is reachable and within ``maxReplicaLag``; empty: every call goes to the
    /// primary.
    public var readDatabases: [DatabaseURL]
    /// How long after a caller's write this bridge sends that caller's reads to the primary
    /// (read-your-writes; default ``maxReplicaLag`` plus 2 seconds, see ``ReplicaLagMonitor``).
    public var replicaLag: Duration
    /// How far behind the primary a replica may be and still serve reads (default 5 seconds).
    public var maxReplicaLag: Duration
    /// Whether calls of `/rpc/{function}` (`GET`, and `POST` whose body comes with its head)
    /// are answered from the connection's channel pipeline (``RPCLane``, the default) or, when
    /// false, through Hummingbird's router like every other request. The answers are the same,
    /// made by the same code; the lane spends less CPU per call. Not a configuration key:
    /// `smta bench bridge` turns it off to measure both side by side.
    public var answersCallsOnLane = true

    /// Creates settings; the defaults suit a bridge in front of one PostgreSQL.
    public init(
        host: String = "127.0.0.1", port: Int = 3000, adminPort: Int? = nil, poolSize: Int = 16,
        requestTimeout: Duration = .seconds(30), statementTimeout: Duration = .seconds(15),
        transactionPooling: Bool = false, directDatabase: DatabaseURL? = nil, maxBodySize: Int = 1 << 20, maxHeaderSize: Int = 32 << 10,
        idleTimeout: Duration = .seconds(75), headerTimeout: Duration = .seconds(10),
        catalogRefreshInterval: Duration = .seconds(10), secretsKey: String? = nil,
        stripeWebhookSecrets: [String] = [], lemonSqueezyWebhookSecrets: [String] = [],
        corsOrigins: [String] = [], allowsAnonymousUsers: Bool = false, idempotencyWindow: Duration = .seconds(86400),
        drainTimeout: Duration? = nil, organizationClaim: String? = nil, scimRateLimit: Int = 25,
        readDatabases: [DatabaseURL] = [], maxReplicaLag: Duration = .seconds(5), replicaLag: Duration? = nil
    ) {
        self.host = host
        self.port = port
        self.adminPort = adminPort
        self.poolSize = poolSize
        self.requestTimeout = requestTimeout
        self.statementTimeout = statementTimeout
        self.transactionPooling = transactionPooling
        self.directDatabase = directDatabase
        self.maxBodySize = maxBodySize
        self.maxHeaderSize = maxHeaderSize
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.catalogRefreshInterval = catalogRefreshInterval
        self.secretsKey = secretsKey
        self.stripeWebhookSecrets = stripeWebhookSecrets
        self.lemonSqueezyWebhookSecrets = lemonSqueezyWebhookSecrets
        self.corsOrigins = corsOrigins
        self.allowsAnonymousUsers = allowsAnonymousUsers
        self.idempotencyWindow = idempotencyWindow
        self.drainTimeout = drainTimeout ?? requestTimeout + .seconds(5)
        self.organizationClaim = organizationClaim
        self.scimRateLimit = scimRateLimit
        self.readDatabases = readDatabases
        self.maxReplicaLag = maxReplicaLag
        self.replicaLag = replicaLag ?? maxReplicaLag + ReplicaLagMonitor.stickinessMargin
    }

    /// Reads `SMTA_HOST`, `SMTA_PORT`, `SMTA_ADMIN_PORT`, `SMTA_POOL_SIZE`, `SMTA_REQUEST_TIMEOUT`,
    /// `SMTA_STATEMENT_TIMEOUT`, `SMTA_TRANSACTION_POOLING`, `SMTA_DIRECT_DATABASE_URL`, `SMTA_MAX_BODY_SIZE`, `SMTA_IDLE_TIMEOUT`, `SMTA_HEADER_TIMEOUT`,
    /// `SMTA_SECRETS_KEY`, the webhook
    /// secrets (`SMTA_STRIPE_WEBHOOK_SECRET`, `SMTA_LEMONSQUEEZY_WEBHOOK_SECRET`: one secret, or
    /// several separated by commas while one is being rolled), `SMTA_CORS_ORIGINS` and
    /// `SMTA_ALLOW_ANONYMOUS_USERS`, `SMTA_IDEMPOTENCY_WINDOW`, `SMTA_DRAIN_TIMEOUT` and
    /// `SMTA_ORGANIZATION_CLAIM` and `SMTA_SCIM_RATE_LIMIT`, and the read replicas:
    /// `SMTA_READ_DATABASE_URL` (comma-separated), `SMTA_MAX_REPLICA_LAG`, `SMTA_REPLICA_LAG`.
    /// - Throws: `ConfigurationError` naming the key whose value is out of range.
    public init(configuration: Configuration) throws(ConfigurationError) {
        self.init()
        if let host = configuration[.host], !host.isEmpty {
            self.host = host
        }
        port = try configuration.integer(.port, in: 0...65535, default: port)
        if let text = configuration[.adminPort], !text.isEmpty {
            let adminPort = try configuration.integer(.adminPort, in: 0...65535, default: 0)
            guard adminPort == 0 || adminPort != port else {
                throw ConfigurationError(key: Configuration.Key.adminPort.environmentName, problem: "must differ from the bridge's port")
            }
            self.adminPort = adminPort
        }
        poolSize = try configuration.integer(.poolSize, in: 1...1000, default: poolSize)
        requestTimeout = .milliseconds(Int64(try configuration.number(.requestTimeout, in: 0.1...3600, default: 30) * 1000))
        statementTimeout = .milliseconds(Int64(try configuration.number(.statementTimeout, in: 0.1...3600, default: 15) * 1000))
        transactionPooling = try configuration.boolean(.transactionPooling, default: false)
        if let text = configuration[.directDatabaseURL], !text.isEmpty {
            do {
                directDatabase = try DatabaseURL(text)
            } catch let error as ConfigurationError {
                throw ConfigurationError(key: Configuration.Key.directDatabaseURL.environmentName, problem: error.problem)
            } catch {
                throw ConfigurationError(key: Configuration.Key.directDatabaseURL.environmentName, problem: "is not a PostgreSQL URL")
            }
        }
        maxBodySize = try configuration.integer(.maxBodySize, in: 1024...(1 << 30), default: maxBodySize)
        idleTimeout = .milliseconds(Int64(try configuration.number(.idleTimeout, in: 0.1...86400, default: 75) * 1000))
        headerTimeout = .milliseconds(Int64(try configuration.number(.headerTimeout, in: 0.1...3600, default: 10) * 1000))
        if let key = configuration[.secretsKey], !key.isEmpty {
            guard key.utf8.count >= 16 else {
                throw ConfigurationError(key: Configuration.Key.secretsKey.environmentName, problem: "must be at least 16 characters long")
            }
            secretsKey = key
        }
        stripeWebhookSecrets = configuration.list(.stripeWebhookSecret)
        lemonSqueezyWebhookSecrets = configuration.list(.lemonSqueezyWebhookSecret)
        corsOrigins = configuration.list(.corsOrigins)
        allowsAnonymousUsers = try configuration.boolean(.allowAnonymousUsers, default: false)
        idempotencyWindow = .seconds(try configuration.integer(.idempotencyWindow, in: 1...2_592_000, default: 86400))
        let defaultDrain = requestTimeout.inSeconds + 5
        drainTimeout = .milliseconds(Int64(try configuration.number(.drainTimeout, in: 0.1...3600, default: defaultDrain) * 1000))
        scimRateLimit = try configuration.integer(.scimRateLimit, in: 1...10_000, default: scimRateLimit)
        if let claim = configuration[.organizationClaim]?.trimmingCharacters(in: .whitespaces), !claim.isEmpty {
            guard claim.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty }), claim.count <= 200 else {
                throw ConfigurationError(
                    key: Configuration.Key.organizationClaim.environmentName,
                    problem: "must be a claim name or a dotted path, e.g. app_metadata.organization_id")
            }
            organizationClaim = claim
        }
        for text in configuration.list(.readDatabaseURL) {
            do {
                readDatabases.append(try DatabaseURL(text))
            } catch let error as ConfigurationError {
                throw ConfigurationError(key: Configuration.Key.readDatabaseURL.environmentName, problem: error.problem)
            } catch {
                throw ConfigurationError(key: Configuration.Key.readDatabaseURL.environmentName, problem: "is not a PostgreSQL URL")
            }
        }
        maxReplicaLag = .milliseconds(Int64(try configuration.number(.maxReplicaLag, in: 0.1...3600, default: 5) * 1000))
        let defaultStickiness = maxReplicaLag + ReplicaLagMonitor.stickinessMargin
        replicaLag = .milliseconds(Int64(try configuration.number(.replicaLag, in: 0...3600, default: defaultStickiness.inSeconds) * 1000))
        for origin in corsOrigins {
            guard let url = URL(string: origin), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
                url.host != nil, url.path.isEmpty || url.path == "/", url.query == nil
            else {
                throw ConfigurationError(
                    key: Configuration.Key.corsOrigins.environmentName,
                    problem: "each origin must be scheme://host[:port], e.g. https://app.example.com")
            }
        }
    }
}
