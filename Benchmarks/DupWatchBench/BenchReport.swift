import Foundation

/// One `dupwatch-bench bench --json` report: the median drain, memory, and the latency and
/// floor windows. scripts/bench.sh writes one per measured worker and `dupwatch-bench summary`
/// reads them back.
public struct BenchReport: Codable {
    public struct Percentiles: Codable {
        public var p50_ms: Double
        public var p99_ms: Double
        public var p999_ms: Double
        public var max_ms: Double

        public init(_ result: LatencyBenchmark.Result) {
            p50_ms = milliseconds(result.p50Micros)
            p99_ms = milliseconds(result.p99Micros)
            p999_ms = milliseconds(result.p999Micros)
            max_ms = milliseconds(result.maxMicros)
        }
    }

    public struct Latency: Codable {
        public var rate: Int
        public var warm_events: Int
        public var sent_per_s: Double
        public var alerts: Int
        /// Of the run with the median p99.
        public var percentiles: Percentiles
        public var max_backlog: Int64
        public var slowest_alert_sent_s: Double
        public var slowest_alert_read_s: Double
        public var p99_ms_runs: [Double]
        public var alerts_over_100ms_runs: [Int]
    }

    public struct Floor: Codable {
        public var relay: String
        public var title: String
        public var percentiles: Percentiles
        public var p99_ms_runs: [Double]
    }

    public var worker: String
    public var events: Int
    public var events_per_s_median: Double
    public var events_per_s_runs: [Double]
    public var alerts: Int64
    public var deadletters: Int64
    public var redis_us_per_event: Double
    public var worker_us_per_event: Double
    public var worker_peak_rss_mb: Double
    public var aof_bytes_per_event: Double?
    public var aof_rewrites: Int64
    public var redis_memory_delta_per_customer: Double
    public var bytes_per_customer: Double?
    public var latency: Latency?
    public var floors: [Floor] = []

    /// The report of one `bench` run: `results` are the drain runs, `median` the one reported.
    public init(label: String, results: [DrainBenchmark.Run], median: DrainBenchmark.Run, customers: Int,
                bytesPerCustomer: Double?, latency: LatencyBenchmark.Result?, latencyRuns: [LatencyBenchmark.Result],
                latencyWarmEvents: Int, floors: [(relay: String, title: String, runs: [LatencyBenchmark.Result], median: LatencyBenchmark.Result)]) {
        worker = label
        events = median.events
        events_per_s_median = rounded(median.eventsPerSecond, 0)
        events_per_s_runs = results.map { rounded($0.eventsPerSecond, 0) }
        alerts = median.alerts
        deadletters = median.deadLetters
        redis_us_per_event = rounded(median.redisMicrosPerEvent, 2)
        worker_us_per_event = rounded(median.workerMicrosPerEvent, 2)
        worker_peak_rss_mb = rounded(Double(median.workerMaxRSSBytes) / 1_048_576, 1)
        aof_bytes_per_event = median.aofBytesPerEvent.map { rounded($0, 1) }
        aof_rewrites = median.aofRewrites
        redis_memory_delta_per_customer = rounded(Double(median.memoryDeltaBytes) / Double(max(1, customers)), 1)
        bytes_per_customer = bytesPerCustomer.map { rounded($0, 0) }
        if let latency {
            self.latency = Latency(
                rate: latency.offeredRate, warm_events: latencyWarmEvents,
                sent_per_s: rounded(Double(latency.sent) / latency.seconds, 0), alerts: latency.measured,
                percentiles: Percentiles(latency), max_backlog: latency.lag.map(\.1).max() ?? 0,
                slowest_alert_sent_s: rounded(latency.slowestSentAtSeconds, 3),
                slowest_alert_read_s: rounded(latency.slowestReadAtSeconds, 3),
                p99_ms_runs: latencyRuns.map { milliseconds($0.p99Micros) },
                alerts_over_100ms_runs: latencyRuns.map(\.alertsOver100ms))
        }
        self.floors = floors.map {
            Floor(relay: $0.relay, title: $0.title, percentiles: Percentiles($0.median), p99_ms_runs: $0.runs.map { milliseconds($0.p99Micros) })
        }
    }
}

func rounded(_ value: Double, _ digits: Int) -> Double {
    let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
    return (value * scale).rounded() / scale
}

func milliseconds(_ micros: UInt64) -> Double {
    rounded(Double(micros) / 1000, 2)
}
