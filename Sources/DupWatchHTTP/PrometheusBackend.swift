import Metrics
public import Prometheus

/// The metrics backend of both executables: swift-metrics into a Prometheus registry, which
/// `/metrics` renders. Bootstrapped once per process, by the executable.
public enum PrometheusBackend {
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry))
        return registry
    }

    /// Prometheus names allow `[a-zA-Z0-9_:]`: Hummingbird's `http.server.request.duration`
    /// becomes `http_server_request_duration`. Latency buckets start at 0.5 ms, because the
    /// API's answers and the worker's commits take a few milliseconds.
    public static func factory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitized(name), labels.map { (sanitized($0.0), $0.1) })
        }
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        return factory
    }

    static func sanitized(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":": Character(scalar)
            default: "_"
            }
        })
    }
}
