import Foundation
import RedisClient
import TestSupport
import Testing

private let milk = "Organic Milk 1L"
private let bread = "Sourdough Bread"

/// The duplicate rules end to end: entries XADDed to the real streams, the real binary, the
/// resulting alert stream and customer keys.
@Suite("Duplicate rules end to end (dupwatch worker --drain)")
struct SurveyScenarioTests {
    // MARK: 1

    @Test func cartReAddAfterThreeDaysRaisesOneCartAlertAndSumsTheCart() async throws {
        let h = try Harness()
        try h.cartAdd("C1", sku: "MILK", qty: 2, title: milk, ts: "2026-11-20T10:00:00Z")
        let second = try h.cartAdd("C1", sku: "MILK", qty: 1, title: milk, ts: "2026-11-23T10:00:00Z")
        try await h.drain()

        let alerts = try h.alerts()
        #expect(alerts.count == 1, "alerts: \(alerts)")
        let alert = try #require(alerts.first)
        #expect(alert["customer_id"] == "C1")
        #expect(alert["sku"] == "MILK")
        #expect(alert["title"] == milk)
        #expect(alert["match"] == "cart")
        #expect(alert["quantity"] == "2")
        #expect(alert["added_at"] == "2026-11-20T10:00:00.000Z")
        #expect(alert["trigger"] == "cart")
        #expect(alert["trigger_id"] == second)
        #expect(alert["message"] == "You already have 2 × Organic Milk 1L in your cart since 2026-11-20.")
        #expect(alert["order_id"] == nil)
        #expect(alert["alert_id"].map { $0.count == 32 && $0.allSatisfy(\.isHexDigit) } == true, "alert_id: \(alert["alert_id"] ?? "nil")")
        #expect(alert["detected_at"]?.hasSuffix("Z") == true)

        // The cart line now holds both adds; added_at stays the first add's time.
        let line = try h.redis.command("HGET", "cart:{C1}", "MILK").optionalString
        // "!": the line raised an alert (analytics count it if it is then removed).
        #expect(line?.hasPrefix("!3|") == true, "cart line: \(line ?? "nil")")
        let cart = try #require(try parseJSON(try await h.cli(["cart", "C1", "--json"]).stdout) as? [String: Any])
        let lines = try #require(cart["lines"] as? [[String: Any]])
        #expect(lines.count == 1)
        #expect(lines.first?.string("sku") == "MILK")
        #expect(lines.first?.int("quantity") == 3)
        #expect(lines.first?.string("added_at") == "2026-11-20T10:00:00.000Z")
        #expect(try h.deadLetters().isEmpty)
    }

    @Test func cartReAddAfterGapAlsoMatchesAPriorDeliveredOrder() async throws {
        let h = try Harness()
        try h.order("O-9", customer: "C2", items: itemsJSON([("MILK", 4, milk), ("EGGS", 6, nil)]), ts: "2026-11-01T10:00:00Z")
        try h.statusUpdate("O-9", customer: "C2", status: "delivered", ts: "2026-11-03T09:00:00Z")
        let first = try h.cartAdd("C2", sku: "MILK", qty: 2, title: milk, ts: "2026-11-20T10:00:00Z")
        let second = try h.cartAdd("C2", sku: "MILK", qty: 1, title: milk, ts: "2026-11-23T10:00:00Z")
        try await h.drain()

        let alerts = try h.alerts()
        let bySecond = alerts.filter { $0["trigger_id"] == second }
        #expect(Set(bySecond.compactMap { $0["match"] }) == ["cart", "order"], "alerts: \(alerts)")
        #expect(bySecond.count == 2)

        let cartAlert = try #require(bySecond.first { $0["match"] == "cart" })
        #expect(cartAlert["quantity"] == "2")
        #expect(cartAlert["added_at"] == "2026-11-20T10:00:00.000Z")

        let orderAlert = try #require(bySecond.first { $0["match"] == "order" })
        #expect(orderAlert["trigger"] == "cart")
        #expect(orderAlert["sku"] == "MILK")
        #expect(orderAlert["order_id"] == "O-9")
        #expect(orderAlert["order_date"] == "2026-11-01T10:00:00.000Z")
        #expect(orderAlert["order_status"] == "delivered")
        #expect(orderAlert["quantity"] == "4")
        #expect(orderAlert["added_at"] == nil)
        #expect(orderAlert["message"] == "You already ordered 4 × Organic Milk 1L on 2026-11-01 (order O-9, delivered).")
        #expect(cartAlert["alert_id"] != orderAlert["alert_id"])

        // The very first cart event has no earlier one, so it looks items up too: one order match.
        let byFirst = alerts.filter { $0["trigger_id"] == first }
        #expect(byFirst.map { $0["match"] } == ["order"])
        #expect(alerts.count == 3)
        #expect(try h.deadLetters().isEmpty)
    }

    // MARK: 2

    @Test func repeatOrderRaisesOneOrderAlertPerRepeatedSkuInLineOrder() async throws {
        let h = try Harness()
        try h.order("O-1", customer: "C3", items: itemsJSON([("MILK", 2, milk), ("BREAD", 1, bread)]),
                    ts: "2026-11-20T10:00:00Z")
        try h.order("O-2", customer: "C3", items: itemsJSON([("MILK", 1, nil), ("BREAD", 3, nil), ("JAM", 1, nil)]),
                    ts: "2026-11-23T10:00:00Z")
        try await h.drain()

        let alerts = try h.alerts()
        #expect(alerts.map { $0["sku"] ?? "" } == ["MILK", "BREAD"], "alerts: \(alerts)")
        guard alerts.count == 2 else { return }
        for alert in alerts {
            #expect(alert["customer_id"] == "C3")
            #expect(alert["match"] == "order")
            #expect(alert["trigger"] == "order")
            #expect(alert["trigger_id"] == "O-2")
            #expect(alert["order_id"] == "O-1")
            #expect(alert["order_date"] == "2026-11-20T10:00:00.000Z")
            #expect(alert["order_status"] == "processing")
        }
        #expect(alerts[0]["quantity"] == "2")
        #expect(alerts[1]["quantity"] == "1")
        // O-2's lines carry no title: the stored order's title is used.
        #expect(alerts[0]["title"] == milk)
        #expect(alerts[0]["message"] == "You already ordered 2 × Organic Milk 1L on 2026-11-20 (order O-1, processing).")
        #expect(alerts[1]["message"] == "You already ordered 1 × Sourdough Bread on 2026-11-20 (order O-1, processing).")

        // Both orders are stored, newest first on the last-N list.
        #expect(try h.redis.command("LRANGE", "orders:{C3}", "0", "-1").array.map { try $0.string } == ["O-2", "O-1"])
        #expect(try h.hash("order:{C3}:O-1")["status"] == "processing")
        #expect(try h.deadLetters().isEmpty)
    }

    // MARK: 3

    @Test func cartAddsWithinFourHoursOfTheLastCartEventRaiseNoAlert() async throws {
        let h = try Harness()
        try h.cartAdd("C4", sku: "MILK", qty: 1, title: milk, ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("C4", sku: "MILK", qty: 1, title: milk, ts: "2026-11-20T13:59:59Z")  // 3 h 59 m 59 s later
        try h.cartAdd("C4", sku: "MILK", qty: 1, title: milk, ts: "2026-11-20T17:59:59Z")  // exactly 4 h after the last event
        try await h.drain()
        #expect(try h.alerts().isEmpty, "alerts: \((try? h.alerts()) ?? [])")

        // The gap counts from the last cart event: 4 h 0 m 1 s later it looks up again.
        let late = try h.cartAdd("C4", sku: "MILK", qty: 1, title: milk, ts: "2026-11-20T22:00:00Z")
        try await h.drain()
        let alerts = try h.alerts()
        #expect(alerts.count == 1, "alerts: \(alerts)")
        #expect(alerts.first?["trigger_id"] == late)
        #expect(alerts.first?["quantity"] == "3")
        #expect(alerts.first?["added_at"] == "2026-11-20T10:00:00.000Z")
        #expect(try h.redis.command("HGET", "cart:{C4}", "MILK").optionalString?.hasPrefix("!4|") == true)
    }

    @Test func cancelledOrderIsSkippedAndTheOlderOrderMatches() async throws {
        let h = try Harness()
        try h.order("O-0", customer: "C5", items: itemsJSON([("MILK", 1, milk)]), ts: "2026-11-01T10:00:00Z")
        try h.order("O-1", customer: "C5", items: itemsJSON([("MILK", 5, milk), ("BREAD", 1, bread)]), ts: "2026-11-10T10:00:00Z")
        try h.statusUpdate("O-1", customer: "C5", status: "cancelled", ts: "2026-11-10T11:00:00Z")
        try await h.drain()
        #expect(try h.hash("order:{C5}:O-1")["status"] == "cancelled")
        // (O-1 itself repeated O-0's MILK while it was still processing: one alert.)
        #expect(try h.alerts().map { $0["trigger_id"] } == ["O-1"])

        // BREAD was only in the cancelled order: no alert. MILK: the newest non-cancelled order, O-0.
        try h.order("O-2", customer: "C5", items: itemsJSON([("BREAD", 1, nil), ("MILK", 1, nil)]), ts: "2026-11-20T10:00:00Z")
        try await h.drain()
        let alerts = try h.alerts().filter { $0["trigger_id"] == "O-2" }
        #expect(alerts.count == 1, "alerts: \((try? h.alerts()) ?? [])")
        #expect(alerts.first?["sku"] == "MILK")
        #expect(alerts.first?["order_id"] == "O-0")
        #expect(alerts.first?["quantity"] == "1")
        #expect(alerts.first?["order_status"] == "processing")
        #expect(try h.deadLetters().isEmpty)
    }

    @Test func statusUpdateForAnUnknownOrderIsDeadLetteredUnknownOrder() async throws {
        let h = try Harness()
        try h.order("O-1", customer: "C6", items: itemsJSON([("MILK", 1, milk)]), ts: "2026-11-10T10:00:00Z")
        let unknown = try h.statusUpdate("O-404", customer: "C6", status: "shipped", ts: "2026-11-11T10:00:00Z")
        // Known order id, but of another customer: unknown for this one.
        let otherCustomer = try h.statusUpdate("O-1", customer: "C6b", status: "shipped", ts: "2026-11-11T10:00:00Z")
        let known = try h.statusUpdate("O-1", customer: "C6", status: "shipped", ts: "2026-11-11T10:00:00Z")
        let result = try await h.drain()

        let deadLetters = try h.deadLetters()
        #expect(deadLetters.map { $0["source_id"] ?? "" } == [unknown, otherCustomer], "dead letters: \(deadLetters)")
        for letter in deadLetters {
            #expect(letter["source_stream"] == Streams.orderStatus)
            #expect(letter["reason"]?.hasPrefix("unknown_order") == true, "reason: \(letter["reason"] ?? "nil")")
        }
        #expect(deadLetters.first?["reason"]?.contains("O-404") == true)
        #expect(!deadLetters.map { $0["source_id"] }.contains(known))
        #expect(try h.hash("order:{C6}:O-1")["status"] == "shipped")
        #expect(try h.totalPending() == 0)
        #expect(result.stderr.contains("unknown_order"))
    }

    // MARK: 4

    @Test func resentOrderIdAndResentEventIdHaveNoEffect() async throws {
        let h = try Harness()
        try h.order("O-1", customer: "C7", items: itemsJSON([("MILK", 2, milk)]), ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("C7", sku: "BREAD", qty: 2, title: bread, ts: "2026-11-20T12:00:00Z", eventID: "E-1")
        // Re-sent in the same batch, days later (so it would alert if it counted).
        let resentOrder = try h.order("O-1", customer: "C7", items: itemsJSON([("MILK", 2, milk)]), ts: "2026-11-23T10:00:00Z")
        let resentEvent = try h.cartAdd("C7", sku: "BREAD", qty: 2, title: bread, ts: "2026-11-23T12:00:00Z", eventID: "E-1")
        try await h.drain()

        #expect(try h.alerts().isEmpty, "alerts: \((try? h.alerts()) ?? [])")
        #expect(try h.deadLetters().isEmpty, "dead letters: \((try? h.deadLetters()) ?? [])")
        #expect(try h.redis.command("HGET", "cart:{C7}", "BREAD").optionalString?.hasPrefix("2|") == true)
        #expect(try h.redis.command("LRANGE", "orders:{C7}", "0", "-1").array.map { try $0.string } == ["O-1"])
        #expect(try h.hash("order:{C7}:O-1")["ts"] == "1795168800000")

        // Re-sent again in a later run (state read back from Redis, not from the batch).
        try h.order("O-1", customer: "C7", items: itemsJSON([("MILK", 9, milk)]), ts: "2026-11-26T10:00:00Z")
        try h.cartAdd("C7", sku: "BREAD", qty: 7, title: bread, ts: "2026-11-26T12:00:00Z", eventID: "E-1")
        try await h.drain()

        #expect(try h.alerts().isEmpty, "alerts: \((try? h.alerts()) ?? [])")
        #expect(try h.deadLetters().isEmpty, "dead letters: \((try? h.deadLetters()) ?? [])")
        #expect(try h.redis.command("HGET", "cart:{C7}", "BREAD").optionalString?.hasPrefix("2|") == true)
        #expect(try h.redis.command("ZCARD", "history:{C7}").int == 1)
        #expect(try h.hash("order:{C7}:O-1")["items"] == "MILK\t2\t\(milk)", "the resent order (qty 9) changed the stored one")
        #expect(try h.totalPending() == 0)
        _ = (resentOrder, resentEvent)
    }
}
