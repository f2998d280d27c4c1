import Foundation
import RedisClient
import TestSupport
import Testing

/// DupWatch merges the three input streams into one order by entry id, so that a customer's
/// events are applied in the order they were produced (a status update after its order, a cart
/// add before the checkout that follows it).
@Suite("Order of events across the three streams")
struct StreamOrderTests {
    /// A backlog larger than one read (`--batch`, default 1000) in the cart stream must not let
    /// a later order overtake earlier cart events, nor a status update its order.
    @Test(arguments: [nil, 2] as [Int?])
    func aBacklogLongerThanOneBatchIsStillAppliedInEntryIdOrder(batch: Int?) async throws {
        let h = try Harness()
        let filler = batch.map { $0 + 1 } ?? 1001
        try h.cartAdd("X", sku: "MILK", qty: 1, title: "Organic Milk 1L", ts: "2026-11-20T10:00:00Z")
        var fillerOrders: [(stream: String, id: String, fields: [(String, String)])] = []
        for i in 0..<filler {
            fillerOrders.append((Streams.cart, "", [("type", "add"), ("customer_id", "F\(i % 10)"), ("sku", "S\(i)"),
                                                   ("ts", "2026-11-20T10:00:00Z")]))
        }
        for entry in fillerOrders { try h.xadd(entry.stream, entry.fields) }
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

    /// BUG (cross-stream ties): Redis numbers entry ids per stream, so an order XADDed as the
    /// second entry of a millisecond (`T-1`) and its status update XADDed right after it, as the
    /// first entry of that millisecond in stream:order:status (`T-0`), sort the wrong way round.
    /// DupWatch then applies the update first and dead-letters it `unknown_order`, although the
    /// producer sent it after the order. Entry ids are exactly what XADD `*` gives.
    @Test func statusUpdateXaddedRightAfterItsOrderInTheSameMillisecondIsApplied() async throws {
        let h = try Harness()
        var placed: (order: String, update: String, customer: String)?
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
            let orderID = ids[1], updateID = ids[2]
            if orderID.split(separator: "-").first == updateID.split(separator: "-").first, orderID.hasSuffix("-1"),
               updateID.hasSuffix("-0") {
                placed = (orderID, updateID, customer)
            }
        }
        let (orderID, updateID, customer) = try #require(placed, "could not get both XADDs into one millisecond")
        try await h.drain()

        let letters = try h.deadLetters().filter { $0["source_id"] == updateID && $0["source_stream"] == Streams.orderStatus }
        #expect(letters.isEmpty,
                "BUG: status update \(updateID) XADDed after its order \(orderID) was applied first and dead-lettered: \(letters.first?["reason"] ?? "")")
        let attempt = customer.dropFirst()
        #expect(try h.hash("order:{\(customer)}:O-\(attempt)")["status"] == "cancelled",
                "BUG: the order kept its status although a later update cancelled it")
    }
}
