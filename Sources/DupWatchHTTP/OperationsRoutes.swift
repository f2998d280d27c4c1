public import Hummingbird
public import Logging
import NIOCore
public import Prometheus

/// What a probe or a scraper asks: `/healthz` (the process answers), `/readyz` (it can do its
/// work: Redis answers, and whatever else the process needs), `/metrics` (Prometheus text).
/// The worker's `--metrics-port` serves the same three.
public struct Readiness: Sendable, Equatable {
    public var isReady: Bool
    /// What was checked, each with `ok` or the problem.
    public var checks: [String: String]

    public init(isReady: Bool, checks: [String: String]) {
        self.isReady = isReady
        self.checks = checks
    }
}

public enum OperationsRoutes {
    struct Answer: Encodable {
        var status: String
        var checks: [String: String]?
    }

    public static func add<Context: RequestContext>(to router: Router<Context>, registry: PrometheusCollectorRegistry,
                                                    readiness: @escaping @Sendable () async -> Readiness) {
        router.get("healthz") { _, _ -> Response in
            JSONResponse.make(Answer(status: "ok"))
        }
        router.get("readyz") { _, _ -> Response in
            let report = await readiness()
            return JSONResponse.make(Answer(status: report.isReady ? "ready" : "not_ready", checks: report.checks),
                                     status: report.isReady ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// The worker's own little server: the three routes and nothing else.
    public static func application(host: String, port: Int, registry: PrometheusCollectorRegistry,
                                   readiness: @escaping @Sendable () async -> Readiness,
                                   logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        add(to: router, registry: registry, readiness: readiness)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "dupwatch"),
                           logger: logger)
    }
}
