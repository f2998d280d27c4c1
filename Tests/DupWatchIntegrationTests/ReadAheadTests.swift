import Foundation
import RedisClient
import TestSupport
import Testing

/// The worker reads a batch's state before the batch in front of it has committed
/// (`ReadAhead`). For a customer that batch touches, the committed-to-be state is the base, and
/// only what it cannot know is read. These tests give every batch the customers of the one
/// before (two customers, `--batch 1`, so batches of one to three entries) and check that ids
/// stored earlier, ids stored in the batch before, and orders stored or updated in the batch
/// before all count.
@Suite("Reading ahead: state of customers the batch before touches")
struct ReadAheadTests {
    private static let customers = ["C1", "C2"]

    @Test func idsAndOrdersFromEarlierBatchesAndEarlierRunsAllCount() async throws {
        let h = try Harness()
        var minute = 0
        func ts() -> String {
            minute += 1
            return String(format: "2026-11-21T%02d:%02d:00Z", 10 + minute / 60, minute % 60)
        }

        // An earlier run stored an event id and an order per customer.
        for c in Self.customers {
            try h.cartAdd(c, sku: "P-\(c)", ts: ts(), eventID: "E-prior-\(c)")
            try h.order("OP-\(c)", customer: c, items: itemsJSON([("MILK-\(c)", 1, nil)]), ts: ts())
        }
        try await h.drain()

        // Round robin over the two customers: every small batch has both.
        typealias Step = (String) throws -> Void
        let steps: [Step] = [
            { c in try h.cartAdd(c, sku: "S0-\(c)", ts: ts()) },
            { c in try h.cartAdd(c, sku: "S1-\(c)", ts: ts(), eventID: "E1-\(c)") },
            { c in try h.cartAdd(c, sku: "DUP-PRIOR-\(c)", ts: ts(), eventID: "E-prior-\(c)") }, // stored by the earlier run
            { c in try h.cartAdd(c, sku: "DUP1-\(c)", ts: ts(), eventID: "E1-\(c)") },            // stored a batch or two ago
            { c in try h.order("O4-\(c)", customer: c, items: itemsJSON([("S4-\(c)", 2, nil)]), ts: ts()) },
            { c in try h.statusUpdate("O4-\(c)", customer: c, status: "shipped", ts: ts()) },      // stored a batch or two ago
            { c in try h.statusUpdate("OP-\(c)", customer: c, status: "delivered", ts: ts()) },    // stored by the earlier run
            // Hours later, the ordered item again: the alert carries the status of a batch or two ago.
            { c in
                minute += c == Self.customers[0] ? 300 : 0
                try h.cartAdd(c, sku: "S4-\(c)", ts: ts())
            },
            { c in try h.order("O4-\(c)", customer: c, items: itemsJSON([("X-\(c)", 9, nil)]), ts: ts()) }, // resent
            { c in try h.cartAdd(c, sku: "S8-\(c)", ts: ts()) },
            { c in try h.cartAdd(c, sku: "DUP1B-\(c)", ts: ts(), eventID: "E1-\(c)") },
        ]
        for step in steps {
            for c in Self.customers { try step(c) }
        }
        let result = try await h.drain(["--batch", "1"])
        #expect(result.stderr.contains("duplicate_ids=8"), "3 resent event ids and 1 resent order per customer: \(result.stderr)")

        #expect(try h.deadLetters().isEmpty, "dead letters: \((try? h.deadLetters()) ?? [])")
        #expect(try h.totalPending() == 0)
        let alerts = try h.alerts()
        #expect(alerts.map { $0["customer_id"] ?? "" }.sorted() == Self.customers, "\(alerts)")
        for alert in alerts {
            let c = alert["customer_id"] ?? ""
            #expect(alert["sku"] == "S4-\(c)" && alert["order_id"] == "O4-\(c)", "\(alert)")
            #expect(alert["order_status"] == "shipped", "the status update of a batch or two ago was lost: \(alert)")
        }
        for c in Self.customers {
            let cart = Set(try h.hash("cart:{\(c)}").keys)
            #expect(cart == ["_p", "P-\(c)", "S0-\(c)", "S1-\(c)", "S4-\(c)", "S8-\(c)"], "cart of \(c)")
            #expect(Set(try h.hash("events:{\(c)}").keys) == ["E-prior-\(c)", "E1-\(c)"], "event ids of \(c)")
            let order = try h.hash("order:{\(c)}:O4-\(c)")
            #expect(order["status"] == "shipped", "\(c): \(order)")
            #expect(order["items"] == "S4-\(c)\t2", "\(c): the resent order changed the stored one: \(order)")
            #expect(try h.hash("order:{\(c)}:OP-\(c)")["status"] == "delivered", "\(c)")
            #expect(try h.redis.command("LRANGE", "orders:{\(c)}", "0", "-1").array.map { try $0.string } == ["O4-\(c)", "OP-\(c)"])
        }
    }
}
