import DupWatchStore
public import Hummingbird
public import Logging
public import Prometheus
public import RedisClient

/// Everything `dupwatch serve` runs: the app, its Redis lanes and its alert hub. Tests build it
/// the same way, with their own registry and a free port.
public struct DupWatchServer {
    public let lanes: RedisLanes
    public let hub: AlertHub

    public init(seeds: [RedisURL], lanes laneCount: Int = 2, settings: ServerSettings, logger: Logger) {
        self.lanes = RedisLanes(seeds: seeds, count: laneCount, logger: logger)
        self.hub = AlertHub(seeds: seeds, keys: KeySchema(), settings: settings.live, logger: logger)
    }

    /// The application: the API under /v1, the demo page, and the operations routes. The alert
    /// hub runs as one of its services. `onServerRunning` learns the bound port (port 0).
    public func application(settings: ServerSettings, keyring: APIKeyring, registry: PrometheusCollectorRegistry,
                            staticDirectory: String? = nil, logger: Logger,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let router = buildRouter(settings: settings, keyring: keyring, registry: registry,
                                 staticFiles: StaticFiles(directory: staticDirectory, logger: logger))
        return Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "dupwatch",
                                 backlog: settings.backlog),
            services: [hub],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger)
    }

    func buildRouter(settings: ServerSettings, keyring: APIKeyring, registry: PrometheusCollectorRegistry,
                     staticFiles: StaticFiles) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: NotFoundMiddleware())
        if let corsOrigin = settings.corsOrigin {
            router.add(middleware: CORSMiddleware(allowOrigin: corsOrigin == "*" ? .all : .custom(corsOrigin),
                                                  allowHeaders: [.accept, .authorization, .contentType, .origin, LiveAlertRoutes.lastEventID],
                                                  allowMethods: [.get, .post, .options], maxAge: .seconds(600)))
        }
        let lanes = self.lanes
        let hub = self.hub
        OperationsRoutes.add(to: router, registry: registry) {
            await Self.readiness(lanes: lanes, hub: hub)
        }
        router.get("demo") { _, _ in try staticFiles.response("demo/index.html") }
        router.get("dashboard") { _, _ in try staticFiles.response("dashboard/index.html") }
        router.get("dashboard/:file") { _, context in
            try staticFiles.response("dashboard/" + (context.parameters.get("file") ?? ""))
        }
        router.get("demo/:file") { _, context in
            try staticFiles.response("demo/" + (context.parameters.get("file") ?? ""))
        }

        let v1 = router.group("v1")
        v1.get("openapi.json") { _, _ in try staticFiles.response("openapi.json") }
        let api = v1.group().add(middleware: APIKeyMiddleware(keyring: keyring))
        IngestRoutes(lanes: lanes, settings: settings).add(to: api)
        let customers = api.group("customers/:customer")
        CustomerRoutes(lanes: lanes, settings: settings).add(to: customers)
        let live = LiveAlertRoutes(lanes: lanes, hub: hub, settings: settings)
        live.addLive(to: customers)
        live.addFeedback(to: api.group("alerts"))
        StatsRoutes(lanes: lanes).add(to: api)
        return router
    }

    /// Ready when a lane's Redis answers PING and the alert hub reads the alert stream.
    static func readiness(lanes: RedisLanes, hub: AlertHub) async -> Readiness {
        var checks: [String: String] = [:]
        do {
            _ = try await lanes.run(idempotent: true) { try $0.connection(for: $0.shared).send(RedisCommand("PING")).throwIfError() }
            checks["redis"] = "ok"
        } catch {
            checks["redis"] = "\(error)"
        }
        let reader = hub.readerStatus
        checks["alert_stream"] = reader.reading ? "ok" : (reader.problem ?? "starting")
        return Readiness(isReady: checks.values.allSatisfy { $0 == "ok" }, checks: checks)
    }
}
