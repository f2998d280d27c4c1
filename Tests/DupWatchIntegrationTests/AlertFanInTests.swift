import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch route` copies every partition's alerts into the one `stream:alerts:duplicate`
/// that users tail with XREAD: each alert once, with its fields as the worker wrote them.
@Suite("Alert fan-in")
struct AlertFanInTests {
    /// An alert as a worker publishes it, in partition `p`'s alert stream, at `ms` (ids of
    /// their own, so that the order across partitions is known).
    private func publish(_ alertID: String, customer: String, in p: Int, at ms: Int, of partitioning: Partitioning, h: Harness) throws {
        try h.redis.command("XADD", partitioning.keys(of: p).alertStream, "\(ms)-0", "alert_id", alertID, "customer_id", customer,
                            "sku", "S-\(alertID)", "trigger", "cart_add", "match", "cart")
    }

    private func unified(_ h: Harness) throws -> [[String: String]] {
        try h.entries(Streams.alerts).map(\.fields)
    }

    @Test func eachPartitionsAlertsAreCopiedOnceAndAnAlertPublishedAgainIsNotCopiedTwice() async throws {
        let h = try Harness()
        let partitioning = try Partitioning(count: 4)
        for (index, p) in [0, 3, 1, 3, 2].enumerated() {
            try publish("a\(index)", customer: "c\(index)", in: p, at: 1_000 + index, of: partitioning, h: h)
        }
        let first = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"])
        #expect(first.exitedZero, "\(first)")
        let copied = try unified(h)
        #expect(copied.map { $0["alert_id"] } == ["a0", "a1", "a2", "a3", "a4"], "in the order they were published")
        #expect(copied.first == ["alert_id": "a0", "customer_id": "c0", "sku": "S-a0", "trigger": "cart_add", "match": "cart"])

        // A partition whose master failed over gets alerts again from its worker (same alert
        // ids, new entry ids); a new alert comes after them.
        try publish("a3", customer: "c3", in: 3, at: 2_000, of: partitioning, h: h)
        try publish("a1", customer: "c1", in: 3, at: 2_001, of: partitioning, h: h)
        try publish("a5", customer: "c5", in: 3, at: 2_002, of: partitioning, h: h)
        let again = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"])
        #expect(again.exitedZero, "\(again)")
        #expect(try unified(h).map { $0["alert_id"] } == ["a0", "a1", "a2", "a3", "a4", "a5"])

        // Routing again copies nothing; without --copy-alerts nothing is read.
        try publish("a6", customer: "c6", in: 0, at: 3_000, of: partitioning, h: h)
        let off = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain", "--no-copy-alerts"])
        #expect(off.exitedZero, "\(off)")
        #expect(try unified(h).count == 6)
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        #expect(try unified(h).map { $0["alert_id"] } == ["a0", "a1", "a2", "a3", "a4", "a5", "a6"])
    }

    /// On a real cluster, through the router and three workers: a reader tailing
    /// `stream:alerts:duplicate` with XREAD gets every alert the partitions published, once.
    @Test func onAClusterTheUnifiedStreamHoldsEveryPartitionsAlertsOnce() async throws {
        let input = WorkerLifecycleTests.crashInput()
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        for entry in input {
            var command = RedisCommand("XADD")
            command.append(entry.stream)
            command.append(entry.id)
            for (name, value) in entry.fields { command.append(name); command.append(value) }
            _ = try client.send(command, slot: HashSlot(key: entry.stream)).throwIfError()
        }
        let h = try Harness()
        let partitioning = try Partitioning(count: 8)
        #expect(try await h.runDupwatch(["route", "--redis-url", cluster.seedList, "--partitions", "8", "--drain"], timeout: 60).exitedZero)
        let workers = try (0..<3).map { _ in
            try h.start(["worker", "--redis-url", cluster.seedList, "--partitions", "8", "--drain", "--batch", "100"])
        }
        for worker in workers {
            let result = try await worker.wait(timeout: 90)
            #expect(result.exitedZero, "\(result)")
        }
        #expect(try await h.runDupwatch(["route", "--redis-url", cluster.seedList, "--partitions", "8", "--drain"], timeout: 60).exitedZero)
        func read(_ stream: String) throws -> [StreamEntry] {
            try client.connection(for: HashSlot(key: stream)).send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        let published = try (0..<8).flatMap { try read(partitioning.keys(of: $0).alertStream) }
        let tailed = try read(Streams.alerts)
        #expect(!published.isEmpty)
        #expect(tailed.count == published.count)
        #expect(Set(tailed.map(\.fields)) == Set(published.map(\.fields)), "the same alerts, field for field")
    }
}
