import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch route` copies every partition's alerts into the one `stream:alerts:duplicate`
/// that users tail with XREAD: each alert once, with its fields as the worker wrote them (on a
/// real cluster: `PartitionedWorkerTests.onAClusterThreeWorkersShareEightPartitionsWithTheSameOutcome`).
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
}
