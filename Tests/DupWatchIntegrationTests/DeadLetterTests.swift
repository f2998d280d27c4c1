import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("Dead letters and the admin commands")
struct DeadLetterTests {
    // MARK: 5

    @Test func invalidEntriesAreDeadLetteredWithReasonAndPayloadWhileValidOnesAroundThemAreProcessed() async throws {
        let h = try Harness()
        typealias Fields = [(String, String)]
        let noCustomer: Fields = [("type", "add"), ("sku", "MILK"), ("qty", "1"), ("ts", "2026-11-21T10:00:00Z")]
        let badQty: Fields = [("type", "add"), ("customer_id", "C8"), ("sku", "MILK"), ("qty", "abc"), ("ts", "2026-11-21T11:00:00Z")]
        let badItems: Fields = [("order_id", "O-X"), ("customer_id", "C9"), ("items", "MILK x2, BREAD"), ("ts", "2026-11-21T12:00:00Z")]
        let emptyish: Fields = [("", "")]

        let firstAdd = try h.cartAdd("C8", sku: "MILK", qty: 1, title: "Organic Milk 1L", ts: "2026-11-20T10:00:00Z")
        try h.order("O-1", customer: "C9", items: itemsJSON([("MILK", 2, nil)]), ts: "2026-11-20T10:00:00Z")
        let bad: [(stream: String, fields: Fields, code: String)] = [
            (Streams.cart, noCustomer, "missing_customer_id"),
            (Streams.cart, badQty, "bad_qty"),
            (Streams.orderPlaced, badItems, "bad_items"),
            (Streams.cart, emptyish, "missing_type"),
        ]
        var badIDs: [String] = []
        for entry in bad { badIDs.append(try h.xadd(entry.stream, entry.fields)) }
        let secondAdd = try h.cartAdd("C8", sku: "MILK", qty: 1, title: "Organic Milk 1L", ts: "2026-11-23T10:00:00Z")
        try h.order("O-2", customer: "C9", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-23T10:00:00Z")

        let result = try await h.drain()
        #expect(result.exitedZero)

        let deadLetters = try h.deadLetters()
        #expect(deadLetters.count == bad.count, "dead letters: \(deadLetters)")
        for (index, entry) in bad.enumerated() {
            guard let letter = deadLetters.first(where: { $0["source_id"] == badIDs[index] && $0["source_stream"] == entry.stream }) else {
                Issue.record("entry \(badIDs[index]) (\(entry.code)) was not dead-lettered; dead letters: \(deadLetters)")
                continue
            }
            #expect(letter["source_stream"] == entry.stream)
            #expect(letter["reason"]?.hasPrefix(entry.code + ":") == true, "expected \(entry.code), got \(letter["reason"] ?? "nil")")
            let payload = try #require(letter["payload"])
            let decoded = try parseJSON(payload) as? [String: Any]
            var expected: [String: String] = [:]
            for (name, value) in entry.fields { expected[name] = value }
            #expect(decoded?.mapValues { $0 as? String } == expected.mapValues { Optional($0) }, "payload \(payload)")
        }
        #expect(deadLetters.first { $0["source_id"] == badIDs[1] && $0["source_stream"] == Streams.cart }?["reason"]?.contains("abc") == true)

        // The valid entries around the bad ones were processed as usual.
        let alerts = try h.alerts()
        #expect(alerts.contains { $0["trigger_id"] == secondAdd && $0["match"] == "cart" && $0["quantity"] == "1" }, "alerts: \(alerts)")
        #expect(alerts.contains { $0["trigger_id"] == "O-2" && $0["order_id"] == "O-1" && $0["quantity"] == "2" }, "alerts: \(alerts)")
        #expect(alerts.count == 2)
        #expect(!alerts.contains { $0["trigger_id"] == firstAdd })
        // The rejected add changed nothing.
        // 2 units, marked as alerted by the second add (the leading "!").
        #expect(try h.redis.command("HGET", "cart:{C8}", "MILK").optionalString?.hasPrefix("!2|") == true)
        #expect(try h.redis.command("EXISTS", "order:{C9}:O-X").int == 0)

        // Everything acked.
        for stream in Streams.inputs {
            #expect(try h.pending(stream) == 0, "\(stream) pending")
            #expect(try h.lag(stream) == 0, "\(stream) lag")
        }
    }

    // MARK: 7

    @Test func statusDeadletterListReplayAndDrop() async throws {
        let h = try Harness()
        let badQty: [(String, String)] = [("type", "add"), ("customer_id", "C11"), ("sku", "MILK"), ("qty", "abc"),
                                          ("ts", "2026-11-21T11:00:00Z")]
        try h.cartAdd("C11", sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
        let badQtyID = try h.xadd(Streams.cart, badQty)
        try h.cartAdd("C11", sku: "MILK", qty: 1, ts: "2026-11-23T10:00:00Z")
        try h.order("O-1", customer: "C11", items: itemsJSON([("EGGS", 6, nil)]), ts: "2026-11-20T10:00:00Z")
        let badItemsID = try h.xadd(Streams.orderPlaced, [("order_id", "O-2"), ("customer_id", "C11"), ("items", "[]"),
                                                         ("ts", "2026-11-22T10:00:00Z")])
        try h.statusUpdate("O-1", customer: "C11", status: "shipped", ts: "2026-11-21T10:00:00Z")
        try await h.drain()
        let alertCount = try h.xlen(Streams.alerts)
        #expect(alertCount == 1)

        // status --json
        let status = try #require(try parseJSON(try await h.cli(["status", "--json"]).stdout) as? [String: Any])
        #expect(status.string("group") == "dupwatch")
        #expect(status["owner"] == nil, "no worker runs, so nobody owns the streams: \(status)")
        #expect(status.string("released_by") != nil, "the last worker stopped cleanly and released the lease: \(status)")
        #expect(status.int("deadletters") == 2)
        #expect(status.int("alerts") == alertCount)
        let rows = try #require(status["streams"] as? [[String: Any]])
        #expect(rows.compactMap { $0.string("stream") } == Streams.inputs)
        let expectedLengths = [Streams.cart: 3, Streams.orderPlaced: 2, Streams.orderStatus: 1]
        for row in rows {
            let stream = row.string("stream") ?? "?"
            #expect(row.int("length") == expectedLengths[stream], "\(stream): \(row)")
            #expect(row.int("lag") == 0, "\(stream): \(row)")
            #expect(row.string("committed_id") == (try h.entries(stream).last?.id), "\(stream): \(row)")
            // Always empty by design: not shown.
            #expect(row["pending"] == nil && row["consumers"] == nil, "\(stream): \(row)")
        }
        let statusTable = try await h.cli(["status"]).stdout
        #expect(statusTable.contains(Streams.cart))
        #expect(statusTable.contains("2 dead letters"), "status table:\n\(statusTable)")

        // deadletter list --json (newest first)
        let list = try #require(try parseJSON(try await h.cli(["deadletter", "list", "--json"]).stdout) as? [[String: Any]])
        #expect(list.compactMap { $0.string("source_id") } == [badItemsID, badQtyID], "list: \(list)")
        let qtyLetter = try #require(list.first { $0.string("source_id") == badQtyID && $0.string("source_stream") == Streams.cart })
        let itemsLetter = try #require(list.first { $0.string("source_id") == badItemsID && $0.string("source_stream") == Streams.orderPlaced })
        let qtyLetterID = try #require(qtyLetter.string("id"))
        let itemsLetterID = try #require(itemsLetter.string("id"))
        let qtyReason = try #require(qtyLetter.string("reason"))
        #expect(qtyReason.hasPrefix("bad_qty:"))
        #expect(qtyLetter.string("source_stream") == Streams.cart)
        #expect(itemsLetter.string("reason")?.hasPrefix("bad_items:") == true)
        #expect(itemsLetter.string("source_stream") == Streams.orderPlaced)
        // The payload is the original entry as an object, not a string to parse a second time.
        let nested = try #require(qtyLetter["payload"] as? [String: Any], "payload is not an object: \(qtyLetter)")
        #expect(nested.mapValues { $0 as? String } == Dictionary(badQty, uniquingKeysWith: { a, _ in a }).mapValues { Optional($0) })
        let listTable = try await h.cli(["deadletter", "list"]).stdout
        #expect(listTable.contains(qtyLetterID) && listTable.contains("bad_qty") && listTable.contains("bad_items"), "list table:\n\(listTable)")

        // replay: back into its source stream with the same fields, gone from the dead letters...
        let replay = try await h.cli(["deadletter", "replay", qtyLetterID])
        #expect(replay.stdout.contains("replayed dead letter \(qtyLetterID) into \(Streams.cart)"), "replay: \(replay)")
        #expect(try h.xlen(Streams.deadLetter) == 1)
        let cartEntries = try h.entries(Streams.cart)
        #expect(cartEntries.count == 4)
        let replayed = try #require(cartEntries.last)
        #expect(replay.stdout.contains(replayed.id))
        #expect(try h.redis.send(RedisCommand("XRANGE", Streams.cart, replayed.id, replayed.id), decode: StreamCommands.decodeEntries).first?
            .fields?.map { "\($0.nameString)=\($0.valueString)" }.sorted() == badQty.map { "\($0.0)=\($0.1)" }.sorted())

        // ...and, nothing being fixed, dead-lettered again with the same reason on the next drain.
        try await h.drain()
        let again = try h.deadLetters()
        #expect(again.count == 2)
        let relettered = again.first { $0["source_id"] == replayed.id && $0["source_stream"] == Streams.cart }
        #expect(relettered?["reason"] == qtyReason, "dead letters: \(again)")
        #expect(relettered?["source_stream"] == Streams.cart)
        #expect(try h.xlen(Streams.alerts) == alertCount)

        // drop: gone from the stream.
        let drop = try await h.cli(["deadletter", "drop", itemsLetterID])
        #expect(drop.stdout.contains("dropped dead letter \(itemsLetterID)"))
        #expect(try h.redis.command("XRANGE", Streams.deadLetter, itemsLetterID, itemsLetterID).array.isEmpty)
        #expect(try h.deadLetters().map { $0["source_id"] } == [replayed.id])
        let dropAgain = try await h.runDupwatch(["deadletter", "drop", itemsLetterID, "--redis-url", h.url])
        #expect(dropAgain.status == 1 && !dropAgain.signaled, "\(dropAgain)")
        #expect(dropAgain.stderr.contains("no dead letter with id \(itemsLetterID)"), "\(dropAgain)")
        #expect(!dropAgain.stderr.contains("USAGE"), "a usage text after a clear error: \(dropAgain)")

        let after = try #require(try parseJSON(try await h.cli(["status", "--json"]).stdout) as? [String: Any])
        #expect(after.int("deadletters") == 1)
        #expect((after["streams"] as? [[String: Any]])?.allSatisfy { $0.int("lag") == 0 } == true)
    }

    // MARK: Crash loops

    /// Every attempt at the committed position that never committed is counted in
    /// `dupwatch:attempts:<group>` (a worker that dies on an entry leaves it one higher). Four
    /// crashed workers before it: the fifth attempt (--max-deliveries 5) dead-letters the head
    /// entry and goes on.
    @Test func theHeadEntryOfMaxDeliveriesResumesWithoutACommitIsDeadLetteredAndTheRestApplied() async throws {
        let h = try Harness()
        let poison = try h.cartAdd("P1", sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("P2", sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("P2", sku: "MILK", qty: 1, ts: "2026-11-23T10:00:00Z")
        _ = try h.redis.command("SET", "dupwatch:attempts:dupwatch", "4")

        let result = try await h.drain(["--max-deliveries", "5"])
        #expect(result.stderr.contains("attempt 5 since the last commit"), "\(result.stderr.suffix(600))")
        let letters = try h.deadLetters()
        #expect(letters.count == 1, "\(letters)")
        #expect(letters.first?["source_id"] == poison)
        #expect(letters.first?["reason"]?.hasPrefix("max_deliveries: ") == true, "\(letters)")
        #expect(letters.first?["deliveries"] == "5")
        #expect(try h.redis.command("EXISTS", "cart:{P1}").int == 0, "the given-up entry was applied")
        #expect(try h.alerts().map { $0["customer_id"] } == ["P2"], "the entries after it were not applied")
        #expect(try h.redis.command("EXISTS", "dupwatch:attempts:dupwatch").int == 0, "a commit must clear the count")
    }

    /// From the second attempt without a commit the head entry is processed alone, so an entry
    /// that crashes the worker cannot take a whole batch towards the dead-letter stream.
    @Test func aSecondResumeWithoutACommitProcessesTheHeadEntryAloneThenFullBatches() async throws {
        let h = try Harness()
        for day in 20...24 { try h.cartAdd("Q", sku: "MILK", qty: 1, ts: "2026-11-\(day)T10:00:00Z") }
        _ = try h.redis.command("SET", "dupwatch:attempts:dupwatch", "1")

        let result = try await h.drain(["--log-level", "debug"])
        #expect(result.stderr.contains("attempt 2 since the last commit: the next entry is processed alone"), "\(result.stderr.suffix(600))")
        let batches = result.stderr.split(separator: "\n").filter { $0.contains("batch committed") }
        #expect(batches.count == 2, "one batch of the head entry, then one of the rest: \(batches)")
        #expect(batches.first?.contains("batch.entries=1") == true, "\(batches)")
        #expect(try h.xlen(Streams.deadLetter) == 0)
        let alerts = try h.alerts()
        #expect(alerts.count == 4, "each add a day after the last one is a duplicate: \(alerts)")
        #expect(try h.redis.command("EXISTS", "dupwatch:attempts:dupwatch").int == 0)
    }

    /// Restarts with nothing to do are not attempts: only work that was started and never
    /// committed counts towards --max-deliveries.
    @Test func idleRestartsDoNotCountTowardsMaxDeliveries() async throws {
        let h = try Harness()
        for _ in 0..<4 { try await h.drain(["--max-deliveries", "2"]) }
        #expect(try h.redis.command("EXISTS", "dupwatch:attempts:dupwatch").int == 0)
        try h.cartAdd("R1", sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
        let result = try await h.drain(["--max-deliveries", "2"])
        #expect(!result.stderr.contains("processed alone"), "\(result.stderr.suffix(400))")
        #expect(try h.xlen(Streams.deadLetter) == 0)
        #expect(try h.redis.command("HGET", "cart:{R1}", "MILK").optionalString?.hasPrefix("1|") == true)
        #expect(try h.redis.command("EXISTS", "dupwatch:attempts:dupwatch").int == 0)
    }
}
