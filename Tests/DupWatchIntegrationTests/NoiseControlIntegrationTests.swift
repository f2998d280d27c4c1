import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Quiet SKUs and `--repeat-count` through the real binaries: the worker, `check` and `serve`.
@Suite("Noise controls end to end (--quiet-skus, --repeat-count)")
struct NoiseControlIntegrationTests {
    /// Three orders of one customer, each with postage: MILK in all three, BREAD in the last two.
    private func pushOrders(_ h: Harness) throws {
        try h.order("O-1", customer: "c9", items: itemsJSON([("MILK", 1, "Milk"), ("POST", 1, "POSTAGE")]), ts: "2026-11-01T10:00:00Z")
        try h.order("O-2", customer: "c9", items: itemsJSON([("MILK", 2, "Milk"), ("BREAD", 1, "Bread"), ("POST", 1, nil)]),
                    ts: "2026-11-02T10:00:00Z")
        try h.order("O-3", customer: "c9", items: itemsJSON([("POST", 1, nil), ("MILK", 1, nil), ("BREAD", 1, nil)]),
                    ts: "2026-11-03T10:00:00Z")
    }

    private static let classicFields: Set<String> = ["alert_id", "customer_id", "sku", "title", "trigger", "trigger_id", "match",
                                                     "quantity", "order_id", "order_date", "order_status", "detected_at", "message"]

    @Test func aQuietSKURaisesNothingWhileTheOthersInTheOrderDoAndRepeatCountCounts() async throws {
        let h = try Harness()
        try pushOrders(h)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("quiet-skus")
        try "# postage and fees\nPOST\r\nBANK CHARGES\n".write(to: file, atomically: true, encoding: .utf8)
        try await h.drain(["--quiet-skus-file", file.path, "--quiet-skus", "D, M", "--repeat-count"])

        let alerts = try h.alerts()
        #expect(alerts.map { $0["sku"] } == ["MILK", "MILK", "BREAD"], "\(alerts)")
        #expect(alerts.map { $0["trigger_id"] } == ["O-2", "O-3", "O-3"])
        #expect(alerts.map { $0["order_id"] } == ["O-1", "O-2", "O-2"])
        // MILK: in O-1 when O-2 came; in O-2 and O-1 when O-3 came. BREAD: in O-2 only.
        #expect(alerts.map { $0["repeat_count"] } == ["1", "2", "1"])
        #expect(alerts.allSatisfy { Set($0.keys) == Self.classicFields.union(["repeat_count"]) }, "\(alerts)")

        // POST is stored as any other line.
        let history = try #require(try parseJSON(try await h.cli(["history", "c9", "--json"]).stdout) as? [[String: Any]])
        let newest = try #require(history.first)
        #expect(newest.string("order_id") == "O-3")
        #expect((newest["items"] as? [[String: Any]])?.compactMap { $0.string("sku") } == ["POST", "MILK", "BREAD"])

        // The customer's alert index (what GET /alerts and live alerts serve): a JSON number.
        let index = try h.redis.command("ZRANGE", "alerts:{c9}", "0", "-1").array.map { try $0.string }
        #expect(index.count == 3)
        let counts = try index.map { try #require(try parseJSON($0) as? [String: Any]).int("repeat_count") }
        #expect(counts.compactMap { $0 }.sorted() == [1, 1, 2], "\(index)")

        // A check with the same options answers what the worker would alert; the variables work too.
        let items = itemsJSON([("POST", 1, nil), ("MILK", 1, nil), ("EGGS", 1, nil)])
        let checked = try await h.runDupwatch(["check", "c9", "--items", items, "--json", "--redis-url", h.url],
                                              env: ["DUPWATCH_QUIET_SKUS": "POST", "DUPWATCH_REPEAT_COUNT": "1"])
        #expect(checked.exitedZero, "\(checked)")
        let answer = try #require(try parseJSON(checked.stdout) as? [[String: Any]])
        #expect(answer.compactMap { $0.string("sku") } == ["MILK"], "\(checked.stdout)")
        #expect(answer.first?.string("order_id") == "O-3")
        #expect(answer.first?.int("repeat_count") == 3)
        #expect(answer.first?["repeat_count"] is NSNumber, "\(checked.stdout)")

        // Without them the check alerts on postage and has no count.
        let plain = try #require(try parseJSON(try await h.cli(["check", "c9", "--items", items, "--json"]).stdout) as? [[String: Any]])
        #expect(plain.compactMap { $0.string("sku") } == ["POST", "MILK"])
        #expect(plain.allSatisfy { $0["repeat_count"] == nil })

        // The table says which SKUs were quiet and shows the count.
        let table = try await h.cli(["check", "c9", "--items", items, "--quiet-skus", "POST", "--repeat-count"]).stdout
        #expect(table.contains("IN LAST 5") && table.contains("Quiet SKUs never alert: POST."), "\(table)")
    }

    /// Without the options the worker's alerts are as they always were: postage alerts, and no
    /// `repeat_count` field.
    @Test func byDefaultNothingIsQuietAndAlertsHaveNoRepeatCount() async throws {
        let h = try Harness()
        try pushOrders(h)
        try await h.drain()
        let alerts = try h.alerts()
        #expect(alerts.map { $0["sku"] } == ["MILK", "POST", "POST", "MILK", "BREAD"], "\(alerts)")
        #expect(alerts.allSatisfy { $0["repeat_count"] == nil }, "\(alerts)")
        #expect(alerts.allSatisfy { Self.classicFields.isSuperset(of: $0.keys) }, "\(alerts)")
        let index = try h.redis.command("ZRANGE", "alerts:{c9}", "0", "-1").array.map { try $0.string }
        #expect(index.count == 5 && index.allSatisfy { !$0.contains("repeat_count") }, "\(index)")
    }

    /// `serve` takes the same options for its checks; the alerts it serves are the worker's.
    @Test func serveChecksWithTheSameOptions() async throws {
        let h = try Harness()
        try pushOrders(h)
        try await h.drain(["--quiet-skus", "POST", "--repeat-count"])
        let key = "noise-test-key-0123456789"
        let port = try RedisTestServer.freeLoopbackPort()
        let serve = try h.start(["serve", "--redis-url", h.url, "--port", String(port), "--quiet-skus", "POST", "--repeat-count"],
                                env: ["DUPWATCH_API_KEYS": "\(key) read"])
        defer { serve.signal(SIGTERM) }
        let ready = try await h.eventually(timeout: 30) {
            (try? LoopbackHTTP.request(port: port, "GET", "/readyz"))?.status == 200
        }
        #expect(ready, "serve did not become ready: \(serve.stderrSoFar)")
        let auth = ["Authorization": "Bearer \(key)"]

        let check = try LoopbackHTTP.request(port: port, "POST", "/v1/customers/c9/check", headers: auth,
                                             body: #"{"items":[{"sku":"POST","qty":1},{"sku":"BREAD","qty":1}]}"#)
        #expect(check.status == 200, "\(check)")
        let checked = try #require(try parseJSON(check.body) as? [String: Any])
        let checkAlerts = try #require(checked["alerts"] as? [[String: Any]], "\(check)")
        #expect(checkAlerts.compactMap { $0.string("sku") } == ["BREAD"], "\(check)")
        #expect(checkAlerts.first?.int("repeat_count") == 2, "\(check)")

        let served = try LoopbackHTTP.request(port: port, "GET", "/v1/customers/c9/alerts", headers: auth)
        #expect(served.status == 200, "\(served)")
        let object = try #require(try parseJSON(served.body) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]], "\(served)")
        #expect(alerts.compactMap { $0.int("repeat_count") }.sorted() == [1, 1, 2], "\(served)")

        serve.signal(SIGTERM)
        #expect(try await serve.wait(timeout: 20).exitedZero)
    }

    @Test func anUnreadableFileOrAnInvalidSKUIsAUsageError() async throws {
        let h = try Harness()
        let cases: [(args: [String], env: [String: String], says: String)] = [
            (["worker", "--drain", "--quiet-skus-file", "/nonexistent/quiet"], [:], "cannot read the quiet SKU file /nonexistent/quiet"),
            (["check", "c1", "--items", #"[{"sku":"A","qty":1}]"#], ["DUPWATCH_QUIET_SKUS_FILE": "/nonexistent/q"],
             "cannot read the quiet SKU file /nonexistent/q"),
            (["worker", "--drain"], ["DUPWATCH_QUIET_SKUS": "POST,\(String(repeating: "x", count: 129))"],
             "DUPWATCH_QUIET_SKUS=POST,"),
            (["worker", "--drain"], ["DUPWATCH_REPEAT_COUNT": "maybe"], "DUPWATCH_REPEAT_COUNT=maybe: not a flag value"),
        ]
        for (args, env, says) in cases {
            let result = try await h.runDupwatch(args + ["--redis-url", h.url], env: env, timeout: 30)
            #expect(result.status == 64 && !result.signaled && result.stderr.contains(says), "\(args) \(env): \(result)")
        }
        #expect(try h.dbsize() == 0, "a rejected configuration reached Redis")
    }
}
