import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("Read commands: cart, history, check")
struct ReadCommandTests {
    /// C10: orders O-1 (EGGS, MILK), O-2 (MILK, shipped), O-3 (BUTTER); cart MILK x2 and BREAD.
    private func customerWithHistory() async throws -> Harness {
        let h = try Harness()
        try h.order("O-1", customer: "C10", items: itemsJSON([("EGGS", 12, "Free-range Eggs"), ("MILK", 1, nil)]),
                    ts: "2026-11-01T08:00:00Z")
        try h.order("O-2", customer: "C10", items: itemsJSON([("MILK", 2, "Organic Milk 1L")]), ts: "2026-11-05T08:00:00Z")
        try h.statusUpdate("O-2", customer: "C10", status: "shipped", ts: "2026-11-06T08:00:00Z")
        try h.order("O-3", customer: "C10", items: itemsJSON([("BUTTER", 1, "Salted Butter")]), ts: "2026-11-10T08:00:00Z")
        try h.cartAdd("C10", sku: "MILK", qty: 2, title: "Organic Milk 1L", ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("C10", sku: "BREAD", qty: 1, title: "Sourdough Bread", ts: "2026-11-20T10:05:00Z")
        try await h.drain()
        return h
    }

    @Test func cartHistoryAndCheckShowTheStoredStateAndWriteNothing() async throws {
        let h = try await customerWithHistory()
        let keysBefore = try h.snapshot()
        let dbsizeBefore = try h.dbsize()
        let lengthsBefore = try Streams.all.map { try h.xlen($0) }

        // cart
        let cart = try #require(try parseJSON(try await h.cli(["cart", "C10", "--json"]).stdout) as? [String: Any])
        #expect(cart.string("customer_id") == "C10")
        #expect(cart.string("last_cart_event_at") == "2026-11-20T10:05:00.000Z")
        let lines = try #require(cart["lines"] as? [[String: Any]])
        #expect(lines.compactMap { $0.string("sku") } == ["MILK", "BREAD"], "cart: \(cart)")
        #expect(lines.first?.int("quantity") == 2)
        #expect(lines.first?.string("added_at") == "2026-11-20T10:00:00.000Z")
        #expect(lines.first?.string("title") == "Organic Milk 1L")
        #expect(lines.last?.int("quantity") == 1)
        let cartTable = try await h.cli(["cart", "C10"]).stdout
        for text in ["Cart of customer C10", "MILK", "Organic Milk 1L", "2026-11-20T10:00:00.000Z", "BREAD", "Sourdough Bread"] {
            #expect(cartTable.contains(text), "cart table lacks \(text):\n\(cartTable)")
        }

        // history --limit 2: the two newest orders, newest first
        let history = try #require(try parseJSON(try await h.cli(["history", "C10", "--json", "--limit", "2"]).stdout) as? [[String: Any]])
        #expect(history.compactMap { $0.string("order_id") } == ["O-3", "O-2"], "history: \(history)")
        #expect(history.first?.string("order_date") == "2026-11-10T08:00:00.000Z")
        #expect(history.first?.string("status") == "processing")
        #expect(history.last?.string("status") == "shipped")
        #expect(history.allSatisfy { $0["checked"] as? Bool == true })
        let items = history.last?["items"] as? [[String: Any]]
        #expect(items?.first?.string("sku") == "MILK")
        #expect(items?.first?.int("qty") == 2)
        let historyTable = try await h.cli(["history", "C10", "--limit", "2"]).stdout
        for text in ["O-3", "O-2", "shipped", "2026-11-05T08:00:00.000Z", "2 × Organic Milk 1L", "1 × Salted Butter"] {
            #expect(historyTable.contains(text), "history table lacks \(text):\n\(historyTable)")
        }
        #expect(!historyTable.contains("O-1"))

        // check: the newest non-cancelled order holding MILK is O-2
        let check = try #require(try parseJSON(
            try await h.cli(["check", "C10", "--items", #"[{"sku":"MILK","qty":1}]"#, "--json"]).stdout) as? [[String: Any]])
        #expect(check.count == 1, "check: \(check)")
        let alert = try #require(check.first)
        #expect(alert.string("sku") == "MILK")
        #expect(alert.string("match") == "order")
        #expect(alert.string("order_id") == "O-2")
        #expect(alert.string("order_status") == "shipped")
        #expect(alert.string("order_date") == "2026-11-05T08:00:00.000Z")
        #expect(alert.int("quantity") == 2)
        #expect(alert.string("message") == "You already ordered 2 × Organic Milk 1L on 2026-11-05 (order O-2, shipped).")
        let checkTable = try await h.cli(["check", "C10", "--items", #"[{"sku":"MILK","qty":1},{"sku":"JAM","qty":1}]"#]).stdout
        for text in ["MILK", "O-2", "2026-11-05", "shipped", "You already ordered 2 × Organic Milk 1L"] {
            #expect(checkTable.contains(text), "check table lacks \(text):\n\(checkTable)")
        }
        #expect(!checkTable.contains("JAM"))

        // None of it wrote anything.
        #expect(try h.dbsize() == dbsizeBefore)
        #expect(try Streams.all.map { try h.xlen($0) } == lengthsBefore)
        #expect(try h.snapshot() == keysBefore, "a read command changed a key")
        #expect(try h.redis.command("HGET", "cart:{C10}", "MILK").optionalString?.hasPrefix("!2|") == true, "2 units, alerted")
    }

    @Test func checkForACustomerWithoutHistorySaysNoDuplicates() async throws {
        let h = try await customerWithHistory()
        let dbsizeBefore = try h.dbsize()
        let table = try await h.cli(["check", "NEWBIE", "--items", #"[{"sku":"MILK","qty":1}]"#]).stdout
        #expect(table.contains("No duplicates"), "check output:\n\(table)")
        #expect(table.contains("NEWBIE"))
        let json = try parseJSON(try await h.cli(["check", "NEWBIE", "--items", #"[{"sku":"MILK","qty":1}]"#, "--json"]).stdout)
        #expect((json as? [Any])?.isEmpty == true, "check --json: \(json)")
        // C10 asking for something never ordered: no duplicates either.
        let other = try await h.cli(["check", "C10", "--items", #"[{"sku":"JAM","qty":1}]"#]).stdout
        #expect(other.contains("No duplicates"), "check output:\n\(other)")
        let cart = try await h.cli(["cart", "NEWBIE"]).stdout
        #expect(cart.contains("empty cart"), "cart output:\n\(cart)")
        let history = try await h.cli(["history", "NEWBIE"]).stdout
        #expect(history.contains("no stored orders"), "history output:\n\(history)")
        #expect(try h.dbsize() == dbsizeBefore)
    }

    /// The README's c42: O-1001 has MILK-1L with its title, the newer O-1002 without. The
    /// message a customer reads names the product, not the raw SKU.
    @Test func checkNamesTheProductByItsStoredTitleWhenTheMatchedLineHasNone() async throws {
        let h = try Harness()
        try h.order("O-1001", customer: "c42", items: itemsJSON([("MILK-1L", 2, "Organic Milk 1L"), ("BREAD", 1, "Bread")]),
                    ts: "2026-11-20T19:00:00Z")
        try h.order("O-1002", customer: "c42", items: itemsJSON([("MILK-1L", 1, nil)]), ts: "2026-11-23T09:00:00Z")
        try await h.drain()
        let table = try await h.cli(["check", "c42", "--items", #"[{"sku":"MILK-1L","qty":1}]"#]).stdout
        #expect(table.contains("You already ordered 1 × Organic Milk 1L on 2026-11-23 (order O-1002, processing)."), "\(table)")
        #expect(!table.contains("× MILK-1L"), "\(table)")
    }

    @Test func unknownLogLevelsAndMalformedDurationsAreUsageErrors() async throws {
        let h = try Harness()
        let level = try await h.runDupwatch(["worker", "--redis-url", h.url, "--log-level", "verbose", "--drain"])
        #expect(level.status == 64 && !level.signaled, "\(level)")
        #expect(level.stderr.contains("verbose") && level.stderr.contains("warning"), "\(level)")
        let gap = try await h.runDupwatch(["worker", "--redis-url", h.url, "--cart-gap", "4 hours", "--drain"])
        #expect(gap.status == 64 && gap.stderr.contains("--cart-gap"), "\(gap)")
        #expect(try h.dbsize() == 0, "a rejected command line reached Redis")
    }

    /// jemalloc is an allocator chosen at run time (scripts/run.sh preloads it), never a
    /// library the build must find.
    @Test func theDupwatchExecutableDoesNotLinkJemalloc() throws {
        let executable = try ProductLocator.executable(named: "dupwatch")
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [executable]
        let pipe = Pipe()
        ldd.standardOutput = pipe
        try ldd.run()
        let libraries = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ldd.waitUntilExit()
        #expect(libraries.contains("libhiredis"), "\(libraries)")
        #expect(!libraries.contains("jemalloc"), "\(libraries)")
    }

    @Test func checkRejectsItemsThatAreNotOrderLines() async throws {
        let h = try Harness()
        let result = try await h.runDupwatch(["check", "C1", "--items", "MILK", "--redis-url", h.url])
        #expect(!result.exitedZero)
        #expect(result.stderr.contains("bad_items"), "\(result)")
        #expect(try h.dbsize() == 0)
    }
}
