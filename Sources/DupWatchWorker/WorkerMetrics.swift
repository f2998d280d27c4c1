package import DupWatchCore
import DupWatchStore
import Foundation
package import Metrics
import Synchronization

/// The worker's metrics, in Prometheus's terms (snake case, `_total` counters, seconds). Made
/// once per worker with fixed dimensions, so that recording is a few atomic adds per batch;
/// with no backend bootstrapped they are no-ops. Every metric always carries the same label
/// names (the Prometheus registry refuses a family with and without labels).
///
/// | Metric | Labels | Meaning |
/// |---|---|---|
/// | `dupwatch_events_applied_total` | `stream` | input entries committed (the group moved past them: applied, repeated, dead-lettered or trimmed) |
/// | `dupwatch_alerts_total` | `trigger`, `match` (`cart`/`order`) | alerts published |
/// | `dupwatch_deadletters_total` | | entries dead-lettered |
/// | `dupwatch_duplicate_ids_total` | | repeated `order_id`s and cart `event_id`s ignored |
/// | `dupwatch_batch_commit_seconds` | | MULTI/EXEC of a batch: from writing it to reading EXEC's reply |
/// | `dupwatch_consumer_lag` | `stream`, `partition` | entries of the stream the group has not committed (`XINFO GROUPS` lag), sampled; 0 from a worker that does not hold the partition |
/// | `dupwatch_lease_owned` | `partition` | 1 while this worker holds the partition's lease, else 0 |
/// | `dupwatch_redis_errors_total` | | Redis errors the worker recovered from (backed off, retried, or a failed lag sample) |
/// | `dupwatch_redis_reconnects_total` | | new connections made after one broke |
///
/// `stream` is the unpartitioned name (`stream:cart:events`, `stream:order:placed`,
/// `stream:order:status`), so a dashboard sums across partitions and workers; the single
/// `Worker` is partition `0`.
package struct WorkerMetrics: Sendable {
    /// The `stream` label of each input stream, by `EventSource.rank`.
    package static let streamLabels = EventSource.allCases.sorted { $0.rank < $1.rank }.map { KeySchema().stream(for: $0) }

    let factory: any MetricsFactory
    /// By `EventSource.rank`.
    let eventsApplied: [Counter]
    /// By `alertIndex(trigger:match:)`.
    let alerts: [Counter]
    let deadLetters: Counter
    let duplicates: Counter
    let redisErrors: Counter
    let reconnects: Counter
    let commitTime: Timer

    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        eventsApplied = Self.streamLabels.map {
            Counter(label: "dupwatch_events_applied_total", dimensions: [("stream", $0)], factory: factory)
        }
        var alerts: [Counter] = []
        for trigger in [Alert.Kind.cart, .order] {
            for match in [Alert.Kind.cart, .order] {
                alerts.append(Counter(label: "dupwatch_alerts_total",
                                      dimensions: [("trigger", trigger.rawValue), ("match", match.rawValue)], factory: factory))
            }
        }
        self.alerts = alerts
        deadLetters = Counter(label: "dupwatch_deadletters_total", factory: factory)
        duplicates = Counter(label: "dupwatch_duplicate_ids_total", factory: factory)
        redisErrors = Counter(label: "dupwatch_redis_errors_total", factory: factory)
        reconnects = Counter(label: "dupwatch_redis_reconnects_total", factory: factory)
        commitTime = Timer(label: "dupwatch_batch_commit_seconds", factory: factory)
    }

    package static func alertIndex(trigger: Alert.Kind, match: Alert.Kind) -> Int {
        (trigger == .cart ? 0 : 2) + (match == .cart ? 0 : 1)
    }

    /// What a committed batch adds to the counters.
    package struct Tally: Equatable {
        /// By `EventSource.rank`.
        package var eventsApplied = [0, 0, 0]
        /// By `alertIndex(trigger:match:)`.
        package var alerts = [0, 0, 0, 0]
        package var deadLetters = 0
        package var duplicates = 0

        package init() {}
    }

    package static func tally(_ plan: BatchPlan) -> Tally {
        var tally = Tally()
        for (source, done) in plan.processed { tally.eventsApplied[source.rank] += done.count }
        for alert in plan.alerts { tally.alerts[alertIndex(trigger: alert.trigger, match: alert.match.kind)] += 1 }
        tally.deadLetters = plan.deadLetters.count
        tally.duplicates = plan.duplicates
        return tally
    }

    /// After a batch's commit landed.
    func committed(_ plan: BatchPlan) {
        let tally = Self.tally(plan)
        for (counter, count) in zip(eventsApplied, tally.eventsApplied) where count > 0 { counter.increment(by: count) }
        for (counter, count) in zip(alerts, tally.alerts) where count > 0 { counter.increment(by: count) }
        if tally.deadLetters > 0 { deadLetters.increment(by: tally.deadLetters) }
        if tally.duplicates > 0 { duplicates.increment(by: tally.duplicates) }
    }

    /// The gauges of partition `index`, starting at "not held".
    package func partition(_ index: Int) -> PartitionGauges {
        PartitionGauges(partition: index, factory: factory)
    }
}

/// `dupwatch_lease_owned` and `dupwatch_consumer_lag` of one partition. The lag is recorded
/// only while the lease is held, and set to 0 when it is not, so that summing over every
/// worker gives each partition's lag once. Thread-safe: the single worker's reader thread
/// samples the lag while the worker thread takes and loses the lease.
package final class PartitionGauges: Sendable {
    let partition: String
    private let leaseOwned: Gauge
    /// By `EventSource.rank`.
    private let lag: [Gauge]
    private let owned = Mutex(false)

    init(partition: Int, factory: any MetricsFactory) {
        self.partition = String(partition)
        leaseOwned = Gauge(label: "dupwatch_lease_owned", dimensions: [("partition", self.partition)], factory: factory)
        lag = WorkerMetrics.streamLabels.map {
            Gauge(label: "dupwatch_consumer_lag", dimensions: [("stream", $0), ("partition", String(partition))], factory: factory)
        }
        leaseOwned.record(0)
        for gauge in lag { gauge.record(0) }
    }

    var isOwned: Bool { owned.withLock { $0 } }

    /// The lease was taken (true) or lost, released or in doubt (false).
    package func setOwned(_ value: Bool) {
        owned.withLock { current in
            guard current != value else { return }
            current = value
            leaseOwned.record(value ? 1 : 0)
            if !value { for gauge in lag { gauge.record(0) } }
        }
    }

    /// A sample of `XINFO GROUPS` lags; ignored unless the lease is held.
    func record(lags: [EventSource: Int64]) {
        owned.withLock { current in
            guard current else { return }
            for (source, value) in lags { lag[source.rank].record(value) }
        }
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        recordNanoseconds(start.duration(to: .now).inNanoseconds)
    }
}
