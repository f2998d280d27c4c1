import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch import orders` against real redis-servers and the real binary: the state it writes
/// is the worker's, a second run changes nothing, a resumed run ends where a whole one does, and
/// it never writes under a worker's lease.
@Suite("dupwatch import orders")
struct ImportTests {
    /// One order of the fixture.
    struct FixtureOrder {
        var id: String
        var customer: String
        var ts: String
        var status: String?
        var lines: [(sku: String, qty: Int, title: String?)]
    }

    /// Three customers; c1 has more orders than the last-N list holds, repeats SKUs (alerts for a
    /// worker, nothing for the import) and a SKU twice in one order; c2's title has a comma and
    /// quotes; c3 has a status.
    static let orders: [FixtureOrder] = [
        FixtureOrder(id: "O-1", customer: "c1", ts: "2026-01-01T10:00:00Z", lines: [("MILK", 2, "Organic Milk 1L"), ("BREAD", 1, nil)]),
        FixtureOrder(id: "O-2", customer: "c2", ts: "2026-01-01T11:00:00Z", lines: [("TEA", 1, "Tea, \"Earl Grey\"")]),
        FixtureOrder(id: "O-3", customer: "c1", ts: "2026-01-02T10:00:00Z", lines: [("MILK", 1, nil), ("EGGS", 6, "Eggs"), ("MILK", 3, "Milk again")]),
        FixtureOrder(id: "O-4", customer: "c3", ts: "2026-01-02T12:00:00Z", status: "delivered", lines: [("SOAP", 1, "Soap")]),
        FixtureOrder(id: "O-5", customer: "c1", ts: "2026-01-03T10:00:00Z", lines: [("BUTTER", 1, "Butter")]),
        FixtureOrder(id: "O-6", customer: "c1", ts: "2026-01-04T10:00:00Z", lines: [("MILK", 1, nil)]),
        FixtureOrder(id: "O-7", customer: "c2", ts: "2026-01-04T11:00:00Z", lines: [("TEA", 2, nil), ("CAKE", 1, "Cake")]),
        FixtureOrder(id: "O-8", customer: "c1", ts: "2026-01-05T10:00:00Z", lines: [("JAM", 1, "Jam")]),
        FixtureOrder(id: "O-9", customer: "c1", ts: "2026-01-06T10:00:00Z", lines: [("BREAD", 2, nil)]),
        FixtureOrder(id: "O-10", customer: "c1", ts: "2026-01-07T10:00:00Z", lines: [("MILK", 4, nil)]),
    ]

    static func csvCell(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// The fixture as CSV with the contract's column names, plus one bad row (`bad_qty`).
    static func csv(_ orders: [FixtureOrder] = orders, badRow: Bool = true) -> String {
        var text = "order_id,customer_id,sku,qty,title,ts,status\r\n"
        for order in orders {
            for line in order.lines {
                text += [order.id, order.customer, line.sku, String(line.qty), line.title ?? "", order.ts, order.status ?? ""]
                    .map(csvCell).joined(separator: ",") + "\r\n"
            }
            if badRow && order.id == "O-5" {
                text += "O-5,c1,SALT,lots,Salt,2026-01-03T10:00:00Z,\r\n"
            }
        }
        return text
    }

    static func items(_ lines: [(sku: String, qty: Int, title: String?)]) throws -> String {
        let objects: [[String: Any]] = lines.map { line in
            var object: [String: Any] = ["sku": line.sku, "qty": line.qty]
            if let title = line.title { object["title"] = title }
            return object
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Every key but the lease (whose holder names the run) and the streams, as type and value,
    /// with whether it has a TTL: what the state is, independent of how it was encoded.
    static func state(_ h: Harness) throws -> [String: String] {
        var out: [String: String] = [:]
        for key in try h.redis.command("KEYS", "*").array.map({ try $0.string }) where !key.hasPrefix("dupwatch:") {
            let type = try h.redis.command("TYPE", key).string
            let ttl = try h.redis.command("PTTL", key).int > 0 ? "ttl" : "no ttl"
            let value: String
            switch type {
            case "hash": value = try h.redis.command("HGETALL", key).stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
            case "list": value = try h.redis.command("LRANGE", key, "0", "-1").array.map { try $0.string }.joined(separator: ",")
            case "zset": value = try h.redis.command("ZRANGE", key, "0", "-1", "WITHSCORES").array.map { try $0.string }.joined(separator: ",")
            case "stream": continue
            default: value = "?"
            }
            out[key] = "\(type) \(ttl) \(value)"
        }
        return out
    }

    /// The DUMP of every key but the lease's.
    static func dump(_ h: Harness) throws -> [String: [UInt8]] {
        try h.snapshot().filter { !$0.key.hasPrefix("dupwatch:lease") }
    }

    @discardableResult
    func importOrders(_ h: Harness, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> ProcessResult {
        let result = try await h.runDupwatch(["import", "orders", "--redis-url", h.url] + args)
        #expect(result.exitedZero, "import failed: \(result)", sourceLocation: sourceLocation)
        return result
    }

    @Test func theImportWritesTheStateAWorkerWritesForTheSameOrders() async throws {
        let path = try TemporaryFiles.write("orders.csv", Self.csv())
        let imported = try Harness()
        let result = try await importOrders(imported, [path])
        #expect(result.stdout.hasPrefix("import rows=15 orders=10 cancellations=0 customers=3 rejected=1 "), "\(result.stdout)")
        let rejects = try String(contentsOfFile: path + ".rejects", encoding: .utf8)
        #expect(rejects.hasPrefix("10\tbad_qty: "), "\(rejects)")

        let worked = try Harness()
        for order in Self.orders {
            try worked.order(order.id, customer: order.customer, items: try Self.items(order.lines), ts: order.ts, status: order.status)
        }
        try await worked.drain()
        #expect(try worked.alerts().count > 0, "the fixture's repeats raise alerts for a worker")

        // The import raises no alerts and keeps no analytics (they count the live service).
        let expected = try Self.state(worked).filter { !$0.key.hasPrefix("alerts:") && !$0.key.hasPrefix("stats:") }
        #expect(expected.keys.contains("orders:{c1}") && expected.keys.contains("history:{c1}"))
        #expect(try Self.state(imported) == expected)
        // Nothing but state: no stream, no alert, no group.
        #expect(try imported.redis.command("EXISTS", "stream:alerts:duplicate", "stream:order:placed", "stream:deadletter").int == 0)
        #expect(try imported.redis.command("GET", "dupwatch:lease:dupwatch").optionalString?.hasPrefix("released:import-") == true)
    }

    @Test func aSecondImportChangesNothingAndGzipReadsAsPlain() async throws {
        let path = try TemporaryFiles.write("orders.csv", Self.csv())
        let h = try Harness()
        try await importOrders(h, [path])
        let first = try Self.dump(h)
        #expect(first.count > 0)
        let again = try await importOrders(h, [try TemporaryFiles.gzip(path), "--rejects", path + ".again"])
        #expect(again.stdout.hasPrefix("import rows=15 orders=10 "), "\(again.stdout)")
        #expect(try Self.dump(h) == first)
    }

    @Test func anImportResumedAfterItStoppedEndsWhereAWholeOneDoes() async throws {
        // A killed import has committed whole batches of the file's first part: the same as
        // importing that part alone. Then the whole file again.
        let whole = try TemporaryFiles.write("orders.csv", Self.csv())
        let part = try TemporaryFiles.write("part.csv", Self.csv(Array(Self.orders.prefix(6))))
        let resumed = try Harness()
        try await importOrders(resumed, [part, "--batch", "2"])
        try await importOrders(resumed, [whole, "--batch", "3"])
        let once = try Harness()
        try await importOrders(once, [whole])
        #expect(try Self.state(resumed) == Self.state(once))
    }

    @Test func jsonLinesImportLikeTheCSV() async throws {
        var lines = ""
        for order in Self.orders {
            var object: [String: Any] = ["order_id": order.id, "customer_id": order.customer, "ts": order.ts,
                                         "items": try JSONSerialization.jsonObject(with: Data(try Self.items(order.lines).utf8))]
            if let status = order.status { object["status"] = status }
            lines += String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
        }
        lines += "{\"order_id\":\"O-X\",\"customer_id\":\"c9\",\"items\":\"[]\",\"ts\":\"2026-01-01T00:00:00Z\"}\nnot json\n"
        let jsonl = try TemporaryFiles.write("orders.jsonl", lines)
        let fromJSON = try Harness()
        let result = try await importOrders(fromJSON, [jsonl, "--format", "jsonl"])
        #expect(result.stdout.hasPrefix("import rows=12 orders=10 cancellations=0 customers=3 rejected=2 "), "\(result.stdout)")
        let fromCSV = try Harness()
        try await importOrders(fromCSV, [try TemporaryFiles.write("orders.csv", Self.csv())])
        #expect(try Self.state(fromJSON) == Self.state(fromCSV))
    }

    @Test func itRefusesToRunWhileAWorkerHoldsTheLeaseAndWaitsWithWait() async throws {
        let path = try TemporaryFiles.write("orders.csv", Self.csv())
        let h = try Harness()
        _ = try h.redis.command("SET", "dupwatch:lease:dupwatch", "worker-1", "PX", "60000")
        let refused = try await h.runDupwatch(["import", "orders", "--redis-url", h.url, path])
        #expect(!refused.exitedZero)
        #expect(refused.stderr.contains("worker-1") && refused.stderr.contains("--wait"), "\(refused.stderr)")
        #expect(try h.redis.command("KEYS", "order:*").array.isEmpty)

        let waiting = try h.start(["import", "orders", "--redis-url", h.url, path, "--wait"])
        #expect(try await waiting.waitForStderr(timeout: 20) { $0.contains("waiting for worker-1") })
        #expect(try h.redis.command("KEYS", "order:*").array.isEmpty)
        // The worker stops cleanly.
        _ = try h.redis.command("SET", "dupwatch:lease:dupwatch", "released:worker-1", "PX", "60000")
        let done = try await waiting.wait(timeout: 30)
        #expect(done.exitedZero, "\(done)")
        #expect(try h.redis.command("EXISTS", "orders:{c1}").int == 1)
    }

    @Test func theOnlineRetailPresetKeepsRealCustomerIdsAndCancelsTheLatestEarlierOrder() async throws {
        let csv = """
            InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
            489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01T07:45:00,6.95,13085.0,United Kingdom
            489434,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,2009-12-01T07:45:00,2.1,13085.0,United Kingdom
            489435,22350,CAT BOWL ,12,2009-12-01T07:46:00,2.55,,United Kingdom
            489436,22041,"RECORD FRAME 7"" SINGLE SIZE ",6,2009-12-02T09:00:00,2.1,13085.0,United Kingdom
            A563185,B,Adjust bad debt,1,2011-08-12T14:50:00,11062.06,,United Kingdom
            C489449,22041,"RECORD FRAME 7"" SINGLE SIZE ",-6,2009-12-03T10:28:00,2.1,13085.0,United Kingdom
            C489450,99999,NOTHING BOUGHT,-1,2009-12-03T10:29:00,2.1,13085.0,United Kingdom

            """
        let path = try TemporaryFiles.gzip(try TemporaryFiles.write("retail.csv", csv))
        let h = try Harness()
        let result = try await importOrders(h, [path, "--preset", "online-retail"])
        #expect(result.stdout.hasPrefix("import rows=7 orders=2 cancellations=1 customers=1 rejected=3 "), "\(result.stdout)")
        let rejects = try String(contentsOfFile: path + ".rejects", encoding: .utf8)
        #expect(rejects.contains("4\tmissing_customer_id: "), "\(rejects)")
        #expect(rejects.contains("6\tnot_an_order: "), "\(rejects)")
        #expect(rejects.contains("8\tunknown_order: "), "\(rejects)")
        #expect(try h.redis.command("LRANGE", "orders:{13085}", "0", "-1").array.map { try $0.string } == ["489436", "489434"])
        #expect(try h.hash("order:{13085}:489436")["status"] == "cancelled")
        #expect(try h.hash("order:{13085}:489434")["status"] == "processing")

        // A new order of customer 13085 names its real last order.
        try h.order("O-NEW", customer: "13085", items: itemsJSON([("85048", 1, nil)]), ts: "2009-12-10T10:00:00Z")
        try await h.drain()
        let alerts = try h.alerts()
        #expect(alerts.count == 1 && alerts.first?["order_id"] == "489434" && alerts.first?["customer_id"] == "13085", "\(alerts)")

        // Today, as a new user tries it: an order pushed without ts (its entry's time) names the
        // real order still standing, and the day's report counts it (the import counted nothing).
        _ = try h.xadd(Streams.orderPlaced, [("order_id", "O-TODAY"), ("customer_id", "13085"),
                                              ("items", itemsJSON([("22041", 2, nil)]))])
        try await h.drain()
        let today = try h.alerts().last
        #expect(today?["trigger_id"] == "O-TODAY" && today?["order_id"] == "489434" && today?["order_date"] == "2009-12-01T07:45:00.000Z",
                "\(String(describing: today))")
        let report = try await h.cli(["report", "--since", "1d", "--json"])
        let body = try #require(try parseJSON(report.stdout) as? [String: Any])
        let totals = try #require(body["totals"] as? [String: Int])
        #expect(totals["orders_placed"] == 1 && totals["orders_flagged"] == 1 && totals["alerts"] == 1, "\(totals)")
        #expect((body["top_skus"] as? [[String: Any]])?.first?["sku"] as? String == "22041")
    }

    @Test func aCancellationReachesAnEarlierOrderOffTheLastNList() async throws {
        // Seven orders of customer 13085, one product each; the cancellation's product is only in
        // the first, which left the last-5 list four orders ago. Batches of 2 find it in Redis
        // (the history index), one batch in memory: both cancel it, and a second run changes nothing.
        var csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        for day in 1...7 {
            csv += "48940\(day),SKU-\(day),Thing \(day),1,2009-12-0\(day)T10:00:00,1.0,13085.0,United Kingdom\n"
        }
        csv += "C489410,SKU-1,Thing 1,-1,2009-12-08T10:00:00,1.0,13085.0,United Kingdom\n"
        let path = try TemporaryFiles.write("retail.csv", csv)
        var states: [[String: String]] = []
        for batch in ["2", "1000"] {
            let h = try Harness()
            let result = try await importOrders(h, [path, "--preset", "online-retail", "--batch", batch])
            #expect(result.stdout.hasPrefix("import rows=8 orders=7 cancellations=1 customers=1 rejected=0 "), "\(result.stdout)")
            #expect(try h.hash("order:{13085}:489401")["status"] == "cancelled")
            #expect(try h.hash("order:{13085}:489402")["status"] == "processing")
            let first = try Self.dump(h)
            try await importOrders(h, [path, "--preset", "online-retail", "--batch", batch])
            #expect(try Self.dump(h) == first)
            states.append(try Self.state(h))
        }
        #expect(states[0] == states[1])
    }
}
