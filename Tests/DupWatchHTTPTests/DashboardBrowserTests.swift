import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The analytics dashboard in a real browser: a throwaway redis-server, the real `dupwatch
/// worker --drain` over a known week of events, a real `dupwatch serve`, one feedback through
/// the API, then Tests/Browser/dashboard_page_test.py reads what headless Chromium drew.
/// `DUPWATCH_DASHBOARD_SCREENSHOT=/path.png` keeps its screenshot (docs/dashboard.png is one).
@Suite("Dashboard page in headless Chromium")
struct DashboardBrowserTests {
    static let apiKey = "dashboard-browser-test-key-77d2"

    @Test(.timeLimit(.minutes(5)))
    func theDashboardShowsWhatTheWorkerCounted() async throws {
        let browser: BrowserTools
        do {
            browser = try BrowserTools.locate(script: "dashboard_page_test.py")
        } catch {
            Issue.record("\(error)")
            return
        }
        let h = try Harness()
        let day: Int64 = 86_400_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func ts(_ daysAgo: Int64, _ minutes: Int64 = 0) -> String { String(now - daysAgo * day + minutes * 60_000) }
        // C1 reorders MILK (flagged) and cancels that order; C2 reorders TEA, keeps it, and
        // after a cart warning on TEA removes it from the cart; C3 orders once and cancels.
        try h.order("O-1", customer: "C1", items: itemsJSON([("MILK", 2, "Milk")]), ts: ts(5))
        try h.order("O-2", customer: "C1", items: itemsJSON([("MILK", 1, "Milk"), ("EGGS", 6, nil)]), ts: ts(3))
        try h.statusUpdate("O-2", customer: "C1", status: "cancelled", ts: ts(3, 30))
        try h.order("O-3", customer: "C2", items: itemsJSON([("TEA", 1, nil)]), ts: ts(4))
        try h.order("O-4", customer: "C2", items: itemsJSON([("TEA", 1, nil)]), ts: ts(2))
        try h.cartAdd("C2", sku: "TEA", ts: ts(1))
        try h.xadd(Streams.cart, [("type", "remove"), ("customer_id", "C2"), ("sku", "TEA"), ("ts", ts(1, 5))])
        try h.order("O-5", customer: "C3", items: itemsJSON([("BREAD", 1, nil)]), ts: ts(2))
        try h.statusUpdate("O-5", customer: "C3", status: "cancelled", ts: ts(1))
        try await h.drain()
        #expect(try h.alerts().count == 3, "MILK in O-2, TEA in O-4, TEA in C2's cart")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-dash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/api-keys"
        try "\(Self.apiKey) read,ingest\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let port = try RedisTestServer.freeLoopbackPort()
        let server = try h.start(["serve", "--host", "127.0.0.1", "--port", String(port), "--api-keys", keyFile, "--redis-url", h.url])
        defer { server.signal(SIGTERM) }
        let ready = try await DemoPageBrowserTests.waitUntilReady(port: port, timeout: 30) { server.isRunning }
        try #require(ready, "dupwatch serve did not become ready\n\(server.stderrSoFar)")

        let alertID = try #require(try h.alerts().first { $0["customer_id"] == "C2" && $0["trigger"] == "cart" }?["alert_id"])
        let feedback = try LoopbackHTTP.request(port: port, "POST", "/v1/alerts/\(alertID)/feedback",
                                                headers: ["Authorization": "Bearer \(Self.apiKey)", "Content-Type": "application/json"],
                                                body: #"{"customer_id":"C2","action":"removed_item"}"#)
        #expect(feedback.status == 202, "\(feedback)")

        let run = try await browser.runScript(arguments: ["--url", "http://127.0.0.1:\(port)/dashboard#key=\(Self.apiKey)&range=7d",
                                                          "--screenshot", ProcessInfo.processInfo.environment["DUPWATCH_DASHBOARD_SCREENSHOT"] ?? directory + "/dashboard.png", "--timeout", "45"],
                                              outputDirectory: directory, timeout: 180)
        try #require(run.status == 0, "dashboard_page_test.py failed: \(run)\n\(server.stderrSoFar)")
        let line = try #require(run.stdout.split(separator: "\n").last { $0.hasPrefix("dashboard test passed: ") })
        let summary = try #require(try parseJSON(String(line.dropFirst("dashboard test passed: ".count))) as? [String: Any])

        #expect(summary.int("alerts") == 3)
        #expect(summary.int("orders") == 5)
        #expect(summary.string("cancelled_share") == "50.0%", "O-2 was flagged, O-5 was not")
        #expect(summary.string("cancelled_detail") == "1 of 2 cancelled orders")
        #expect(summary.string("removed_share") == "100.0%", "C2 removed the TEA it was warned about")
        #expect(summary.string("period") == "day")
        let series = try #require(summary["series_totals"] as? [String: Int])
        #expect(series == ["orders_placed": 5, "alerts": 3, "orders_cancelled": 2], "the bars sum to the totals")
        #expect((summary.int("series_points") ?? 0) >= 7, "one group of bars per day of the range")
        let skus = try #require(summary["top_skus"] as? [[Any]])
        #expect(skus.first?.first as? String == "TEA" && skus.first?.last as? Int == 2, "\(skus)")
        #expect(skus.dropFirst().first?.first as? String == "MILK", "\(skus)")
        let outcomes = try #require(summary["outcomes"] as? [String: Int])
        #expect(outcomes == ["kept both": 0, "removed item": 1, "cancelled order": 0, "dismissed": 0])
    }
}
