import Foundation

/// scripts/bench.sh's closing summary: DupWatch's reports beside the peers', and one line with
/// the figures that matter. Peers that were not run (no ../shared/peers) are said to be
/// skipped, never turned into a ratio.
public struct BenchSummary {
    public var main: BenchReport
    /// DupWatch on the peers' input size, for the ratio.
    public var sameInput: BenchReport?
    public var warm: BenchReport?
    public var peers: [BenchReport]
    /// DupWatch drained with its analytics and without (`--no-stats`), the same input in the
    /// same run, one report per run (taken in turn): the analytics' cost.
    public var analytics: (on: [BenchReport], off: [BenchReport])?

    public init(main: BenchReport, sameInput: BenchReport? = nil, warm: BenchReport? = nil, peers: [BenchReport] = [],
                analytics: (on: [BenchReport], off: [BenchReport])? = nil) {
        self.main = main
        self.sameInput = sameInput
        self.warm = warm
        self.peers = peers
        self.analytics = analytics
    }

    /// The median events/s of the runs with the analytics and without them.
    public var analyticsEventsPerSecond: (on: Double, off: Double)? {
        guard let analytics, let on = median(analytics.on.map(\.events_per_s_median)),
              let off = median(analytics.off.map(\.events_per_s_median)) else { return nil }
        return (on, off)
    }

    /// Events/s with the analytics over events/s without them; nil unless both were run.
    public var analyticsRatio: Double? {
        guard let rates = analyticsEventsPerSecond, rates.off > 0 else { return nil }
        return rates.on / rates.off
    }

    private func median(_ values: [Double]) -> Double? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    public var bestPeer: BenchReport? { peers.max { $0.events_per_s_median < $1.events_per_s_median } }

    /// DupWatch's events/s over the best peer's, on the same input; nil without both.
    public var ratioToBestPeer: Double? {
        guard let sameInput, let best = bestPeer, best.events_per_s_median > 0 else { return nil }
        return sameInput.events_per_s_median / best.events_per_s_median
    }

    public var rows: [(String, String)] {
        func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "n/a" }
        func whole(_ value: Double?) -> String { value.map { String(Int($0.rounded())) } ?? "n/a" }
        func percentiles(_ p: BenchReport.Percentiles?) -> String {
            p.map { "\(number($0.p50_ms)) / \(number($0.p99_ms)) / \(number($0.p999_ms))" } ?? "n/a"
        }
        var rows: [(String, String)] = [
            ("events/s (median)", whole(main.events_per_s_median)),
            ("runs", main.events_per_s_runs.map { whole($0) }.joined(separator: ", ")),
        ]
        if let sameInput { rows.append(("same input as peers (\(sameInput.events) events): events/s", whole(sameInput.events_per_s_median))) }
        if peers.isEmpty {
            rows.append(("peers", "skipped (../shared/peers not found)"))
        }
        for peer in peers { rows.append(("peer \(peer.worker) events/s", whole(peer.events_per_s_median))) }
        if let analytics, let rates = analyticsEventsPerSecond, let ratio = analyticsRatio {
            rows.append(("analytics on / off (\(analytics.on.first?.events ?? 0) events): events/s (median)",
                         "\(whole(rates.on)) / \(whole(rates.off)) = \(String(format: "%.3f", ratio)) (target ≥ 0.90)"))
            rows.append(("analytics on / off: runs, in turn", analytics.on.map { whole($0.events_per_s_median) }.joined(separator: ", ")
                             + " / " + analytics.off.map { whole($0.events_per_s_median) }.joined(separator: ", ")))
        }
        rows += [
            ("alerts / dead letters", "\(main.alerts) / \(main.deadletters)"),
            ("redis CPU µs/event", number(main.redis_us_per_event)),
            ("worker CPU µs/event", number(main.worker_us_per_event)),
            ("worker peak RSS MB", number(main.worker_peak_rss_mb)),
            ("AOF bytes/event (rewrites during the drain)", "\(number(main.aof_bytes_per_event)) (\(main.aof_rewrites))"),
            ("bytes/customer (cart 5 + 5×3 orders)", whole(main.bytes_per_customer)),
        ]
        if let latency = main.latency {
            rows += [
                ("latency p50/p99/p99.9 ms @ \(latency.rate)/s (median run)", percentiles(latency.percentiles)),
                ("latency p99 ms of each run", latency.p99_ms_runs.map { number($0) }.joined(separator: ", ")),
                ("latency alerts over 100 ms, each run", latency.alerts_over_100ms_runs.map(String.init).joined(separator: ", ")),
            ]
        }
        if let latency = warm?.latency {
            rows += [
                ("warm store (\(latency.warm_events) entries drained first): p50/p99/p99.9 ms", percentiles(latency.percentiles)),
                ("warm store: latency p99 ms of each run", latency.p99_ms_runs.map { number($0) }.joined(separator: ", ")),
            ]
        }
        for floor in main.floors { rows.append(("floor (\(floor.title)) p50/p99/p99.9 ms", percentiles(floor.percentiles))) }
        return rows
    }

    /// `bench events/s=… vs_best_peer=… redis_us_per_event=… p99_ms=… bytes_per_customer=…`
    public var line: String {
        let ratio = ratioToBestPeer.map { String(format: "%.1fx", $0) } ?? "skipped"
        let p99 = main.latency.map { String(format: "%.2f", $0.percentiles.p99_ms) } ?? "n/a"
        let bytes = main.bytes_per_customer.map { String(Int($0.rounded())) } ?? "n/a"
        return "bench events/s=\(Int(main.events_per_s_median.rounded())) vs_best_peer=\(ratio) "
            + "redis_us_per_event=\(String(format: "%.2f", main.redis_us_per_event)) p99_ms=\(p99) bytes_per_customer=\(bytes)"
            + (analyticsRatio.map { " analytics_ratio=" + String(format: "%.3f", $0) } ?? "")
    }

    public var rendered: String {
        let width = rows.map(\.0.count).max() ?? 0
        return (rows.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 } + [line])
            .joined(separator: "\n")
    }
}
