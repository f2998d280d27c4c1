import Testing
import DupWatchCore

// Quiet SKUs and repeat_count (issue 18, part 5): both off by default; a quiet SKU changes
// which alerts are raised, never the state; repeat_count adds a field, never changes an alert
// otherwise.

private let hour: Int64 = 3_600_000
private let day: Int64 = 86_400_000
/// 2026-11-20T10:00:00Z
private let t0: Int64 = 1_795_168_800_000
private let cust = "C-7"

private func placed(_ orderID: String, _ skus: [String], at time: Int64, status: OrderStatus = .processing) -> Event {
    .order(OrderPlaced(orderID: orderID, customerID: cust, lines: skus.map { OrderLine(sku: $0, quantity: 1) },
                       time: time, status: status))
}

private func add(_ sku: String, _ quantity: Int = 1, at time: Int64) -> Event {
    .cart(CartEvent(customerID: cust, eventID: "\(time)-0", hasExplicitEventID: false,
                    action: .add(sku: sku, quantity: quantity), title: nil, time: time))
}

private func status(_ orderID: String, _ status: OrderStatus, at time: Int64) -> Event {
    .status(StatusUpdate(orderID: orderID, customerID: cust, status: status, time: time))
}

/// Applies `events` in order; the alerts of all of them and the final state.
private func run(_ events: [Event], _ config: RuleConfig, sourceLocation: SourceLocation = #_sourceLocation)
    -> (alerts: [Alert], state: CustomerState) {
    let rules = DuplicateRules(config: config)
    var state = CustomerState.empty
    var alerts: [Alert] = []
    for event in events {
        switch rules.apply(event, to: &state) {
        case .applied(let raised): alerts += raised
        case let other: Issue.record("expected .applied, got \(other)", sourceLocation: sourceLocation)
        }
    }
    return (alerts, state)
}

/// A customer's week: orders and re-adds in which POST (postage) and BANK CHARGES would
/// alert on every order and re-add, and MILK and BREAD are real duplicates.
private let week: [Event] = [
    placed("O-1", ["MILK", "POST"], at: t0),
    placed("O-2", ["BREAD", "POST", "BANK CHARGES"], at: t0 + day),
    add("POST", at: t0 + 2 * day),
    add("MILK", at: t0 + 2 * day + 1),
    add("POST", 2, at: t0 + 3 * day),
    placed("O-3", ["MILK", "POST", "BREAD", "BANK CHARGES"], at: t0 + 4 * day),
    status("O-3", .shipped, at: t0 + 5 * day),
]

@Suite("Quiet SKUs in the rules")
struct QuietSKURulesTests {
    @Test func aQuietSKUNeverAlertsWhileAnotherInTheSameOrderDoes() {
        let quiet = RuleConfig(quietSKUs: ["POST"])
        let (alerts, state) = run([placed("O-1", ["MILK", "POST"], at: t0), placed("O-2", ["POST", "MILK"], at: t0 + day)], quiet)
        #expect(alerts.map(\.sku) == ["MILK"])
        #expect(alerts.first?.orderID == "O-1")
        // Stored as any other line.
        #expect(state.recentOrders.map { $0.lines.map(\.sku) } == [["POST", "MILK"], ["MILK", "POST"]])
    }

    @Test func aQuietSKUNeverAlertsOnACartAddNeitherAgainstTheCartNorAnOrder() {
        let events = [placed("O-1", ["POST"], at: t0), add("POST", at: t0 + day), add("POST", 2, at: t0 + 2 * day)]
        let loud = run(events, RuleConfig())
        #expect(loud.alerts.map(\.match.kind) == [.order, .cart, .order], "without the option, postage alerts")
        let quiet = run(events, RuleConfig(quietSKUs: ["POST"]))
        #expect(quiet.alerts.isEmpty)
        #expect(quiet.state.cart["POST"]?.quantity == 3)
        #expect(quiet.state.cart["POST"]?.addedAt == t0 + day)
        #expect(quiet.state.lastCartEventAt == t0 + 2 * day)
    }

    /// The state is the same with and without quiet SKUs but for the analytics marks of what
    /// alerted (an order that raised only quiet alerts is not flagged), and the alerts are
    /// exactly those of the other SKUs.
    @Test func quietSKUsChangeOnlyWhichAlertsAreRaised() {
        let loud = run(week, RuleConfig())
        let quiet = run(week, RuleConfig(quietSKUs: ["POST", "BANK CHARGES"]))
        #expect(quiet.state.recentOrders.map(\.flagged) == [true, false, false], "O-2 repeated only POST")
        #expect(loud.state.recentOrders.map(\.flagged) == [true, true, false])
        var unmarked = loud.state
        for index in unmarked.recentOrders.indices { unmarked.recentOrders[index].flagged = quiet.state.recentOrders[index].flagged }
        for sku in unmarked.cart.keys { unmarked.cart[sku]?.alerted = quiet.state.cart[sku]?.alerted ?? false }
        #expect(quiet.state == unmarked)
        #expect(quiet.alerts == loud.alerts.filter { !["POST", "BANK CHARGES"].contains($0.sku) })
        #expect(Set(quiet.alerts.map(\.sku)) == ["MILK", "BREAD"])
        #expect(loud.alerts.contains { $0.sku == "POST" } && loud.alerts.contains { $0.sku == "BANK CHARGES" })
    }

    @Test func quietSKUsMatchExactlyCaseIncluded() {
        let (alerts, _) = run([placed("O-1", ["M", "m", "POST "], at: t0), placed("O-2", ["M", "m", "POST "], at: t0 + day)],
                              RuleConfig(quietSKUs: ["M", "POST"]))
        #expect(alerts.map(\.sku) == ["m", "POST "])
    }
}

@Suite("repeat_count in the rules")
struct RepeatCountRulesTests {
    /// Six orders, the newest five within the history depth: MILK in O-0 (pushed out), O-1, O-2
    /// and O-4 (cancelled); BREAD in O-2 and O-3 (returned later); EGGS in O-5.
    private let history: [Event] = [
        placed("O-0", ["MILK"], at: t0),
        placed("O-1", ["MILK"], at: t0 + day),
        placed("O-2", ["MILK", "BREAD"], at: t0 + 2 * day),
        placed("O-3", ["BREAD"], at: t0 + 3 * day),
        placed("O-4", ["MILK"], at: t0 + 4 * day, status: .cancelled),
        placed("O-5", ["EGGS"], at: t0 + 5 * day),
        status("O-3", .returned, at: t0 + 6 * day),
    ]

    @Test func countsTheLastOrdersHoldingTheSKUTheMatchedOneIncluded() {
        let config = RuleConfig(repeatCount: true)
        let before = run(history, config)
        let (alerts, _) = run(history + [placed("O-6", ["MILK", "BREAD", "EGGS", "TEA"], at: t0 + 7 * day)], config)
        #expect(before.alerts.allSatisfy { $0.repeatCount != nil })
        let new = alerts.dropFirst(before.alerts.count)
        // MILK: O-2 (matched) and O-1; O-4 is cancelled, O-0 is older than the last 5.
        // BREAD: O-2 only (O-3 was returned). EGGS: O-5. TEA: no order, no alert.
        #expect(new.map(\.sku) == ["MILK", "BREAD", "EGGS"])
        #expect(new.map(\.orderID) == ["O-2", "O-2", "O-5"])
        #expect(new.map(\.repeatCount) == [2, 1, 1])
    }

    @Test func theCountFollowsTheHistoryDepth() {
        let (alerts, _) = run(history + [placed("O-6", ["MILK"], at: t0 + 7 * day)], RuleConfig(historyDepth: 6, repeatCount: true))
        #expect(alerts.last?.repeatCount == 3)
        let (shallow, _) = run(history + [placed("O-6", ["MILK"], at: t0 + 7 * day)], RuleConfig(historyDepth: 4, repeatCount: true))
        #expect(shallow.last?.orderID == "O-2")
        #expect(shallow.last?.repeatCount == 1)
    }

    @Test func theTriggeringOrderIsNotCounted() {
        let (alerts, _) = run([placed("O-1", ["MILK"], at: t0), placed("O-2", ["MILK"], at: t0 + day),
                               placed("O-3", ["MILK"], at: t0 + 2 * day)], RuleConfig(repeatCount: true))
        #expect(alerts.map(\.repeatCount) == [1, 2])
    }

    @Test func aCartMatchCountsTheOrdersTooAndCanBeZero() {
        let (alerts, _) = run([placed("O-1", ["MILK"], at: t0), add("MILK", at: t0 + day), add("MILK", at: t0 + 2 * day),
                               add("TEA", at: t0 + 3 * day), add("TEA", at: t0 + 4 * day)], RuleConfig(repeatCount: true))
        #expect(alerts.map(\.sku) == ["MILK", "MILK", "MILK", "TEA"])
        #expect(alerts.map(\.match.kind) == [.order, .cart, .order, .cart])
        #expect(alerts.map(\.repeatCount) == [1, 1, 1, 0])
    }

    /// Off by default; on, the alerts are the same but for the count, with the same ids.
    @Test func offByDefaultAndOnlyAddsTheCount() {
        #expect(RuleConfig().repeatCount == false)
        let plain = run(week, RuleConfig())
        let counted = run(week, RuleConfig(repeatCount: true))
        #expect(!plain.alerts.isEmpty)
        #expect(plain.alerts.allSatisfy { $0.repeatCount == nil })
        #expect(counted.alerts.allSatisfy { $0.repeatCount != nil })
        #expect(counted.state == plain.state)
        #expect(counted.alerts.map { alert in var a = alert; a.repeatCount = nil; return a } == plain.alerts)
        #expect(counted.alerts.map(\.alertID) == plain.alerts.map(\.alertID))
    }
}

@Suite("repeat_count in the alert's fields")
struct RepeatCountFieldTests {
    private let alert = Alert(customerID: "C-1", sku: "MILK-1L", title: "Organic Milk 1L", trigger: .order, triggerID: "O-9",
                              match: .order(orderID: "O-1", placedAt: t0, status: .delivered), quantity: 2)

    @Test func noRepeatCountFieldByDefault() {
        #expect(alert.repeatCount == nil)
        #expect(alert.fields(detectedAt: t0).map(\.0) == ["alert_id", "customer_id", "sku", "title", "trigger", "trigger_id",
                                                          "match", "quantity", "order_id", "order_date", "order_status",
                                                          "detected_at", "message"])
    }

    @Test func theFieldFollowsTheQuantityAndLeavesTheRestAsItWas() {
        var counted = alert
        counted.repeatCount = 2
        let fields = counted.fields(detectedAt: t0)
        #expect(fields.map(\.0) == ["alert_id", "customer_id", "sku", "title", "trigger", "trigger_id", "match", "quantity",
                                    "repeat_count", "order_id", "order_date", "order_status", "detected_at", "message"])
        #expect(fields.first { $0.0 == "repeat_count" }?.1 == "2")
        #expect(fields.filter { $0.0 != "repeat_count" }.map(\.1) == alert.fields(detectedAt: t0).map(\.1))
        #expect(counted.alertID == alert.alertID)
        #expect(counted.message == alert.message)
    }

    @Test func zeroIsWritten() {
        var counted = alert
        counted.repeatCount = 0
        #expect(counted.fields(detectedAt: t0).contains { $0 == ("repeat_count", "0") })
    }

    @Test func isANumberInJSON() {
        #expect(Alert.numericFields == ["quantity", "repeat_count"])
    }
}

@Suite("Quiet SKU lists and files")
struct QuietSKUParsingTests {
    @Test func aListIsCommaSeparatedTrimmedAndSkipsEmptyItems() throws {
        #expect(try QuietSKUs.parse(list: "POST, DOT,,BANK CHARGES ,\tC2") == ["POST", "DOT", "BANK CHARGES", "C2"])
        #expect(try QuietSKUs.parse(list: "") == [])
        #expect(try QuietSKUs.parse(list: " , ") == [])
        #expect(try QuietSKUs.parse(list: "M,m") == ["M", "m"])
    }

    @Test func aFileHasOneSKUPerLineWithCommentLines() throws {
        let text = "# postage and fees\nPOST\r\n  DOT  \n\n   # not this\nBANK CHARGES\nGIFT#1\nPOST\n"
        #expect(try QuietSKUs.parse(file: text) == ["POST", "DOT", "BANK CHARGES", "GIFT#1"])
        #expect(try QuietSKUs.parse(file: "") == [])
        #expect(try QuietSKUs.parse(file: "A,B") == ["A,B"])
    }

    @Test func anInvalidSKUIsAnErrorThatSaysWhere() throws {
        let long = String(repeating: "x", count: 129)
        #expect(throws: QuietSKUs.ParseError.self) { try QuietSKUs.parse(list: "POST,\(long)") }
        #expect(try QuietSKUs.parse(list: String(repeating: "x", count: 128)).count == 1)
        do {
            _ = try QuietSKUs.parse(file: "POST\n# ok\nBAD\u{1}SKU\n")
            Issue.record("a control character was accepted")
        } catch {
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("line 3: quiet SKU "), "\(error)")
            #expect(error.description.contains("control character"), "\(error)")
        }
    }
}
