import Testing
@testable import DupWatchCore

// MARK: - Helpers (private to this file)

private let minute: Int64 = 60_000
private let hour: Int64 = 3_600_000
private let day: Int64 = 86_400_000
/// 2026-11-20T10:00:00Z
private let t0: Int64 = 1_795_168_800_000
private let fourHours: Int64 = 4 * hour
private let cust = "C-42"

private struct Harness {
    var rules: DuplicateRules
    var state: CustomerState

    init(config: RuleConfig = RuleConfig(), state: CustomerState = .empty) {
        rules = DuplicateRules(config: config)
        self.state = state
    }

    mutating func apply(_ event: Event) -> Outcome {
        rules.apply(event, to: &state)
    }

    /// Applies and returns the alerts; records an issue when the event did not take effect.
    mutating func alerts(_ event: Event, sourceLocation: SourceLocation = #_sourceLocation) -> [Alert] {
        let outcome = apply(event)
        guard case .applied(let alerts) = outcome else {
            Issue.record("expected .applied, got \(outcome)", sourceLocation: sourceLocation)
            return []
        }
        return alerts
    }
}

private func cartEv(_ action: CartAction, at time: Int64, id: String? = nil, title: String? = nil,
                    customer: String = cust) -> Event {
    .cart(CartEvent(customerID: customer, eventID: id ?? "\(time)-0", hasExplicitEventID: id != nil,
                    action: action, title: title, time: time))
}

private func add(_ sku: String, _ qty: Int = 1, at time: Int64, id: String? = nil, title: String? = nil,
                 customer: String = cust) -> Event {
    cartEv(.add(sku: sku, quantity: qty), at: time, id: id, title: title, customer: customer)
}

private func change(_ sku: String, to qty: Int, at time: Int64, id: String? = nil, title: String? = nil) -> Event {
    cartEv(.change(sku: sku, quantity: qty), at: time, id: id, title: title)
}

private func remove(_ sku: String, at time: Int64, id: String? = nil) -> Event {
    cartEv(.remove(sku: sku), at: time, id: id)
}

private func clear(at time: Int64, id: String? = nil) -> Event {
    cartEv(.clear, at: time, id: id)
}

private func placed(_ orderID: String, _ lines: [(String, Int)], at time: Int64, status: OrderStatus = .processing,
                    customer: String = cust) -> Event {
    .order(OrderPlaced(orderID: orderID, customerID: customer,
                       lines: lines.map { OrderLine(sku: $0.0, quantity: $0.1) }, time: time, status: status))
}

private func statusUpdate(_ orderID: String, _ status: OrderStatus, at time: Int64) -> Event {
    .status(StatusUpdate(orderID: orderID, customerID: cust, status: status, time: time))
}

private func storedOrder(_ id: String, at time: Int64, _ status: OrderStatus, _ lines: [(String, Int)]) -> StoredOrder {
    StoredOrder(orderID: id, placedAt: time, status: status, lines: lines.map { OrderLine(sku: $0.0, quantity: $0.1) })
}

/// A customer whose last cart event was at t0, with MILK ×2 in the cart since t0 − 1 h and
/// order O-1001 (MILK ×2, processing) placed three days earlier.
private func busyCustomer() -> CustomerState {
    CustomerState(
        lastCartEventAt: t0,
        cart: ["MILK": CartLine(sku: "MILK", quantity: 2, addedAt: t0 - hour)],
        recentOrders: [storedOrder("O-1001", at: t0 - 3 * day, .processing, [("MILK", 2)])])
}

// MARK: - R1

@Suite("R1: cart events")
struct CartRuleTests_R1 {
    @Test func firstCartEventEverWithNoHistoryRaisesNothing() {
        var h = Harness()
        #expect(h.apply(add("MILK", 2, at: t0)) == .applied([]))
        #expect(h.state.cart == ["MILK": CartLine(sku: "MILK", quantity: 2, addedAt: t0)])
        #expect(h.state.lastCartEventAt == t0)
    }

    @Test func firstCartEventEverWithOrderHistoryRaisesOrderAlert() {
        let order = storedOrder("O-1001", at: t0 - 3 * day, .processing, [("MILK", 2)])
        var h = Harness(state: CustomerState(recentOrders: [order]))
        let alerts = h.alerts(add("MILK", 1, at: t0, id: "ev-1", title: "Organic Milk 1L"))
        #expect(alerts == [Alert(customerID: cust, sku: "MILK", title: "Organic Milk 1L", trigger: .cart,
                                 triggerID: "ev-1", match: .order(orderID: "O-1001", placedAt: t0 - 3 * day, status: .processing), quantity: 2)])
    }

    @Test func firstChangeEverWithOrderHistoryRaisesOrderAlert() {
        var h = Harness(state: CustomerState(recentOrders: [storedOrder("O-1", at: t0 - day, .shipped, [("MILK", 3)])]))
        let alerts = h.alerts(change("MILK", to: 2, at: t0))
        #expect(alerts.map(\.match.kind) == [.order])
        #expect(alerts.first?.orderID == "O-1")
        #expect(alerts.first?.quantity == 3)
    }

    @Test func gapOfExactlyFourHoursLooksNothingUp() {
        var h = Harness(state: busyCustomer())
        #expect(h.apply(add("MILK", 1, at: t0 + fourHours)) == .applied([]))
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 3, addedAt: t0 - hour))
        #expect(h.state.lastCartEventAt == t0 + fourHours)
    }

    @Test func gapOfFourHoursPlusOneMillisecondLooksUpCartAndOrders() {
        var h = Harness(state: busyCustomer())
        let alerts = h.alerts(add("MILK", 1, at: t0 + fourHours + 1, id: "ev-9"))
        #expect(alerts.count == 2)
        let cartMatch = alerts.first { $0.match.kind == .cart }
        #expect(cartMatch == Alert(customerID: cust, sku: "MILK", title: nil, trigger: .cart, triggerID: "ev-9",
                                   match: .cart(addedAt: t0 - hour), quantity: 2))
        let orderMatch = alerts.first { $0.match.kind == .order }
        #expect(orderMatch == Alert(customerID: cust, sku: "MILK", title: nil, trigger: .cart, triggerID: "ev-9",
                                    match: .order(orderID: "O-1001", placedAt: t0 - 3 * day, status: .processing), quantity: 2))
        // The cart is updated after the lookup: the alert carried the quantity before the add.
        #expect(h.state.cart["MILK"]?.quantity == 3)
    }

    @Test func changeWithinGapLooksNothingUp() {
        var h = Harness(state: busyCustomer())
        #expect(h.apply(change("MILK", to: 5, at: t0 + fourHours)) == .applied([]))
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 5, addedAt: t0 - hour))
    }

    @Test func changeAfterGapLooksUpOrdersOnlyAndKeepsAddedAt() {
        var h = Harness(state: busyCustomer())
        let alerts = h.alerts(change("MILK", to: 5, at: t0 + fourHours + 1))
        #expect(alerts.map(\.match.kind) == [.order], "a change never reports the cart line it changes")
        #expect(alerts.first?.orderID == "O-1001")
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 5, addedAt: t0 - hour, alerted: true))
        #expect(h.state.lastCartEventAt == t0 + fourHours + 1)
    }

    @Test func changeOfAbsentLineCreatesItAddedNow() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(change("EGGS", to: 6, at: t0 + minute, title: "Eggs"))
        #expect(h.state.cart["EGGS"] == CartLine(sku: "EGGS", quantity: 6, addedAt: t0 + minute, title: "Eggs"))
    }

    @Test func changeToZeroAfterGapLooksNothingUpAndDeletesLine() {
        var h = Harness(state: busyCustomer())
        #expect(h.apply(change("MILK", to: 0, at: t0 + 10 * hour)) == .applied([]))
        #expect(h.state.cart["MILK"] == nil)
        #expect(h.state.lastCartEventAt == t0 + 10 * hour)
    }

    @Test func removeAfterGapLooksNothingUpAndDeletesLine() {
        var h = Harness(state: busyCustomer())
        #expect(h.apply(remove("MILK", at: t0 + 10 * hour)) == .applied([]))
        #expect(h.state.cart.isEmpty)
        #expect(h.state.lastCartEventAt == t0 + 10 * hour)
    }

    @Test func clearAfterGapLooksNothingUpAndEmptiesCart() {
        var state = busyCustomer()
        state.cart["BREAD"] = CartLine(sku: "BREAD", quantity: 1, addedAt: t0)
        var h = Harness(state: state)
        #expect(h.apply(clear(at: t0 + 10 * hour)) == .applied([]))
        #expect(h.state.cart.isEmpty)
        #expect(h.state.lastCartEventAt == t0 + 10 * hour)
        #expect(h.state.recentOrders == state.recentOrders)
    }

    @Test func removeThenAddAfterGapFindsNoCartLineButStillTheOrder() {
        var h = Harness(state: busyCustomer())
        #expect(h.apply(remove("MILK", at: t0 + hour)) == .applied([]))
        let at = t0 + hour + fourHours + 1
        let alerts = h.alerts(add("MILK", 1, at: at))
        #expect(alerts.map(\.match.kind) == [.order])
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 1, addedAt: at, alerted: true))
    }

    @Test func removeThenAddWithinGapRaisesNothingAndRestartsLine() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(remove("MILK", at: t0 + hour))
        #expect(h.apply(add("MILK", 4, at: t0 + 2 * hour)) == .applied([]))
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 4, addedAt: t0 + 2 * hour))
    }

    @Test func addToExistingLineIncreasesItAndKeepsAddedAt() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(add("MILK", 3, at: t0 + minute, title: "Organic Milk 1L"))
        #expect(h.state.cart["MILK"] == CartLine(sku: "MILK", quantity: 5, addedAt: t0 - hour, title: "Organic Milk 1L"))
    }

    @Test func cartEventOfAnotherSkuAndTypeRestartsTheGap() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(remove("BREAD", at: t0 + 3 * hour))   // p = t0 + 3 h
        // 5 h after t0, but only 2 h after the last cart event: no lookup.
        #expect(h.apply(add("MILK", 1, at: t0 + 5 * hour)) == .applied([]))
        _ = h.apply(clear(at: t0 + 6 * hour))            // p = t0 + 6 h
        #expect(h.apply(add("MILK", 1, at: t0 + 9 * hour)) == .applied([]))
    }

    @Test func lateEventLooksNothingUpButUpdatesCartAndKeepsP() {
        var state = busyCustomer()
        state.lastCartEventAt = t0 + 10 * hour
        var h = Harness(state: state)
        // 10 h before p: the difference is "more than 4 h" only in absolute value.
        #expect(h.apply(add("MILK", 1, at: t0)) == .applied([]))
        #expect(h.apply(change("EGGS", to: 2, at: t0 - 5 * hour)) == .applied([]))
        #expect(h.state.cart["MILK"]?.quantity == 3)
        #expect(h.state.cart["EGGS"] == CartLine(sku: "EGGS", quantity: 2, addedAt: t0 - 5 * hour))
        #expect(h.state.lastCartEventAt == t0 + 10 * hour)
    }

    @Test func pIsTheMaximumSoALateEventDoesNotReopenTheGap() {
        var state = busyCustomer()
        state.lastCartEventAt = t0 + 10 * hour
        var h = Harness(state: state)
        _ = h.apply(add("BREAD", 1, at: t0))           // late; p stays t0 + 10 h
        #expect(h.state.lastCartEventAt == t0 + 10 * hour)
        // 1 h after p; it would be 11 h after the late event if p had moved back.
        #expect(h.apply(add("MILK", 1, at: t0 + 11 * hour)) == .applied([]))
        #expect(h.state.lastCartEventAt == t0 + 11 * hour)
    }

    @Test func orderDoesNotMoveP() {
        var h = Harness(state: CustomerState(lastCartEventAt: t0))
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0 + 5 * hour))
        #expect(h.state.lastCartEventAt == t0)
        // 1 minute after the order but 5 h after the last cart event: looked up.
        let alerts = h.alerts(add("MILK", 1, at: t0 + 5 * hour + minute))
        #expect(alerts.map(\.orderID) == ["O-1"])
    }

    @Test func statusUpdateDoesNotMoveP() {
        var state = busyCustomer()
        state.cart = [:]
        var h = Harness(state: state)
        #expect(h.apply(statusUpdate("O-1001", .shipped, at: t0 + 4 * hour)) == .applied([]))
        #expect(h.state.lastCartEventAt == t0)
        let alerts = h.alerts(add("MILK", 1, at: t0 + 4 * hour + 1))
        #expect(alerts.map(\.orderStatus) == [.shipped])
    }

    @Test func cancelledAndReturnedOrdersAreSkippedForTheOlderMatchingOne() {
        let state = CustomerState(recentOrders: [
            storedOrder("O-3", at: t0 - 1 * day, .cancelled, [("MILK", 1)]),
            storedOrder("O-2", at: t0 - 2 * day, .returned, [("MILK", 1)]),
            storedOrder("O-1", at: t0 - 3 * day, .delivered, [("MILK", 4)]),
        ])
        var h = Harness(state: state)
        let alerts = h.alerts(add("MILK", 1, at: t0))
        #expect(alerts.count == 1)
        #expect(alerts.first?.orderID == "O-1")
        #expect(alerts.first?.orderStatus == .delivered)
        #expect(alerts.first?.quantity == 4)
        #expect(alerts.first?.orderPlacedAt == t0 - 3 * day)
    }

    @Test func onlyCancelledOrReturnedOrdersMatchNothing() {
        let state = CustomerState(recentOrders: [
            storedOrder("O-2", at: t0 - 1 * day, .cancelled, [("MILK", 1)]),
            storedOrder("O-1", at: t0 - 2 * day, .returned, [("MILK", 1)]),
        ])
        var h = Harness(state: state)
        #expect(h.apply(add("MILK", 1, at: t0)) == .applied([]))
    }

    @Test func mostRecentOrderHoldingTheSkuIsReported() {
        let state = CustomerState(recentOrders: [
            storedOrder("O-3", at: t0 - 1 * day, .shipped, [("BREAD", 1)]),
            storedOrder("O-2", at: t0 - 2 * day, .processing, [("EGGS", 12), ("MILK", 1)]),
            storedOrder("O-1", at: t0 - 3 * day, .delivered, [("MILK", 3)]),
        ])
        var h = Harness(state: state)
        let alerts = h.alerts(add("MILK", 1, at: t0))
        #expect(alerts.map(\.orderID) == ["O-2"])
        #expect(alerts.first?.quantity == 1)
    }

    @Test func sixthOldestOrderIsNotMatchedEvenWhenTheFiveNewerAreCancelled() {
        var h = Harness()
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0 - 10 * day, status: .delivered))
        for k in 2...6 {
            _ = h.apply(placed("O-\(k)", [("MILK", 1)], at: t0 - Int64(10 - k) * day))
            #expect(h.apply(statusUpdate("O-\(k)", .cancelled, at: t0 - day)) == .applied([]))
        }
        #expect(h.state.recentOrders.map(\.orderID) == ["O-6", "O-5", "O-4", "O-3", "O-2"])
        #expect(h.state.olderOrders["O-1"] != nil)
        #expect(h.apply(add("MILK", 1, at: t0)) == .applied([]))
    }

    @Test func fifthOldestOrderIsStillMatchedBehindFourCancelledOnes() {
        var h = Harness()
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0 - 10 * day, status: .delivered))
        for k in 2...5 {
            _ = h.apply(placed("O-\(k)", [("MILK", 1)], at: t0 - Int64(10 - k) * day))
            _ = h.apply(statusUpdate("O-\(k)", .cancelled, at: t0 - day))
        }
        let alerts = h.alerts(add("MILK", 1, at: t0))
        #expect(alerts.map(\.orderID) == ["O-1"])
    }

    @Test func sixthOldestOrderIsNotMatchedBehindFiveOtherOrders() {
        var h = Harness()
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0 - 10 * day))
        for k in 2...6 { _ = h.apply(placed("O-\(k)", [("BREAD", 1)], at: t0 - Int64(10 - k) * day)) }
        #expect(h.apply(add("MILK", 1, at: t0)) == .applied([]))
    }

    @Test func onlyAddsAndPositiveChangesOfTheSkuLookUp() {
        // The same gap before each event; only the SKU looked up can match.
        var h = Harness(state: busyCustomer())
        #expect(h.apply(add("BREAD", 1, at: t0 + fourHours + 1)) == .applied([]))
    }

    /// The newest order holding the SKU has no title, an older one has: the message names the
    /// product, not the raw SKU (`dupwatch check` showed "1 × MILK-1L").
    @Test func messagesNameTheProductByAnyTitleTheStateKnows() {
        let state = CustomerState(recentOrders: [
            StoredOrder(orderID: "O-1002", placedAt: t0 - day, status: .processing, lines: [OrderLine(sku: "MILK", quantity: 1)]),
            StoredOrder(orderID: "O-1001", placedAt: t0 - 3 * day, status: .processing,
                        lines: [OrderLine(sku: "MILK", quantity: 2, title: "Organic Milk 1L")]),
        ])
        var h = Harness(state: state)
        let alerts = h.alerts(placed("O-1003", [("MILK", 1)], at: t0))
        #expect(alerts.map(\.orderID) == ["O-1002"])
        #expect(alerts.first?.title == "Organic Milk 1L")
        #expect(alerts.first?.message.contains("1 × Organic Milk 1L") == true, "\(alerts)")
        // With no title anywhere, the SKU is all there is.
        var bare = Harness(state: CustomerState(recentOrders: [state.recentOrders[0]]))
        #expect(bare.alerts(placed("O-1004", [("MILK", 1)], at: t0)).first?.message.contains("1 × MILK") == true)
    }

    @Test func configurableCartGap() {
        let config = RuleConfig(cartGap: .milliseconds(10 * minute))
        var within = Harness(config: config, state: busyCustomer())
        #expect(within.apply(add("MILK", 1, at: t0 + 10 * minute)) == .applied([]))
        var after = Harness(config: config, state: busyCustomer())
        #expect(after.alerts(add("MILK", 1, at: t0 + 10 * minute + 1)).count == 2)
    }

    @Test func configurableHistoryDepth() {
        var h = Harness(config: RuleConfig(historyDepth: 2))
        _ = h.apply(placed("O-1", [("MILK", 1)], at: t0 - 3 * day))
        _ = h.apply(placed("O-2", [("BREAD", 1)], at: t0 - 2 * day))
        #expect(h.alerts(add("MILK", 1, at: t0)).map(\.orderID) == ["O-1"])
        _ = h.apply(placed("O-3", [("BREAD", 1)], at: t0 + 1))
        #expect(h.state.recentOrders.map(\.orderID) == ["O-3", "O-2"])
        #expect(h.state.olderOrders.keys.sorted() == ["O-1"])
        // A change looks up orders only; O-1 is no longer among the last 2.
        #expect(h.apply(change("MILK", to: 3, at: t0 + 5 * hour)) == .applied([]))
    }

    @Test func alertTitleFallsBackToCartLineThenOrderLineTitle() {
        let state = CustomerState(
            lastCartEventAt: t0,
            cart: ["MILK": CartLine(sku: "MILK", quantity: 1, addedAt: t0, title: "Cart Milk")],
            recentOrders: [StoredOrder(orderID: "O-1", placedAt: t0 - day, status: .processing,
                                       lines: [OrderLine(sku: "MILK", quantity: 1, title: "Order Milk")])])
        var h = Harness(state: state)
        let alerts = h.alerts(add("MILK", 1, at: t0 + 5 * hour))
        #expect(alerts.first { $0.match.kind == .cart }?.title == "Cart Milk")
        #expect(alerts.first { $0.match.kind == .order }?.title == "Order Milk")
        var titled = Harness(state: state)
        let named = titled.alerts(add("MILK", 1, at: t0 + 5 * hour, title: "Event Milk"))
        #expect(named.map(\.title) == ["Event Milk", "Event Milk"])
    }

    @Test func reprocessingTheSameEventGivesTheSameAlertIDs() {
        var a = Harness(state: busyCustomer())
        var b = Harness(state: busyCustomer())
        let event = add("MILK", 1, at: t0 + 5 * hour, id: "ev-7")
        let first = a.alerts(event).map(\.alertID)
        let second = b.alerts(event).map(\.alertID)
        #expect(first.count == 2)
        #expect(first == second)
        #expect(Set(first).count == 2, "the cart and the order match of one event have different ids")
    }
}

// MARK: - R2

@Suite("R2: new orders")
struct OrderRuleTests_R2 {
    @Test func newOrderMatchesAnEarlierOrder() {
        var h = Harness(state: busyCustomer())
        let event = Event.order(OrderPlaced(orderID: "O-1002", customerID: cust,
                                            lines: [OrderLine(sku: "MILK", quantity: 1, title: "Organic Milk 1L"),
                                                    OrderLine(sku: "EGGS", quantity: 6)],
                                            time: t0 + minute, status: .processing))
        let alerts = h.alerts(event)
        #expect(alerts == [Alert(customerID: cust, sku: "MILK", title: "Organic Milk 1L", trigger: .order,
                                 triggerID: "O-1002", match: .order(orderID: "O-1001", placedAt: t0 - 3 * day, status: .processing), quantity: 2)])
    }

    @Test func firstOrderNeverMatchesItself() {
        var h = Harness()
        #expect(h.apply(placed("O-1", [("MILK", 2), ("EGGS", 1)], at: t0)) == .applied([]))
        #expect(h.state.recentOrders == [storedOrder("O-1", at: t0, .processing, [("MILK", 2), ("EGGS", 1)])])
    }

    @Test func oneAlertPerDistinctSkuInOrderOfFirstAppearance() {
        var h = Harness(state: CustomerState(recentOrders: [
            storedOrder("O-1", at: t0 - day, .shipped, [("A", 1), ("B", 2), ("C", 3)]),
        ]))
        let alerts = h.alerts(placed("O-2", [("C", 1), ("X", 1), ("A", 5)], at: t0))
        #expect(alerts.map(\.sku) == ["C", "A"])
        #expect(alerts.map(\.quantity) == [3, 1])
        #expect(alerts.allSatisfy { $0.trigger == .order && $0.triggerID == "O-2" && $0.orderID == "O-1" })
    }

    @Test func twoLinesOfOneSkuAsTheParserDeliversThemGiveOneAlert() throws {
        let raw = RawEntry(source: .orderPlaced, id: EntryID(milliseconds: UInt64(t0), sequence: 0), fields: [
            RawEntry.Field("order_id", "O-2"), RawEntry.Field("customer_id", cust),
            RawEntry.Field("items", #"[{"sku":"B","qty":1},{"sku":"A","qty":1},{"sku":"B","qty":2}]"#),
        ])
        let event = try EventParser.parse(raw).get()
        var h = Harness(state: CustomerState(recentOrders: [
            storedOrder("O-1", at: t0 - day, .shipped, [("A", 4), ("B", 7)]),
        ]))
        let alerts = h.alerts(event)
        #expect(alerts.map(\.sku) == ["B", "A"])
        #expect(alerts.map(\.quantity) == [7, 4])
        #expect(h.state.recentOrders.first?.lines == [OrderLine(sku: "B", quantity: 3), OrderLine(sku: "A", quantity: 1)])
    }

    @Test func sameOrderIDTwiceIsADuplicateWithNoChange() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(placed("O-2", [("MILK", 1)], at: t0 + minute))
        h.state.cart["MILK"] = CartLine(sku: "MILK", quantity: 1, addedAt: t0 + 2 * minute)
        let before = h.state
        #expect(h.apply(placed("O-2", [("MILK", 1)], at: t0 + minute)) == .duplicate)
        #expect(h.apply(placed("O-2", [("MILK", 9), ("EGGS", 1)], at: t0 + hour)) == .duplicate)
        #expect(h.state == before)
    }

    @Test func orderIDStoredOnlyInOlderOrdersIsADuplicate() {
        let old = storedOrder("O-OLD", at: t0 - 100 * day, .delivered, [("MILK", 1)])
        var state = busyCustomer()
        state.olderOrders = ["O-OLD": old]
        var h = Harness(state: state)
        #expect(h.apply(placed("O-OLD", [("MILK", 1)], at: t0)) == .duplicate)
        #expect(h.state == state)
    }

    @Test func ordersAreStoredNewestFirstAndPushedOutToOlderOrders() {
        var h = Harness()
        for k in 1...7 { _ = h.apply(placed("O-\(k)", [("S\(k)", k)], at: t0 + Int64(k) * hour)) }
        #expect(h.state.recentOrders.map(\.orderID) == ["O-7", "O-6", "O-5", "O-4", "O-3"])
        #expect(h.state.olderOrders.keys.sorted() == ["O-1", "O-2"])
        #expect(h.state.olderOrders["O-1"] == storedOrder("O-1", at: t0 + hour, .processing, [("S1", 1)]))
    }

    @Test func lastFiveAreTheMostRecentlyStoredNotTheLatestOrderTimes() {
        var h = Harness()
        // Stored first, although its order time is the latest of all.
        _ = h.apply(placed("O-NEW", [("MILK", 1)], at: t0 + 30 * day))
        for k in 1...5 { _ = h.apply(placed("O-\(k)", [("BREAD", 1)], at: t0 - Int64(k) * day)) }
        #expect(h.state.recentOrders.map(\.orderID) == ["O-5", "O-4", "O-3", "O-2", "O-1"])
        #expect(h.state.olderOrders["O-NEW"] != nil)
        #expect(h.apply(placed("O-6", [("MILK", 1)], at: t0 + 31 * day)) == .applied([]))
    }

    @Test func orderStoresItsStatusAndTime() {
        var h = Harness()
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0, status: .shipped))
        #expect(h.state.recentOrders == [storedOrder("O-1", at: t0, .shipped, [("MILK", 2)])])
    }

    @Test func orderedSkusLeaveTheCartOthersStay() {
        var state = busyCustomer()
        state.cart["BREAD"] = CartLine(sku: "BREAD", quantity: 1, addedAt: t0)
        var h = Harness(state: state)
        _ = h.apply(placed("O-2", [("MILK", 2), ("EGGS", 1)], at: t0 + hour))
        #expect(h.state.cart == ["BREAD": CartLine(sku: "BREAD", quantity: 1, addedAt: t0)])
        #expect(h.state.lastCartEventAt == t0)
    }

    @Test func cancelledAndReturnedOrdersAreSkippedForANewOrder() {
        var h = Harness(state: CustomerState(recentOrders: [
            storedOrder("O-3", at: t0 - 1 * day, .cancelled, [("MILK", 1)]),
            storedOrder("O-2", at: t0 - 2 * day, .returned, [("MILK", 1)]),
            storedOrder("O-1", at: t0 - 3 * day, .shipped, [("MILK", 5)]),
        ]))
        let alerts = h.alerts(placed("O-4", [("MILK", 1)], at: t0))
        #expect(alerts.map(\.orderID) == ["O-1"])
        #expect(alerts.first?.orderStatus == .shipped)
        #expect(alerts.first?.quantity == 5)
    }

    @Test func sixthOldestOrderIsNotMatchedByANewOrder() {
        var h = Harness()
        _ = h.apply(placed("O-1", [("MILK", 2)], at: t0 - 10 * day))
        for k in 2...6 { _ = h.apply(placed("O-\(k)", [("BREAD", 1)], at: t0 - Int64(10 - k) * day)) }
        let alerts = h.alerts(placed("O-7", [("MILK", 1), ("BREAD", 1)], at: t0))
        #expect(alerts.map(\.sku) == ["BREAD"])
        #expect(alerts.first?.orderID == "O-6")
    }

    @Test func ordersAreCustomerScopedInAlerts() {
        var h = Harness(state: busyCustomer())
        let alerts = h.alerts(placed("O-2", [("MILK", 1)], at: t0))
        #expect(alerts.map(\.customerID) == [cust])
    }
}

// MARK: - Status updates

@Suite("Status updates")
struct StatusUpdateRuleTests {
    @Test func anyTransitionOfARecentOrderIsApplied() {
        var h = Harness(state: CustomerState(recentOrders: [
            storedOrder("O-2", at: t0 - day, .delivered, [("MILK", 1)]),
            storedOrder("O-1", at: t0 - 2 * day, .returned, [("EGGS", 1)]),
        ]))
        #expect(h.apply(statusUpdate("O-2", .processing, at: t0)) == .applied([]))
        #expect(h.apply(statusUpdate("O-1", .shipped, at: t0)) == .applied([]))
        #expect(h.state.recentOrders.map(\.status) == [.processing, .shipped])
    }

    @Test func updateOfAnOrderPushedOutOfTheLastFiveWorks() {
        var h = Harness()
        for k in 1...6 { _ = h.apply(placed("O-\(k)", [("S\(k)", 1)], at: t0 + Int64(k) * hour)) }
        #expect(h.state.olderOrders["O-1"] != nil)
        #expect(h.apply(statusUpdate("O-1", .returned, at: t0 + day)) == .applied([]))
        #expect(h.state.olderOrders["O-1"]?.status == .returned)
        #expect(h.state.recentOrders.allSatisfy { $0.status == .processing })
    }

    @Test func updateOfALoadedOlderOrderWorks() {
        var state = busyCustomer()
        state.olderOrders["O-OLD"] = storedOrder("O-OLD", at: t0 - 200 * day, .shipped, [("MILK", 1)])
        var h = Harness(state: state)
        #expect(h.apply(statusUpdate("O-OLD", .delivered, at: t0)) == .applied([]))
        #expect(h.state.olderOrders["O-OLD"]?.status == .delivered)
    }

    @Test func unknownOrderIsRejectedWithNoChange() {
        let state = busyCustomer()
        var h = Harness(state: state)
        let outcome = h.apply(statusUpdate("O-NOPE", .shipped, at: t0))
        guard case .rejected(let rejection) = outcome else {
            Issue.record("expected .rejected, got \(outcome)")
            return
        }
        #expect(rejection.code == "unknown_order")
        #expect(h.state == state)
    }

    @Test func cancellingStopsMatchesAndRevertingRestoresThem() {
        var h = Harness(state: CustomerState(recentOrders: [storedOrder("O-1", at: t0 - day, .processing, [("MILK", 1)])]))
        _ = h.apply(statusUpdate("O-1", .cancelled, at: t0 - hour))
        #expect(h.apply(add("MILK", 1, at: t0)) == .applied([]))
        _ = h.apply(statusUpdate("O-1", .processing, at: t0 + hour))
        let alerts = h.alerts(add("MILK", 1, at: t0 + 5 * hour))
        #expect(Set(alerts.map { "\($0.match.kind)/\($0.orderID ?? "-")" }) == ["cart/-", "order/O-1"])
    }
}

// MARK: - Event ids

@Suite("Producer event ids")
struct EventIDRuleTests {
    @Test func repeatedExplicitEventIDIsADuplicateWithNoChange() {
        var h = Harness(state: busyCustomer())
        _ = h.apply(add("MILK", 1, at: t0 + 5 * hour, id: "ev-1"))
        let before = h.state
        // Same id, other content and a later time: still nothing at all.
        #expect(h.apply(change("MILK", to: 9, at: t0 + 20 * hour, id: "ev-1")) == .duplicate)
        #expect(h.apply(clear(at: t0 + 20 * hour, id: "ev-1")) == .duplicate)
        #expect(h.apply(add("MILK", 1, at: t0 + 5 * hour, id: "ev-1")) == .duplicate)
        #expect(h.state == before)
    }

    @Test func explicitIDsAreRememberedWithTheirEventTime() {
        var h = Harness()
        _ = h.apply(add("MILK", 1, at: t0, id: "ev-1"))
        _ = h.apply(remove("MILK", at: t0 + minute, id: "ev-2"))
        #expect(h.state.eventIDs == ["ev-1": t0, "ev-2": t0 + minute])
    }

    @Test func idsWithoutExplicitEventIDAreNotRemembered() {
        var h = Harness()
        let event = add("MILK", 1, at: t0)  // eventID is the entry id text, not explicit
        #expect(h.apply(event) == .applied([]))
        #expect(h.state.eventIDs.isEmpty)
        #expect(h.apply(event) == .applied([]))
        #expect(h.state.cart["MILK"]?.quantity == 2)
    }

    @Test func idsArePrunedOnlyWhenOlderThanNewestMinusRetention() {
        var h = Harness()
        _ = h.apply(add("A", 1, at: t0, id: "ev-old"))
        _ = h.apply(add("B", 1, at: t0 + 24 * hour, id: "ev-edge"))
        #expect(Set(h.state.eventIDs.keys) == ["ev-old", "ev-edge"], "exactly 24 h old is kept")
        _ = h.apply(add("C", 1, at: t0 + 24 * hour + 1, id: "ev-new"))
        #expect(h.state.eventIDs == ["ev-edge": t0 + 24 * hour, "ev-new": t0 + 24 * hour + 1])
        // Forgotten: the same id takes effect again.
        #expect(h.apply(add("A", 1, at: t0, id: "ev-old")) == .applied([]))
        #expect(h.state.cart["A"]?.quantity == 2)
    }

    @Test func idExactlyAtTheHorizonSurvivesThePruneOfOlderOnes() {
        var h = Harness()
        _ = h.apply(add("A", 1, at: t0, id: "ev-a"))
        _ = h.apply(add("A", 1, at: t0 + 1, id: "ev-b"))
        _ = h.apply(add("A", 1, at: t0 + 24 * hour + 1, id: "ev-c"))  // horizon = t0 + 1
        #expect(h.state.eventIDs == ["ev-b": t0 + 1, "ev-c": t0 + 24 * hour + 1])
        #expect(h.apply(add("A", 1, at: t0 + 1, id: "ev-b")) == .duplicate)
    }

    @Test func retentionIsConfigurable() {
        var h = Harness(config: RuleConfig(eventIDRetention: .milliseconds(hour)))
        _ = h.apply(add("A", 1, at: t0, id: "ev-1"))
        _ = h.apply(add("A", 1, at: t0 + hour + 1, id: "ev-2"))
        #expect(h.state.eventIDs == ["ev-2": t0 + hour + 1])
    }

    @Test func lateEventIDWithinRetentionIsRemembered() {
        var h = Harness()
        _ = h.apply(add("A", 1, at: t0 + 10 * hour, id: "ev-new"))
        _ = h.apply(add("A", 1, at: t0, id: "ev-late"))
        #expect(h.state.eventIDs["ev-late"] == t0)
        #expect(h.apply(add("A", 1, at: t0, id: "ev-late")) == .duplicate)
    }

    @Test func duplicateDoesNotMoveP() {
        var h = Harness()
        _ = h.apply(add("A", 1, at: t0, id: "ev-1"))
        #expect(h.apply(add("A", 1, at: t0 + 10 * hour, id: "ev-1")) == .duplicate)
        #expect(h.state.lastCartEventAt == t0)
    }

    @Test func orderAndStatusEventsDoNotTouchEventIDs() {
        var h = Harness(state: CustomerState(eventIDs: ["ev-1": t0]))
        _ = h.apply(placed("O-1", [("A", 1)], at: t0 + 30 * day))
        _ = h.apply(statusUpdate("O-1", .shipped, at: t0 + 30 * day))
        #expect(h.state.eventIDs == ["ev-1": t0])
    }
}
