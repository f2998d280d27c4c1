import Testing
import DupWatchCore

// The analytics a batch adds (issue 18, part 2), as a pure fold of each event's outcome.

private let hour: Int64 = 3_600_000
private let day: Int64 = 86_400_000
/// 2026-11-20T10:00:00Z
private let t0: Int64 = 1_795_168_800_000
private let cust = "C-9"

private func placed(_ orderID: String, _ skus: [String], at time: Int64) -> Event {
    .order(OrderPlaced(orderID: orderID, customerID: cust, lines: skus.map { OrderLine(sku: $0, quantity: 1) },
                       time: time, status: .processing))
}

private func cart(_ action: CartAction, at time: Int64) -> Event {
    .cart(CartEvent(customerID: cust, eventID: "\(time)-0", hasExplicitEventID: false, action: action, title: nil, time: time))
}

private func status(_ orderID: String, _ status: OrderStatus, at time: Int64) -> Event {
    .status(StatusUpdate(orderID: orderID, customerID: cust, status: status, time: time))
}

/// Runs `events` through the rules and the tally, as the batch planner does.
private func tally(_ events: [Event], config: RuleConfig = RuleConfig()) -> StatsTally {
    let rules = DuplicateRules(config: config)
    var state = CustomerState.empty
    var tally = StatsTally()
    for event in events {
        let before = state
        let outcome = rules.apply(event, to: &state)
        tally.record(event, outcome: outcome, before: before, after: state)
    }
    return tally
}

private func total(_ tally: StatsTally) -> StatsCounts {
    var sum = StatsCounts()
    for counts in tally.hours.values { sum.add(counts) }
    return sum
}

@Suite("Analytics tally")
struct StatsTallyTests {
    @Test func aReorderIsAFlaggedOrderAndItsCancellationACancelledFlaggedOne() {
        let t = total(tally([
            placed("O-1", ["MILK"], at: t0),
            placed("O-2", ["MILK", "BREAD"], at: t0 + day),
            status("O-2", .cancelled, at: t0 + day + hour),
            status("O-1", .cancelled, at: t0 + 2 * day),
        ]))
        #expect(t[.events] == 4)
        #expect(t[.ordersPlaced] == 2)
        #expect(t[.ordersFlagged] == 1)
        #expect(t[.alertsOrderOrder] == 1)
        #expect(t[.ordersCancelled] == 2)
        #expect(t[.cancelledFlagged] == 1, "only O-2 raised an alert when it was placed")
    }

    @Test func cancellingTwiceCountsOnceAndOtherStatusesNotAtAll() {
        let t = total(tally([
            placed("O-1", ["MILK"], at: t0),
            status("O-1", .shipped, at: t0 + hour),
            status("O-1", .cancelled, at: t0 + 2 * hour),
            status("O-1", .cancelled, at: t0 + 3 * hour),
        ]))
        #expect(t[.events] == 4)
        #expect(t[.ordersCancelled] == 1)
        #expect(t[.cancelledFlagged] == 0)
    }

    @Test func anAlertedCartLineRemovedCountsButACheckedOutOneDoesNot() {
        let t = total(tally([
            placed("O-1", ["MILK", "EGGS"], at: t0),
            cart(.add(sku: "MILK", quantity: 1), at: t0 + day),        // alert: ordered in O-1
            cart(.add(sku: "EGGS", quantity: 1), at: t0 + day + 1),    // no lookup (within the gap)
            cart(.remove(sku: "MILK"), at: t0 + day + 2),              // alerted line removed
            cart(.add(sku: "EGGS", quantity: 1), at: t0 + 2 * day),    // alerts: in cart and ordered
            placed("O-2", ["EGGS"], at: t0 + 2 * day + 1),             // checkout: not a removal
        ]))
        #expect(t[.cartFlagged] == 2)
        #expect(t[.alertsCartOrder] == 2)
        #expect(t[.alertsCartCart] == 1)
        #expect(t[.cartFlaggedRemoved] == 1)
        #expect(t[.ordersFlagged] == 1, "O-2 repeats EGGS of O-1")
    }

    @Test func changeToZeroAndClearRemoveAlertedLines() {
        let t = total(tally([
            placed("O-1", ["MILK", "EGGS", "TEA"], at: t0),
            cart(.add(sku: "MILK", quantity: 1), at: t0 + day),
            cart(.add(sku: "EGGS", quantity: 1), at: t0 + 2 * day),
            cart(.add(sku: "BREAD", quantity: 1), at: t0 + 3 * day),    // not alerted
            cart(.change(sku: "MILK", quantity: 0), at: t0 + 3 * day + 1),
            cart(.add(sku: "TEA", quantity: 1), at: t0 + 4 * day),
            cart(.clear, at: t0 + 4 * day + 1),                          // EGGS and TEA alerted, BREAD not
        ]))
        #expect(t[.cartFlagged] == 3)
        #expect(t[.cartFlaggedRemoved] == 3)
    }

    @Test func countsGoToTheEventTimeHourAndSKUsToTheDay() {
        let tally = tally([
            placed("O-1", ["MILK"], at: t0),                 // 2026-11-20T10
            placed("O-2", ["MILK"], at: t0 + 13 * hour + 5), // 2026-11-20T23
            placed("O-3", ["MILK"], at: t0 + 14 * hour),     // 2026-11-21T00
        ])
        let hours = tally.hours.keys.sorted().map { StatsPeriod.hour.name(of: $0) }
        #expect(hours == ["2026-11-20T10", "2026-11-20T23", "2026-11-21T00"])
        #expect(tally.hours.values.map { $0[.ordersPlaced] } == [1, 1, 1])
        #expect(tally.hours[StatsPeriod.hour.number(of: t0 + 13 * hour + 5)]?[.ordersFlagged] == 1)
        #expect(tally.skus[StatsPeriod.day.number(of: t0)] == ["MILK": 1])
        #expect(tally.skus[StatsPeriod.day.number(of: t0 + day)] == ["MILK": 1])
    }

    @Test func quietSKUsNeitherFlagNorRank() {
        let t = tally([placed("O-1", ["POST", "MILK"], at: t0), placed("O-2", ["POST"], at: t0 + day)],
                      config: RuleConfig(quietSKUs: ["POST"]))
        #expect(total(t)[.ordersFlagged] == 0)
        #expect(t.skus.isEmpty)
    }

    @Test func duplicatesAndRejectionsAreNotCounted() {
        let t = total(tally([
            placed("O-1", ["MILK"], at: t0),
            placed("O-1", ["MILK"], at: t0 + hour),          // re-sent order id: .duplicate
            status("O-404", .cancelled, at: t0 + 2 * hour),  // unknown order: .rejected
        ]))
        #expect(t[.events] == 1)
        #expect(t[.ordersPlaced] == 1)
        #expect(t[.ordersCancelled] == 0)
    }

    @Test func periodsFloorNegativeTimesAndNameTheirStart() {
        #expect(StatsPeriod.hour.number(of: -1) == -1)
        #expect(StatsPeriod.day.number(of: 0) == 0)
        #expect(StatsPeriod.day.name(of: StatsPeriod.day.number(of: t0 + 13 * hour + 59 * 60_000)) == "2026-11-20")
        #expect(StatsPeriod.hour.name(of: StatsPeriod.hour.number(of: t0 + 59 * 60_000)) == "2026-11-20T10")
    }

    @Test func everyCounterHasItsOwnFieldAndReadsBack() {
        let fields = StatsCounter.allCases.map(\.field)
        #expect(Set(fields).count == fields.count)
        for counter in StatsCounter.allCases {
            #expect(StatsCounter(field: counter.field) == counter)
        }
        #expect(StatsCounter(field: "nope") == nil)
        #expect(["kept_both", "removed_item", "cancelled_order", "dismissed"].compactMap(StatsCounter.feedback(action:)).count == 4)
    }
}

@Suite("Report ranges")
struct StatsRangeTests {
    private let now: Int64 = t0 + 30 * 60_000 // 2026-11-20T10:30Z

    @Test func defaultsAreTheLastSevenDaysByDay() throws {
        let range = try StatsRange.parse(since: nil, until: nil, period: nil, now: now)
        #expect(range == StatsRange(since: now - 7 * day, until: now, period: .day))
    }

    @Test func aShortSpanIsByHourAndDatesStartTheirDay() throws {
        #expect(try StatsRange.parse(since: "36h", until: nil, period: nil, now: now).period == .hour)
        let range = try StatsRange.parse(since: "2026-11-01", until: "2026-11-20T00:00:00Z", period: "hour", now: now)
        #expect(range.since == t0 - 10 * hour - 19 * day)
        #expect(range.until == t0 - 10 * hour)
        #expect(range.period == .hour)
        #expect(try StatsRange.parse(since: String(t0), until: nil, period: nil, now: now).since == t0)
    }

    @Test func badTextsAreRejectedWithTheirName() throws {
        #expect(throws: Rejection("bad_since", "since \"yesterday\" is not a date (2026-12-01), a time (2026-12-01T10:00:00Z or epoch ms) or a span back from now (7d, 36h)")) {
            try StatsRange.parse(since: "yesterday", until: nil, period: nil, now: now)
        }
        #expect(throws: Rejection.self) { try StatsRange.parse(since: nil, until: nil, period: "week", now: now) }
        #expect(throws: Rejection.self) { try StatsRange.parse(since: "1d", until: "2d", period: nil, now: now) }
        #expect(throws: Rejection.self) { try StatsRange.parse(since: "1000d", until: nil, period: "day", now: now) }
        #expect(try StatsRange.parse(since: "400d", until: nil, period: "day", now: now).period == .day)
    }
}
