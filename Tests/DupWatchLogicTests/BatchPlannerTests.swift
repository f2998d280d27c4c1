import Testing
import DupWatchCore
import DupWatchStore
import DupWatchWorker
import RedisClient

// MARK: - Helpers

private let hour: Int64 = 3_600_000
/// 2026-11-20T10:00:00Z
private let t0: Int64 = 1_795_168_800_000
private let keys = KeySchema()
private let detectedAt: Int64 = t0 + 100 * hour

/// Entry id `<t0 + offset>-<seq>`; with no `ts` field it is also the event time.
private func eid(_ offsetMs: Int64, _ seq: UInt64 = 0) -> EntryID {
    EntryID(milliseconds: UInt64(t0 + offsetMs), sequence: seq)
}

private func delivered(_ source: EventSource, _ id: EntryID, _ fields: [(String, String)],
                       giveUp: (deliveries: Int64, lastError: String)? = nil) -> DeliveredEntry {
    DeliveredEntry(source: source, id: id,
                   entry: RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field($0.0, $0.1) }),
                   giveUp: giveUp)
}

private func cartAdd(_ customer: String, _ sku: String, at id: EntryID, eventID: String? = nil) -> DeliveredEntry {
    var fields = [("type", "add"), ("customer_id", customer), ("sku", sku)]
    if let eventID { fields.append(("event_id", eventID)) }
    return delivered(.cart, id, fields)
}

private func orderPlaced(_ customer: String, _ orderID: String, _ items: String, at id: EntryID) -> DeliveredEntry {
    delivered(.orderPlaced, id, [("order_id", orderID), ("customer_id", customer), ("items", items)])
}

private func statusChange(_ customer: String, _ orderID: String, _ status: String, at id: EntryID) -> DeliveredEntry {
    delivered(.orderStatus, id, [("order_id", orderID), ("customer_id", customer), ("status", status)])
}

private let planner = BatchPlanner(rules: DuplicateRules(), keys: keys, limits: StoreLimits())

private func run(_ entries: [DeliveredEntry], states: [String: LoadedState] = [:]) -> (ParsedBatch, BatchPlan) {
    let batch = planner.parse(entries)
    return (batch, planner.plan(batch, states: states, detectedAt: detectedAt))
}

private func commands(_ plan: BatchPlan) -> [CommitCommand] {
    plan.commit.commands
}

/// The fields of every `XADD` to `stream`, as name -> value.
private func xadds(_ plan: BatchPlan, to stream: String) -> [[String: String]] {
    commands(plan).compactMap { command in
        guard case .xadd(stream, _, let fields) = command else { return nil }
        return Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}

/// The fields of every `HSET` of `key`, as name -> value.
private func hsets(_ plan: BatchPlan, of key: String) -> [[String: String]] {
    commands(plan).compactMap { command in
        guard case .hset(key, let fields) = command else { return nil }
        return Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}

/// How far a batch moves the group in one stream: its last entry and how many it processed.
private struct Progress: Equatable, CustomStringConvertible {
    var last: EntryID
    var count: Int
    var description: String { "\(last) x\(count)" }
}

private func progress(_ id: EntryID, _ count: Int) -> Progress { Progress(last: id, count: count) }

/// What the plan processed per input stream name.
private func processed(_ plan: BatchPlan) -> [String: Progress] {
    var out: [String: Progress] = [:]
    for (source, done) in plan.processed { out[keys.stream(for: source)] = Progress(last: done.last, count: done.count) }
    return out
}

// MARK: - Tests

@Suite("Batch planner")
struct BatchPlannerTests {
    @Test func parseOrdersEntriesByEntryIDAcrossSources() {
        let entries = [
            cartAdd("C1", "A", at: eid(300)),
            statusChange("C1", "O-1", "shipped", at: eid(200, 1)),
            orderPlaced("C1", "O-1", #"[{"sku":"A","qty":1}]"#, at: eid(200, 0)),
            cartAdd("C1", "B", at: eid(100)),
        ]
        let batch = planner.parse(entries)
        #expect(batch.items.map(\.delivered.id) == [eid(100), eid(200, 0), eid(200, 1), eid(300)])
        #expect(batch.items.map(\.delivered.source) == [.cart, .orderPlaced, .orderStatus, .cart])
    }

    @Test func entriesOfTheThreeSourcesAreAppliedInEntryIDOrder() {
        // Handed over newest first; applied oldest first: the order is stored, then shipped,
        // then the first cart event finds it.
        let (_, plan) = run([
            cartAdd("C1", "MILK", at: eid(2 * hour)),
            statusChange("C1", "O-1", "shipped", at: eid(hour)),
            orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":2}]"#, at: eid(0)),
        ])
        #expect(plan.deadLetters.isEmpty, "status update applied before its order: \(plan.deadLetters)")
        #expect(plan.applied == 3)
        #expect(plan.alerts.count == 1)
        let alert = plan.alerts.first
        #expect(alert?.trigger == .cart)
        #expect(alert?.match == .order(orderID: "O-1", placedAt: t0, status: .shipped))
        #expect(alert?.quantity == 2)
    }

    @Test func parseListsCustomersInFirstAppearanceAndTheOrdersTheyName() {
        let batch = planner.parse([
            statusChange("C1", "O-9", "delivered", at: eid(40)),
            orderPlaced("C1", "O-1", #"[{"sku":"A","qty":1}]"#, at: eid(30)),
            delivered(.cart, eid(25), [("type", "add"), ("sku", "A")]),          // no customer: invalid
            cartAdd("C3", "A", at: eid(20)),
            orderPlaced("C2", "O-5", #"[{"sku":"A","qty":1}]"#, at: eid(10)),
            DeliveredEntry(source: .cart, id: eid(5), entry: nil),
        ])
        #expect(batch.customers == ["C2", "C3", "C1"])
        #expect(batch.namedOrders == ["C1": ["O-1", "O-9"], "C2": ["O-5"]])
        #expect(batch.items.count == 6)
        #expect(batch.eventIDCustomers.isEmpty)
    }

    @Test func parseListsTheCustomersWhoseEventIDsAreNeeded() {
        let batch = planner.parse([
            cartAdd("C1", "A", at: eid(1)),
            cartAdd("C2", "A", at: eid(2), eventID: "ev-9"),
            cartAdd("C3", "A", at: eid(3)),
            cartAdd("C3", "B", at: eid(4), eventID: "ev-10"),
            orderPlaced("C4", "O-1", #"[{"sku":"A","qty":1}]"#, at: eid(5)),
        ])
        #expect(batch.eventIDCustomers == ["C2", "C3"])
    }

    @Test func malformedEntryIsDeadLetteredWithItsReasonAndPassed() throws {
        let bad = delivered(.cart, eid(10), [("type", "add"), ("sku", "MILK"), ("qty", "2")])
        let expectedReason: String
        switch EventParser.parse(try #require(bad.entry)) {
        case .failure(let rejection): expectedReason = rejection.reason
        case .success: Issue.record("entry should be invalid"); return
        }
        #expect(expectedReason.hasPrefix("missing_customer_id: "))

        let (_, plan) = run([bad, cartAdd("C1", "MILK", at: eid(20))])
        #expect(plan.deadLetters.map(\.entryID) == [eid(10).description])
        #expect(plan.deadLetters.map(\.reason) == [expectedReason])
        #expect(plan.commit.deadLetterCount == 1)
        let letters = xadds(plan, to: keys.deadLetterStream)
        #expect(letters.count == 1)
        #expect(letters.first?["source_stream"] == keys.cartStream)
        #expect(letters.first?["source_id"] == eid(10).description)
        #expect(letters.first?["reason"] == expectedReason)
        let payload = try #require(letters.first?["payload"])
        func sorted(_ fields: [RawEntry.Field]?) -> [String] { (fields ?? []).map { "\($0.name)=\($0.value)" }.sorted() }
        #expect(sorted(DeadLetterPayload.fields(Array(payload.utf8))) == sorted(bad.entry!.fields))
        #expect(plan.applied == 1)
        #expect(processed(plan) == [keys.cartStream: progress(eid(20), 2)])
    }

    @Test func corruptCustomersEventsAreDeadLetteredAsBadStateAndNothingIsWrittenForThem() {
        let (_, plan) = run([
            cartAdd("C1", "MILK", at: eid(10)),
            orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":1}]"#, at: eid(20)),
            statusChange("C1", "O-0", "shipped", at: eid(25)),
            cartAdd("C2", "MILK", at: eid(30)),
        ], states: ["C1": .corrupt("cart hash holds a list"), "C2": .state(.empty)])

        #expect(plan.deadLetters.map(\.entryID) == [eid(10), eid(20), eid(25)].map(\.description))
        #expect(plan.deadLetters.allSatisfy { $0.reason.hasPrefix("bad_state: ") }, "\(plan.deadLetters)")
        #expect(plan.applied == 1)
        #expect(plan.states["C1"] == nil)
        #expect(plan.states["C2"] != nil)
        for command in commands(plan) where !command.keys.contains(keys.deadLetterStream) {
            #expect(!command.keys.contains { $0.contains("{C1}") }, "write for the corrupt customer: \(command)")
        }
        #expect(hsets(plan, of: keys.cart("C2")).count == 1)
        #expect(processed(plan) == [keys.cartStream: progress(eid(30), 2), keys.orderPlacedStream: progress(eid(20), 1),
                                    keys.orderStatusStream: progress(eid(25), 1)])
    }

    @Test func trimmedEntryIsCountedAndPassed() {
        let (_, plan) = run([
            DeliveredEntry(source: .orderPlaced, id: eid(10), entry: nil),
            DeliveredEntry(source: .cart, id: eid(20), entry: nil, giveUp: (deliveries: 9, lastError: "gone")),
        ])
        #expect(plan.trimmed == 2)
        #expect(plan.deadLetters.isEmpty)
        #expect(plan.applied == 0)
        #expect(processed(plan) == [keys.orderPlacedStream: progress(eid(10), 1), keys.cartStream: progress(eid(20), 1)])
    }

    @Test func givenUpEntryIsDeadLetteredWithMaxDeliveriesAndNotApplied() {
        let valid = cartAdd("C1", "MILK", at: eid(10))
        let givenUp = DeliveredEntry(source: .cart, id: valid.id, entry: valid.entry,
                                     giveUp: (deliveries: 5, lastError: "READONLY You can't write"))
        let (batch, plan) = run([givenUp])
        #expect(plan.deadLetters.count == 1)
        #expect(plan.deadLetters.first?.entryID == eid(10).description)
        #expect(plan.deadLetters.first?.reason.hasPrefix("max_deliveries: ") == true)
        let letter = xadds(plan, to: keys.deadLetterStream).first
        #expect(letter?["deliveries"] == "5")
        #expect(letter?["last_error"] == "READONLY You can't write")
        #expect(letter?["source_id"] == eid(10).description)
        #expect(plan.applied == 0)
        #expect(batch.customers.isEmpty)
        #expect(plan.states.isEmpty)
        #expect(processed(plan) == [keys.cartStream: progress(eid(10), 1)])
    }

    @Test func twoEventsOfOneCustomerFoldIntoOneState() throws {
        // The second add comes 5 h after the first: it sees the line the first one created.
        let (_, plan) = run([
            cartAdd("C1", "MILK", at: eid(5 * hour)),
            cartAdd("C1", "MILK", at: eid(0)),
        ])
        #expect(plan.applied == 2)
        #expect(plan.alerts.count == 1)
        let alert = try #require(plan.alerts.first)
        #expect(alert.match == .cart(addedAt: t0))
        #expect(alert.quantity == 1)
        #expect(alert.triggerID == eid(5 * hour).description)
        // The line is marked as alerted (analytics: whether it is removed later).
        #expect(plan.states["C1"]?.cart["MILK"] == CartLine(sku: "MILK", quantity: 2, addedAt: t0, alerted: true))
        #expect(plan.states["C1"]?.lastCartEventAt == t0 + 5 * hour)
        #expect(hsets(plan, of: keys.cart("C1")) == [["_p": String(t0 + 5 * hour), "MILK": "!2|\(t0)|"]])
    }

    @Test func loadedStateIsTheStartingPoint() {
        let history = CustomerState(recentOrders: [StoredOrder(orderID: "O-7", placedAt: t0 - 24 * hour, status: .delivered,
                                                               lines: [OrderLine(sku: "MILK", quantity: 3)])])
        let (_, plan) = run([cartAdd("C1", "MILK", at: eid(0))], states: ["C1": .state(history)])
        #expect(plan.alerts.map(\.orderID) == ["O-7"])
        // The order was already stored: nothing is rewritten for it.
        #expect(!commands(plan).contains { $0.keys == [keys.order("C1", "O-7")] })
    }

    @Test func customerWithoutLoadedStateStartsEmpty() {
        let (_, plan) = run([cartAdd("C9", "MILK", at: eid(0))], states: [:])
        #expect(plan.applied == 1)
        #expect(plan.alerts.isEmpty)
        #expect(plan.states["C9"]?.cart["MILK"]?.quantity == 1)
    }

    @Test func repeatedEventIDInOneBatchIsCountedAsDuplicate() {
        let (_, plan) = run([
            cartAdd("C1", "MILK", at: eid(0), eventID: "ev-1"),
            cartAdd("C1", "MILK", at: eid(10), eventID: "ev-1"),
        ])
        #expect(plan.applied == 1)
        #expect(plan.duplicates == 1)
        #expect(plan.deadLetters.isEmpty)
        #expect(plan.states["C1"]?.cart["MILK"]?.quantity == 1)
        #expect(processed(plan) == [keys.cartStream: progress(eid(10), 2)])
    }

    @Test func unknownOrderStatusUpdateIsDeadLettered() {
        let (_, plan) = run([statusChange("C1", "O-404", "shipped", at: eid(0))])
        #expect(plan.deadLetters.count == 1)
        #expect(plan.deadLetters.first?.reason.hasPrefix("unknown_order: ") == true)
        #expect(xadds(plan, to: keys.deadLetterStream).first?["source_stream"] == keys.orderStatusStream)
        #expect(processed(plan) == [keys.orderStatusStream: progress(eid(0), 1)])
    }

    @Test func alertsArePublishedToTheAlertStream() {
        let (_, plan) = run([
            orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":2,"title":"Organic Milk 1L"}]"#, at: eid(0)),
            orderPlaced("C1", "O-2", #"[{"sku":"MILK","qty":1}]"#, at: eid(hour)),
        ])
        #expect(plan.alerts.count == 1)
        #expect(plan.commit.alertCount == 1)
        let published = xadds(plan, to: keys.alertStream)
        #expect(published.count == 1)
        let alert = plan.alerts[0]
        let expected = Dictionary(alert.fields(detectedAt: detectedAt), uniquingKeysWith: { a, _ in a })
        #expect(published.first == expected)
        #expect(published.first?["trigger"] == "order")
        #expect(published.first?["trigger_id"] == "O-2")
        #expect(published.first?["order_id"] == "O-1")
    }

    @Test func newOrderIsWrittenWithHistoryAndLastNList() {
        let (_, plan) = run([orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":2}]"#, at: eid(0))])
        let retention = StoreLimits().orderRetention
        #expect(commands(plan) == [
            .hset(key: keys.order("C1", "O-1"), fields: [.init("ts", String(t0)), .init("status", "processing"), .init("items", "MILK\t2")]),
            .pexpire(key: keys.order("C1", "O-1"), after: retention),
            .zadd(key: keys.history("C1"), members: [.init(t0, "O-1")]),
            .pexpire(key: keys.history("C1"), after: retention),
            .del(key: keys.recentOrders("C1")),
            .rpush(key: keys.recentOrders("C1"), values: ["O-1"]),
            .pexpire(key: keys.recentOrders("C1"), after: retention),
        ])
    }

    @Test func statusChangeOfAStoredOrderWritesOnlyTheStatus() {
        let stored = CustomerState(recentOrders: [StoredOrder(orderID: "O-1", placedAt: t0, status: .processing,
                                                              lines: [OrderLine(sku: "MILK", quantity: 1)])])
        let (_, plan) = run([statusChange("C1", "O-1", "delivered", at: eid(hour))], states: ["C1": .state(stored)])
        #expect(commands(plan) == [.hset(key: keys.order("C1", "O-1"), fields: [.init("status", "delivered")])])
        #expect(plan.states["C1"]?.recentOrders.first?.status == .delivered)
    }

    @Test func progressCoversEveryEntryOfEverySource() {
        let entries: [DeliveredEntry] = [
            cartAdd("C1", "MILK", at: eid(0), eventID: "ev-1"),
            cartAdd("C1", "MILK", at: eid(1), eventID: "ev-1"),                      // duplicate
            delivered(.cart, eid(2), [("type", "bogus"), ("customer_id", "C1")]),     // malformed
            DeliveredEntry(source: .cart, id: eid(3), entry: nil),                     // trimmed
            orderPlaced("C2", "O-1", #"[{"sku":"A","qty":1}]"#, at: eid(4)),
            orderPlaced("C2", "O-1", #"[{"sku":"A","qty":1}]"#, at: eid(5)),          // duplicate order
            delivered(.orderPlaced, eid(6), []),                                       // empty entry
            statusChange("C2", "O-1", "shipped", at: eid(7)),
            statusChange("C2", "O-x", "shipped", at: eid(8)),                          // unknown order
            DeliveredEntry(source: .orderStatus, id: eid(9), entry: statusChange("C3", "O-1", "shipped", at: eid(9)).entry,
                           giveUp: (deliveries: 3, lastError: "x")),                  // given up
            cartAdd("C4", "MILK", at: eid(10)),
        ]
        let (_, plan) = run(entries, states: ["C4": .corrupt("bad")])
        let moved = processed(plan)
        for source in EventSource.allCases {
            let ids = entries.filter { $0.source == source }.map(\.id)
            #expect(moved[keys.stream(for: source)] == progress(ids.max()!, ids.count), "\(source)")
        }
        #expect(plan.applied + plan.duplicates + plan.trimmed + plan.deadLetters.count == entries.count)
        #expect(plan.duplicates == 2)
        #expect(plan.trimmed == 1)
        #expect(plan.deadLetters.count == 5)
    }

    @Test func noProgressForAStreamWithoutEntries() {
        let (_, plan) = run([cartAdd("C1", "MILK", at: eid(0))])
        #expect(Array(processed(plan).keys) == [keys.cartStream])
    }

    @Test func withStatsTheBatchAddsItsFiguresToItsHourInTheSameCommit() {
        let settings = StatsSettings(retention: .seconds(3600), skusPerDay: 10)
        let planner = BatchPlanner(rules: DuplicateRules(), keys: keys, limits: StoreLimits(), stats: settings)
        let batch = planner.parse([
            orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":2}]"#, at: eid(0)),
            orderPlaced("C1", "O-2", #"[{"sku":"MILK","qty":1}]"#, at: eid(1)),
            statusChange("C1", "O-2", "cancelled", at: eid(2)),
        ])
        let plan = planner.plan(batch, states: [:], detectedAt: detectedAt)
        let hourKey = keys.statsHour(StatsPeriod.hour.number(of: t0))
        let skuKey = keys.statsSKUs(day: StatsPeriod.day.number(of: t0))
        #expect(hourKey == "stats:hour:2026-11-20T10")
        #expect(skuKey == "stats:skus:2026-11-20")
        let expected: [CommitCommand] = [
            .hincrby(key: hourKey, field: "events", by: 3), .hincrby(key: hourKey, field: "alerts_order_order", by: 1),
            .hincrby(key: hourKey, field: "orders_placed", by: 2), .hincrby(key: hourKey, field: "orders_flagged", by: 1),
            .hincrby(key: hourKey, field: "orders_cancelled", by: 1), .hincrby(key: hourKey, field: "cancelled_flagged", by: 1),
            .pexpire(key: hourKey, after: .seconds(3600)),
            .zincrby(key: skuKey, member: "MILK", by: 1), .ztrim(key: skuKey, keep: 10), .pexpire(key: skuKey, after: .seconds(3600))]
        #expect(commands(plan).filter { $0.keys.allSatisfy { $0.hasPrefix("stats:") } } == expected)
        // The flag that made the cancellation count is stored with the order.
        #expect(hsets(plan, of: keys.order("C1", "O-2")).first?["flagged"] == "1")
        #expect(hsets(plan, of: keys.order("C1", "O-1")).first?["flagged"] == nil)
    }

    @Test func withoutStatsNothingIsCounted() {
        let (_, plan) = run([orderPlaced("C1", "O-1", #"[{"sku":"MILK","qty":2}]"#, at: eid(0))])
        #expect(!commands(plan).contains { $0.keys.contains { $0.hasPrefix("stats:") } })
    }

    @Test func partitionStatsKeysShareThePartitionSlot() {
        let partition = KeySchema(partitionTag: "p3")
        #expect(partition.statsHour(0) == "stats:{p3}:hour:1970-01-01T00")
        #expect(partition.statsSKUs(day: 0) == "stats:{p3}:skus:1970-01-01")
        #expect(HashSlot(key: partition.statsHour(5)) == HashSlot(key: partition.cartStream))
        #expect(HashSlot(key: keys.feedbackStatsHour(0)) == HashSlot(key: keys.feedbackStream))
    }

    @Test func emptyBatchPlansNothing() {
        let (batch, plan) = run([])
        #expect(batch.items.isEmpty)
        #expect(plan.commit.isEmpty)
        #expect(plan.alerts.isEmpty)
        #expect(plan.states.isEmpty)
    }
}

/// `HSET key f v f v ...` as a dictionary.
private func hsetFields(_ args: [String]) -> [String: String] {
    var out: [String: String] = [:]
    var k = 2
    while k + 1 < args.count {
        out[args[k]] = args[k + 1]
        k += 2
    }
    return out
}
