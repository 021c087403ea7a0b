import Hummingbird
import HummingbirdCore
import Logging
import PostgresNIO
import ServiceLifecycle
import UnixSignals
import SMTACore

/// The bridge server (`smta serve`): PostgREST's RPC dialect over the gate.
///
/// Routes: `POST|GET|HEAD /rpc/{function}` and the same under `/rest/v1` (Supabase clients'
/// prefix), `GET /` and `GET /rest/v1/` (the OpenAPI document), `GET /health`, `/live`,
/// `/ready` and `/metrics` (also on the admin listener, when `admin_port` is set), the billing
/// webhooks, and CORS preflights on any path. Each call is authenticated by the configured
/// adapter, checked against the catalog of `public` functions and run as the caller in one
/// round trip (`Gate.call(_:arguments:as:readOnly:)`), on the primary or, for `GET` calls of
/// read-only functions, on a read replica (`read_database_url`). No answer depends on what a
/// process keeps in memory: run as many as the database allows (docs/scaling.md).
public struct Bridge: Sendable {
    private let adapter: any IdentityAdapter
    private let database: DatabaseURL
    private let settings: BridgeSettings
    private let logger: Logger

    /// Creates a bridge; nothing is opened before ``run(gracefulShutdownSignals:onListening:)``.
    public init(adapter: any IdentityAdapter, database: DatabaseURL, settings: BridgeSettings, logger: Logger) {
        self.adapter = adapter
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    /// Serves until one of `gracefulShutdownSignals` arrives (requests in flight are finished,
    /// for at most ``BridgeSettings/drainTimeout``) or the calling task is cancelled.
    /// - Parameters:
    ///   - gracefulShutdownSignals: the signals that start a graceful shutdown.
    ///   - onListening: called with the bound port once the server accepts connections.
    /// - Throws: `ConfigurationError` for an unusable database URL; the server's start-up
    ///   errors (address in use).
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var poolConfiguration = try database.connectionConfiguration()
        let route: ConnectionRoute
        if settings.transactionPooling {
            // A transaction pooler refuses statement_timeout at connection start (PgBouncer 1.18:
            // "unsupported startup parameter"); the gate sets it in each call's transaction.
            route = .transactionPooler(statementTimeout: settings.statementTimeout)
            poolConfiguration.options.additionalStartupParameters = [("application_name", "smta-bridge")]
        } else {
            route = .session
            poolConfiguration.options.additionalStartupParameters = [
                ("statement_timeout", "\(ConnectionRoute.milliseconds(settings.statementTimeout))"),
                ("application_name", "smta-bridge"),
            ]
        }
        // The watch and the catalog listener hold sessions of their own: straight to PostgreSQL
        // when direct_database_url is set.
        let sessionDatabase = settings.directDatabase ?? database
        var probeConfiguration = try sessionDatabase.connectionConfiguration()
        probeConfiguration.options.additionalStartupParameters = [("application_name", "smta-bridge-probe")]
        var listenerConfiguration = try sessionDatabase.connectionConfiguration()
        listenerConfiguration.options.additionalStartupParameters = [("application_name", "smta-bridge-listener")]
        let listensForReloads = !settings.transactionPooling || settings.directDatabase != nil
        if !listensForReloads {
            logger.notice(
                """
                transaction_pooling without direct_database_url: catalog reload notifications (LISTEN smta, pgrst) \
                cannot pass a transaction pooler, so the bridge does not listen for them; the catalog is re-read \
                every \(settings.catalogRefreshInterval) and on an unknown function name. Set direct_database_url \
                (SMTA_DIRECT_DATABASE_URL) to PostgreSQL itself for reloads at once.
                """)
        }

        let pool = RenewablePool(configuration: poolConfiguration, size: settings.poolSize, logger: logger)
        let metrics = BridgeMetrics(adapter: adapter.name, poolSize: settings.poolSize)
        let availability = DatabaseAvailability(
            configuration: probeConfiguration, metrics: metrics, logger: logger, answeredSince: { pool.answered(since: $0) }
        ) { downFor in
            // After an outage every pooled connection is dead or about to be: renewed, the pool
            // opens fresh ones at once. A shorter loss (a terminated backend) leaves the pool,
            // whose other connections still serve, alone.
            if downFor >= Self.poolRenewalOutage {
                pool.renew()
            }
        }
        let catalog = FunctionCatalog(pool: pool, refreshInterval: settings.catalogRefreshInterval, logger: logger)
        let gate = Gate(
            pool: pool, secretsKey: settings.secretsKey, allowsAnonymousUsers: settings.allowsAnonymousUsers, logger: logger,
            route: route)
        // Replicas connect as the primary's pool does (statement_timeout at start-up, unless
        // through a transaction pooler) and take the same route.
        let replicaParameters = poolConfiguration.options.additionalStartupParameters.filter { $0.0 != "application_name" }
            + [("application_name", "smta-bridge-replica")]
        let replicas = try settings.readDatabases.map { url in
            try ReadReplica(
                url: url, startupParameters: replicaParameters, route: route, size: settings.poolSize,
                secretsKey: settings.secretsKey, allowsAnonymousUsers: settings.allowsAnonymousUsers, maxLag: settings.maxReplicaLag,
                logger: logger)
        }
        let reads = ReadRouter(
            primary: gate, replicas: replicas, stickiness: WriterStickiness(window: settings.replicaLag), metrics: metrics,
            logger: logger)
        let rpc = RPCHandler(
            adapter: adapter, gate: gate, catalog: catalog, availability: availability, maxBodySize: settings.maxBodySize,
            idempotencyWindow: settings.idempotencyWindow, activeOrganization: ActiveOrganization(claim: settings.organizationClaim),
            signInBinding: SignInBinding(pool: pool), reads: reads)
        let webhooks = [
            (path: "stripe", handler: BillingWebhookHandler(
                displayName: "Stripe", provider: settings.stripeWebhookSecrets.isEmpty ? nil : .stripe(StripeSignature(secrets: settings.stripeWebhookSecrets)),
                pool: pool, availability: availability, maxBodySize: settings.maxBodySize, metrics: metrics)),
            (path: "lemonsqueezy", handler: BillingWebhookHandler(
                displayName: "Lemon Squeezy",
                provider: settings.lemonSqueezyWebhookSecrets.isEmpty ? nil : .lemonSqueezy(LemonSqueezySignature(secrets: settings.lemonSqueezyWebhookSecrets)),
                pool: pool, availability: availability, maxBodySize: settings.maxBodySize, metrics: metrics)),
        ]
        let inFlight = InFlightRequests(capacity: settings.poolSize)
        let probes = ProbeRoutes(catalog: catalog, availability: availability)
        let metricsRoute = MetricsRoute(metrics: metrics, inFlight: inFlight, availability: availability, reads: reads)
        let cors = CORSMiddleware<BasicRequestContext>(credentialedOrigins: settings.corsOrigins)
        let requestLog = RequestLog(metrics: metrics, catalog: catalog)
        let router = Self.router(
            rpc: rpc, health: HealthRoute(pool: pool, availability: availability),
            openAPI: OpenAPIRoute(adapter: adapter, catalog: catalog, availability: availability), webhooks: webhooks,
            timeout: settings.requestTimeout, inFlight: inFlight, cors: cors, log: RequestLogMiddleware(log: requestLog))
        probes.add(to: router)
        metricsRoute.add(to: router)
        SCIMHandler(
            pool: pool, availability: availability, maxBodySize: settings.maxBodySize,
            rateLimiter: SCIMRateLimiter(perSecond: settings.scimRateLimit, burst: settings.scimRateLimit * 5)
        ).add(to: router, timeout: settings.requestTimeout)

        let lane = settings.answersCallsOnLane
            ? RPCLaneResponder(
                rpc: rpc, inFlight: inFlight, timeout: settings.requestTimeout, cors: cors, log: requestLog, logger: logger,
                serverName: Self.serverName)
            : nil
        let server = GuardedHTTP1Channel.server(
            idleTimeout: settings.idleTimeout, headerTimeout: settings.headerTimeout, maxHeaderSize: settings.maxHeaderSize, lane: lane)
        let adminServer = GuardedHTTP1Channel.server(
            idleTimeout: settings.idleTimeout, headerTimeout: settings.headerTimeout, maxHeaderSize: settings.maxHeaderSize)
        var services: [any Service] = [
            LoggedService(
                name: "PostgreSQL pool",
                base: BackgroundService(name: "PostgreSQL pool", logger: logger) { await pool.run() },
                logger: logger),
            LoggedService(name: "database watch", base: availability, logger: logger),
            LoggedService(
                name: "adapter \(adapter.name)",
                base: BackgroundService(name: "adapter \(adapter.name)", logger: logger) { [adapter] in try await adapter.run() },
                logger: logger),
            LoggedService(
                name: "catalog refresh",
                base: BackgroundService(name: "catalog refresh", logger: logger) { await catalog.refreshPeriodically() },
                logger: logger),
            LoggedService(
                name: "idempotency purge",
                base: BackgroundService(name: "idempotency purge", logger: logger) {
                    await IdempotencyPurge(pool: pool, logger: logger).run()
                },
                logger: logger),
        ]
        if listensForReloads {
            services.append(
                LoggedService(
                    name: "catalog listener",
                    base: CatalogReloadListener(
                        configuration: listenerConfiguration, catalog: catalog, retryInterval: .seconds(1), logger: logger),
                    logger: logger))
        }
        var samplerConfiguration = poolConfiguration
        samplerConfiguration.options.additionalStartupParameters = poolConfiguration.options.additionalStartupParameters
            .filter { $0.0 != "application_name" } + [("application_name", "smta-bridge-lag-sampler")]
        services += Self.replicaServices(replicas, primary: samplerConfiguration, maxLag: settings.maxReplicaLag, logger: logger)
        if let lane {
            // Last: a graceful shutdown stops the services in reverse order, so the lane's calls
            // end before the pools they use close.
            services.append(LoggedService(name: "lane calls", base: lane.calls, logger: logger))
        }
        let app = Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: Self.serverName),
            services: services,
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? settings.port)
            },
            logger: logger
        )
        var listeners: [any Service] = [app]
        if let adminPort = settings.adminPort {
            let adminRouter = Router(context: BasicRequestContext.self)
            probes.add(to: adminRouter)
            metricsRoute.add(to: adminRouter)
            listeners.append(
                Application(
                    router: adminRouter, server: adminServer,
                    configuration: ApplicationConfiguration(address: .hostname(settings.host, port: adminPort), serverName: Self.serverName),
                    onServerRunning: { [logger] channel in
                        logger.notice("smta admin listening on http://\(settings.host):\(channel.localAddress?.port ?? adminPort)")
                    },
                    logger: logger))
        }
        // A graceful shutdown stops accepting connections and lets the requests in flight finish
        // (each ends within request_timeout); past drain_timeout, what remains is cancelled.
        var group = ServiceGroupConfiguration(services: listeners, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        group.maximumGracefulShutdownDuration = settings.drainTimeout
        try await ServiceGroup(configuration: group).run()
    }

    /// The read replicas' pools and their lag probe; none without replicas.
    ///
    /// The probe reads the primary's WAL position on a connection of its own (`primary`), not
    /// through the requests' pool: under load, a sample waiting behind requests for a pooled
    /// connection would be skipped, and a replica that had replayed the last sample taken would
    /// look current however many writes it has missed since.
    private static func replicaServices(
        _ replicas: [ReadReplica], primary: PostgresConnection.Configuration, maxLag: Duration, logger: Logger
    ) -> [any Service] {
        guard !replicas.isEmpty else { return [] }
        let sampler = RenewablePool(configuration: primary, size: 1, logger: logger)
        let monitor = ReplicaLagMonitor(primary: sampler, replicas: replicas, maxLag: maxLag, logger: logger)
        return replicas.map { replica in
            LoggedService(
                name: "replica pool \(replica.label)",
                base: BackgroundService(name: "replica pool \(replica.label)", logger: logger) { await replica.pool.run() },
                logger: logger)
        } + [
            LoggedService(
                name: "replica lag sampler",
                base: BackgroundService(name: "replica lag sampler", logger: logger) { await sampler.run() }, logger: logger),
            LoggedService(
                name: "replica lag probe",
                base: BackgroundService(name: "replica lag probe", logger: logger) { await monitor.run() }, logger: logger)
        ]
    }

    /// The `Server` header of every answer.
    static let serverName = "smta"

    /// How long the database must have been unreachable for its return to renew the pool.
    static let poolRenewalOutage: Duration = .seconds(2)

    private static func router(
        rpc: RPCHandler, health: HealthRoute, openAPI: OpenAPIRoute,
        webhooks: [(path: String, handler: BillingWebhookHandler)],
        timeout: Duration, inFlight: InFlightRequests,
        cors: CORSMiddleware<BasicRequestContext>, log: RequestLogMiddleware<BasicRequestContext>
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: log)
        router.add(middleware: cors)
        for prefix in ["/rpc", "/rest/v1/rpc"] {
            router.post("\(prefix)/:function") { request, context in
                await inFlight.counting {
                    await Deadline.run(within: timeout) {
                        await rpc.respond(to: RPCCall(request, function: context.parameters.get("function") ?? ""), requestID: context.id, logger: context.logger)
                    }
                }
            }
            router.get("\(prefix)/:function") { request, context in
                await inFlight.counting {
                    await Deadline.run(within: timeout) {
                        await rpc.respond(to: RPCCall(request, function: context.parameters.get("function") ?? ""), requestID: context.id, logger: context.logger)
                    }
                }
            }
            // HEAD answers as GET does, without the body (postgrest-py's rpc(head=True)).
            router.head("\(prefix)/:function") { request, context in
                var response = await inFlight.counting {
                    await Deadline.run(within: timeout) {
                        await rpc.respond(to: RPCCall(request, function: context.parameters.get("function") ?? ""), requestID: context.id, logger: context.logger)
                    }
                }
                response.body = ResponseBody()
                return response
            }
            for method in [HTTPRequest.Method.put, .patch, .delete] {
                router.on("\(prefix)/:function", method: method) { _, _ in
                    BridgeError(status: .methodNotAllowed, code: "PGRST101", message: "Only GET and POST call functions").response()
                }
            }
        }
        router.get("/health") { _, context in await health.respond(context: context) }
        // Hummingbird treats "/rest/v1/" as "/rest/v1".
        for (path, basePath) in [("/", "/"), ("/rest/v1", "/rest/v1")] {
            router.get(RouterPath(path)) { request, context in
                await Deadline.run(within: timeout) {
                    await openAPI.respond(to: request, context: context, basePath: basePath)
                }
            }
        }
        for webhook in webhooks {
            router.post("/webhooks/\(webhook.path)") { request, context in
                await Deadline.run(within: timeout) {
                    await webhook.handler.respond(to: request, context: context)
                }
            }
        }
        return router
    }
}
