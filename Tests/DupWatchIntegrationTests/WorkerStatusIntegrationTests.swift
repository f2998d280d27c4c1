import DupWatchCore
import DupWatchStore
import DupWatchWorker
import Foundation
import Logging
import MetricsTestKit
import RedisClient
import TestSupport
import Testing

/// A worker run in this process on a thread of its own, as `dupwatch worker` runs it, with its
/// metrics in a `TestMetrics` of its own (nothing global is bootstrapped, so these tests run in
/// parallel with the others).
private final class InProcessWorker: @unchecked Sendable {
    let status = WorkerStatus()
    let metrics = TestMetrics()
    let name: String
    private let stop = StopSignal()
    private let lock = NSLock()
    private var outcome: Result<WorkerStats, any Error>?

    /// A single-partition `Worker`.
    init(_ name: String, url: RedisURL) {
        self.name = name
        let config = Self.config(name, url: url)
        start { [status, metrics, stop] in
            try Worker(config: config, logger: Self.logger, stop: stop, status: status, metricsFactory: metrics).run()
        }
    }

    /// A `PartitionedWorker` of `partitions`.
    init(_ name: String, url: RedisURL, partitions: Partitioning) {
        self.name = name
        let config = Self.config(name, url: url)
        start { [status, metrics, stop] in
            try PartitionedWorker(config: config, seeds: [url], partitioning: partitions, logger: Self.logger, stop: stop,
                                  status: status, metricsFactory: metrics).run()
        }
    }

    /// A 3 s lease (a readiness window of 9 s), long enough that an owner starved by a loaded
    /// test run keeps it (with 1 s, CI saw the standby take over mid-test), and a short backoff.
    private static func config(_ name: String, url: RedisURL) -> WorkerConfig {
        WorkerConfig(redisURL: url, consumer: name, leaseTTL: .seconds(3), maxBackoff: .milliseconds(500))
    }

    private static let logger = quietLogger

    private func start(_ body: @escaping @Sendable () throws -> WorkerStats) {
        let thread = Thread { [self] in
            let result = Result { try body() }
            lock.withLock { outcome = result }
        }
        thread.name = "test-\(name)"
        thread.start()
    }

    var ready: Bool { status.readiness().ready }
    var role: WorkerStatus.Role { status.snapshot.role }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        (try? metrics.expectCounter(label, dimensions).totalValue) ?? -1
    }

    func gauge(_ label: String, _ dimensions: [(String, String)]) -> [Double] {
        (try? metrics.expectGauge(label, dimensions).values) ?? []
    }

    /// Stops it as SIGTERM does and waits for `run()` to return.
    func finish() async throws -> Result<WorkerStats, any Error>? {
        stop.stop()
        _ = try await eventually(timeout: 30) { lock.withLock { outcome != nil } }
        return lock.withLock { outcome }
    }

    var describe: String {
        let (ready, checks) = status.readiness()
        return "\(name): ready \(ready), \(checks), role \(role)"
    }
}

private let quietLogger = Logger(label: "test-worker") { _ in SwiftLogNoOpLogHandler() }

private func lagLabels(_ stream: String, partition: Int) -> [(String, String)] {
    [("stream", stream), ("partition", String(partition))]
}

@Suite("Worker status and metrics against a real Redis")
struct WorkerStatusIntegrationTests {
    @Test func startingThenOwnerThenAStandbyThenNotReadyWhileRedisIsDown() async throws {
        let h = try Harness()
        let a = InProcessWorker("worker-a", url: h.server.url)
        #expect(WorkerStatus().snapshot.role == .starting)

        let owns = try await eventually(timeout: 20) { a.role == .owner(partitions: [0]) && a.ready }
        #expect(owns, "\(a.describe)")
        #expect(a.status.readiness().checks["role"] == "ok: owner of partition 0")
        #expect(a.gauge("dupwatch_lease_owned", [("partition", "0")]).last == 1)

        let b = InProcessWorker("worker-b", url: h.server.url)
        let standsBy = try await eventually(timeout: 20) { b.role == .standby(holder: "worker-a") && b.ready }
        #expect(standsBy, "\(b.describe)")
        #expect(b.gauge("dupwatch_lease_owned", [("partition", "0")]).last == 0)
        #expect(a.role == .owner(partitions: [0]))

        // What the owner commits shows in its counters, never in the standby's.
        try h.order("O-1", customer: "c1", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("c1", sku: "MILK", ts: "2026-11-23T10:00:00Z")
        try h.cartAdd("c1", sku: "MILK", ts: "2026-11-23T20:00:00Z")
        try h.statusUpdate("O-404", customer: "c1", status: "shipped", ts: "2026-11-24T10:00:00Z")
        let applied = try await eventually(timeout: 20) {
            a.counter("dupwatch_events_applied_total", [("stream", Streams.cart)]) == 2
                && a.counter("dupwatch_events_applied_total", [("stream", Streams.orderPlaced)]) == 1
                && a.counter("dupwatch_events_applied_total", [("stream", Streams.orderStatus)]) == 1
        }
        #expect(applied, "\(a.metrics.counters.map { "\($0.label)\($0.dimensions)=\($0.totalValue)" })")
        #expect(a.counter("dupwatch_alerts_total", [("trigger", "cart"), ("match", "order")]) == 2)
        #expect(a.counter("dupwatch_alerts_total", [("trigger", "cart"), ("match", "cart")]) == 1)
        #expect(a.counter("dupwatch_alerts_total", [("trigger", "order"), ("match", "order")]) == 0)
        #expect(a.counter("dupwatch_deadletters_total") == 1)
        #expect(try a.metrics.expectTimer("dupwatch_batch_commit_seconds").values.count >= 1)
        #expect(b.counter("dupwatch_events_applied_total", [("stream", Streams.cart)]) == 0)

        // The owner samples the lag every 5 s (beyond the 0 every gauge starts at); a standby never does.
        let sampled = try await eventually(timeout: 20) {
            a.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: 0)).count >= 2
        }
        #expect(sampled, "\(a.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: 0)))")
        #expect(a.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: 0)).last == 0)
        #expect(b.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: 0)) == [0])

        // Redis gone: both stop being ready once nothing answered for the window (9 s).
        h.server.kill()
        let down = try await eventually(timeout: 30) { !a.ready && !b.ready }
        #expect(down, "\(a.describe); \(b.describe)")
        for worker in [a, b] {
            let (_, checks) = worker.status.readiness()
            #expect(checks["redis"]?.hasPrefix("failing: no answer for") == true, "\(worker.describe)")
            #expect(worker.status.snapshot.lastError != nil)
            #expect(worker.counter("dupwatch_redis_errors_total") >= 1)
        }

        // Back (empty: the test server keeps no data): one owner, one standby, both ready, and
        // each made a new connection after its broken one.
        try h.server.restart()
        let back = try await eventually(timeout: 30) {
            a.ready && b.ready && [a.role, b.role].contains(.owner(partitions: [0]))
                && [a.role, b.role].contains { if case .standby = $0 { true } else { false } }
        }
        #expect(back, "\(a.describe); \(b.describe)")
        #expect(a.counter("dupwatch_redis_reconnects_total") >= 1)
        #expect(b.counter("dupwatch_redis_reconnects_total") >= 1)

        for worker in [a, b] {
            let outcome = try await worker.finish()
            #expect(outcome.map { if case .success = $0 { true } else { false } } == true, "\(String(describing: outcome))")
            #expect(worker.role == .stopped)
            #expect(!worker.ready)
            #expect(worker.status.readiness().checks["role"] == "failing: stopped")
            #expect(worker.gauge("dupwatch_lease_owned", [("partition", "0")]).last == 0)
        }
    }

    /// `XINFO GROUPS` lag on a real Redis 7, as the worker moves the group (`XGROUP SETID ...
    /// ENTRIESREAD`), recorded only while the lease is held.
    @Test func theLagSampleReadsRedisLagWhileTheLeaseIsHeld() async throws {
        let h = try Harness()
        let metrics = TestMetrics()
        let workerMetrics = WorkerMetrics(factory: metrics)
        let gauges = workerMetrics.partition(0)
        let status = WorkerStatus()
        let sampler = LagSampler(group: Streams.group, metrics: workerMetrics, status: status, logger: quietLogger)
        let lag = { (stream: String) in (try? metrics.expectGauge("dupwatch_consumer_lag", lagLabels(stream, partition: 0)).values) ?? [] }

        for stream in Streams.inputs { try h.redis.command("XGROUP", "CREATE", stream, Streams.group, "0", "MKSTREAM") }
        var cartIDs: [String] = []
        for day in 20...22 { cartIDs.append(try h.cartAdd("c1", sku: "MILK", ts: "2026-11-\(day)T10:00:00Z")) }
        try h.order("O-1", customer: "c1", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-23T10:00:00Z")

        sampler.sample([(KeySchema(), gauges)], on: h.redis)
        #expect(lag(Streams.cart) == [0], "not held: only the 0 every gauge starts at")
        #expect(status.snapshot.lastSuccess != nil)

        gauges.setOwned(true)
        sampler.sample([(KeySchema(), gauges)], on: h.redis)
        #expect(lag(Streams.cart).last == 3)
        #expect(lag(Streams.orderPlaced).last == 1)
        #expect(lag(Streams.orderStatus).last == 0)
        #expect((try? metrics.expectGauge("dupwatch_lease_owned", [("partition", "0")]).lastValue) == 1)

        try h.redis.command("XGROUP", "SETID", Streams.cart, Streams.group, cartIDs[1], "ENTRIESREAD", "2")
        sampler.sample([(KeySchema(), gauges)], on: h.redis)
        #expect(lag(Streams.cart).last == 1)

        gauges.setOwned(false)
        #expect(lag(Streams.cart).last == 0, "a worker that lost the lease reports 0, so sums count each partition once")
        #expect((try? metrics.expectCounter("dupwatch_redis_errors_total").totalValue) == 0)

        // A failed sample: logged and counted, nothing thrown, the gauges left as they are.
        gauges.setOwned(true)
        let before = lag(Streams.cart)
        h.server.kill()
        sampler.sample([(KeySchema(), gauges)], on: h.redis)
        #expect((try? metrics.expectCounter("dupwatch_redis_errors_total").totalValue) == 1)
        #expect(status.snapshot.lastError != nil)
        #expect(lag(Streams.cart) == before)
    }

    @Test func partitionedWorkersShareThePartitionsAndReportEachOnesLeaseAndLag() async throws {
        let h = try Harness()
        let partitioning = try Partitioning(count: 2)
        let a = InProcessWorker("worker-a", url: h.server.url, partitions: partitioning)
        let ownsBoth = try await eventually(timeout: 20) { a.role == .owner(partitions: [0, 1]) && a.ready }
        #expect(ownsBoth, "\(a.describe)")

        let b = InProcessWorker("worker-b", url: h.server.url, partitions: partitioning)
        let shared = try await eventually(timeout: 30) {
            guard case .owner(let mine) = a.role, case .owner(let theirs) = b.role else { return false }
            return mine.count == 1 && theirs.count == 1 && Set(mine + theirs) == [0, 1] && a.ready && b.ready
        }
        #expect(shared, "\(a.describe); \(b.describe)")
        guard case .owner(let held) = a.role, case .owner(let other) = b.role else { return }
        let (mine, theirs) = (held[0], other[0])
        #expect(a.gauge("dupwatch_lease_owned", [("partition", String(mine))]).last == 1)
        #expect(a.gauge("dupwatch_lease_owned", [("partition", String(theirs))]).last == 0)
        #expect(b.gauge("dupwatch_lease_owned", [("partition", String(theirs))]).last == 1)

        // A customer of each partition, two cart adds each, straight into the partition's stream:
        // each worker counts its own, under the unpartitioned stream name.
        var customers: [Int: String] = [:]
        var index = 0
        while customers.count < 2 {
            let customer = "c\(index)"
            customers[partitioning.partition(of: customer)] = customers[partitioning.partition(of: customer)] ?? customer
            index += 1
        }
        for (partition, customer) in customers {
            let stream = partitioning.keys(of: partition).cartStream
            try h.xadd(stream, [("type", "add"), ("customer_id", customer), ("sku", "MILK"), ("ts", "2026-11-20T10:00:00Z")])
            try h.xadd(stream, [("type", "add"), ("customer_id", customer), ("sku", "MILK"), ("ts", "2026-11-20T20:00:00Z")])
        }
        let counted = try await eventually(timeout: 20) {
            a.counter("dupwatch_events_applied_total", [("stream", Streams.cart)]) == 2
                && b.counter("dupwatch_events_applied_total", [("stream", Streams.cart)]) == 2
        }
        #expect(counted, "a \(a.counter("dupwatch_events_applied_total", [("stream", Streams.cart)])), b \(b.counter("dupwatch_events_applied_total", [("stream", Streams.cart)]))")
        #expect(a.counter("dupwatch_alerts_total", [("trigger", "cart"), ("match", "cart")]) == 1)
        #expect(b.counter("dupwatch_alerts_total", [("trigger", "cart"), ("match", "cart")]) == 1)
        #expect(try a.metrics.expectTimer("dupwatch_batch_commit_seconds").values.count >= 1)

        // The heartbeat (every third of the 1 s TTL) samples the lag of the partitions held.
        let sampled = try await eventually(timeout: 20) {
            a.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: mine)).count >= 2
                && b.gauge("dupwatch_consumer_lag", lagLabels(Streams.cart, partition: theirs)).count >= 2
        }
        #expect(sampled)
        #expect(a.gauge("dupwatch_consumer_lag", lagLabels(Streams.orderPlaced, partition: mine)).last == 0)

        for worker in [a, b] {
            _ = try await worker.finish()
            #expect(worker.role == .stopped)
            #expect(worker.gauge("dupwatch_lease_owned", [("partition", "0")]).last == 0)
            #expect(worker.gauge("dupwatch_lease_owned", [("partition", "1")]).last == 0)
        }
    }
}
