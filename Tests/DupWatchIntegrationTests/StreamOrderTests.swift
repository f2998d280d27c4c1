import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// DupWatch merges the three input streams into one order by entry id, so that a customer's
/// events are applied in the order they were produced (a status update after its order, a cart
/// add before the checkout that follows it).
@Suite("Order of events across the three streams")
struct StreamOrderTests {
    /// A backlog larger than one read (`--batch`, default 1000) in the cart stream must not let
    /// a later order overtake earlier cart events, nor a status update its order.
    /// (Found failing on 8775113: per-stream COUNT reads were merged only within one batch.)
    @Test(arguments: [nil, 2] as [Int?])
    func aBacklogLongerThanOneBatchIsStillAppliedInEntryIdOrder(batch: Int?) async throws {
        let h = try Harness()
        let filler = batch.map { $0 + 1 } ?? 1001
        try h.cartAdd("X", sku: "MILK", qty: 1, title: "Organic Milk 1L", ts: "2026-11-20T10:00:00Z")
        for i in 0..<filler {
            try h.xadd(Streams.cart, [("type", "add"), ("customer_id", "F\(i % 10)"), ("sku", "S\(i)"), ("ts", "2026-11-20T10:00:00Z")])
        }
        let readd = try h.cartAdd("X", sku: "MILK", qty: 1, title: "Organic Milk 1L", ts: "2026-11-20T15:00:00Z")
        // Checkout an hour later (a later entry id than every cart entry above).
        try h.order("O-1", customer: "X", items: itemsJSON([("MILK", 2, nil)]), ts: "2026-11-20T16:00:00Z")
        try h.statusUpdate("O-1", customer: "X", status: "shipped", ts: "2026-11-20T17:00:00Z")
        try await h.drain(batch.map { ["--batch", String($0)] } ?? [])

        let alerts = try h.alerts().filter { $0["customer_id"] == "X" }
        // In entry-id order: the re-add 5 h later finds 1 × MILK in the cart; then the order
        // checks out the cart and has no earlier order to match.
        #expect(alerts.count == 1, "alerts: \(alerts)")
        #expect(alerts.first?["trigger_id"] == readd)
        #expect(alerts.first?["match"] == "cart", "the order overtook the cart add: \(alerts)")
        #expect(alerts.first?["quantity"] == "1")
        #expect(try h.redis.command("HEXISTS", "cart:{X}", "MILK").int == 0, "the checkout did not empty the MILK line")
        #expect(try h.hash("order:{X}:O-1")["status"] == "shipped")
        #expect(try h.deadLetters().isEmpty, "dead letters: \((try? h.deadLetters()) ?? [])")
        #expect(try h.totalPending() == 0)
    }

    /// Redis numbers entry ids per stream, so an order XADDed as the second entry of a
    /// millisecond (`T-1`) and its status update XADDed right after it, as the first entry of
    /// that millisecond in stream:order:status (`T-0`), sort the wrong way round by id alone.
    /// The update must still be applied, not dead-lettered `unknown_order`.
    /// (Found failing on 4d1e7cb.) Entry ids are exactly what XADD `*` gives.
    @Test func statusUpdateXaddedRightAfterItsOrderInTheSameMillisecondIsApplied() async throws {
        let h = try Harness()
        var placed: (order: String, update: String, customer: String, orderID: String)?
        for attempt in 0..<200 where placed == nil {
            let customer = "T\(attempt)"
            var other = RedisCommand("XADD", Streams.orderPlaced, "*", "order_id", "OTHER-\(attempt)", "customer_id", "SOMEONE-\(attempt)")
            other.append("items"); other.append(itemsJSON([("TEA", 1, nil)]))
            var order = RedisCommand("XADD", Streams.orderPlaced, "*", "order_id", "O-\(attempt)", "customer_id", customer)
            order.append("items"); order.append(itemsJSON([("MILK", 1, nil)]))
            let update = RedisCommand("XADD", Streams.orderStatus, "*", "order_id", "O-\(attempt)", "customer_id", customer,
                                      "status", "cancelled")
            // One transaction: the three XADDs run back to back, almost always in one millisecond.
            let replies = try h.redis.pipeline([RedisCommand("MULTI"), other, order, update, RedisCommand("EXEC")])
            let ids = try replies[4].throwIfError().array.map { try $0.string }
            let orderEntry = ids[1], updateEntry = ids[2]
            if orderEntry.split(separator: "-").first == updateEntry.split(separator: "-").first, orderEntry.hasSuffix("-1"),
               updateEntry.hasSuffix("-0") {
                placed = (orderEntry, updateEntry, customer, "O-\(attempt)")
            }
        }
        let (orderEntry, updateEntry, customer, orderID) = try #require(placed, "could not get both XADDs into one millisecond")
        try await h.drain()

        let letters = try h.deadLetters().filter { $0["source_id"] == updateEntry && $0["source_stream"] == Streams.orderStatus }
        #expect(letters.isEmpty,
                "status update \(updateEntry) XADDed after its order \(orderEntry) was applied first and dead-lettered: \(letters.first?["reason"] ?? "")")
        #expect(try h.hash("order:{\(customer)}:\(orderID)")["status"] == "cancelled",
                "the order kept its status although a later update cancelled it")
    }

    /// A worker holds entries it read past the merge frontier when it stops (SIGTERM) or dies
    /// (SIGKILL). Its successor must not apply them ahead of older entries of the other
    /// streams: an order must not overtake the cart add before it, nor a status update the
    /// order it refers to (which would dead-letter it unknown_order). (Found failing on 4d1e7cb,
    /// when read-ahead entries stayed pending and were recovered first.)
    @Test(arguments: [SIGTERM, SIGKILL])
    func aRestartedWorkerResumesInEntryIdOrder(signal: Int32) async throws {
        let h = try Harness()
        var entries: [(stream: String, id: String, fields: [(String, String)])] = []
        var nextMs = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        func add(_ stream: String, _ fields: [(String, String)]) {
            nextMs += 1
            entries.append((stream, "\(nextMs)-0", fields))
        }
        // Long enough that a --batch 1 worker is still far from customer X when it is stopped.
        for i in 0..<20000 {
            add(Streams.cart, [("type", "add"), ("customer_id", "F\(i % 50)"), ("sku", "S\(i)"), ("ts", "2026-11-20T09:00:00Z")])
        }
        add(Streams.cart, [("type", "add"), ("customer_id", "X"), ("sku", "MILK"), ("ts", "2026-11-20T10:00:00Z")])
        add(Streams.orderPlaced, [("order_id", "O-1"), ("customer_id", "X"), ("items", itemsJSON([("MILK", 1, nil)])),
                                  ("ts", "2026-11-20T10:05:00Z")])
        add(Streams.orderPlaced, [("order_id", "O-2"), ("customer_id", "X"), ("items", itemsJSON([("BREAD", 1, nil)])),
                                  ("ts", "2026-11-20T10:10:00Z")])
        add(Streams.orderStatus, [("order_id", "O-2"), ("customer_id", "X"), ("status", "shipped"), ("ts", "2026-11-20T11:00:00Z")])
        try h.xaddMany(entries)

        // --batch 1: O-1 and the status update are read at once, then wait behind the cart backlog.
        let first = try h.start(["worker", "--redis-url", h.url, "--batch", "1"])
        let progressed = try await h.eventually(timeout: 10) {
            (try h.groupInfo(Streams.cart)?["entries-read"].flatMap { try? $0.int } ?? 0) >= 20
        }
        #expect(progressed, "first worker made no progress: \(first.stderrSoFar)")
        first.signal(signal)
        let ended = try await first.wait(timeout: 30)
        #expect(ended.exitedZero || (signal == SIGKILL && ended.signaled), "\(ended)")
        let xProcessed = try h.redis.command("EXISTS", "cart:{X}").int
        try #require(xProcessed == 0, "inconclusive: the first worker got to customer X before it was stopped")

        try await h.drain()
        // In entry-id order: the MILK add finds nothing; O-1 checks it out; O-2 is stored; then shipped.
        let alerts = try h.alerts().filter { $0["customer_id"] == "X" }
        #expect(alerts.isEmpty, "the order overtook the earlier cart add after the restart: \(alerts)")
        #expect(try h.redis.command("HEXISTS", "cart:{X}", "MILK").int == 0,
                "the checkout of O-1 ran before the MILK add, so MILK stayed in the cart")
        let letters = try h.deadLetters()
        #expect(letters.isEmpty, "the status update overtook its order after the restart: \(letters.map { $0["reason"] ?? "" })")
        #expect(try h.hash("order:{X}:O-2")["status"] == "shipped")
        #expect(try h.totalPending() == 0)
    }
}
