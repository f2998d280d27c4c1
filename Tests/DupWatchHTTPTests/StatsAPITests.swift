import DupWatchHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

@Suite("GET /v1/stats: the workers' analytics, and feedback counted with its entry")
struct StatsAPITests {
    @Test func statsAnswerTheDrainedWeekAndFeedbackIsCountedWithItsEntry() async throws {
        let app = try APITestApp()
        let h = app.harness
        try h.order("O-1", customer: "c1", items: itemsJSON([("MILK", 2, nil)]), ts: "2026-11-20T09:00:00Z")
        try h.order("O-2", customer: "c1", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-23T09:00:00Z")
        try h.statusUpdate("O-2", customer: "c1", status: "cancelled", ts: "2026-11-23T10:00:00Z")
        try await h.drain()
        let alertID = try #require(try h.alerts().first?["alert_id"])

        try await app.test { client in
            let feedback = try await client.post("/v1/alerts/\(alertID)/feedback", key: TestKeys.ingest,
                                                  json: #"{"customer_id":"c1","action":"cancelled_order"}"#)
            #expect(feedback.status == .accepted, "\(feedback.text)")
            #expect((feedback.object["entry_id"] as? String)?.contains("-") == true)
            #expect(try h.xlen("stream:alerts:feedback") == 1)

            let stats = try await client.get("/v1/stats?since=2026-11-20&until=2026-11-24", key: TestKeys.read)
            #expect(stats.status == .ok, "\(stats.text)")
            let body = stats.object
            #expect(body["period"] as? String == "day")
            #expect(body["since"] as? String == "2026-11-20T00:00:00.000Z")
            let totals = try #require(body["totals"] as? [String: Int])
            #expect(totals["events"] == 3)
            #expect(totals["orders_placed"] == 2)
            #expect(totals["orders_flagged"] == 1)
            #expect(totals["alerts"] == 1)
            #expect(totals["orders_cancelled"] == 1)
            #expect(totals["cancelled_flagged"] == 1)
            // The feedback was given now, outside the range.
            #expect(totals["feedback_cancelled_order"] == 0)
            #expect((body["shares"] as? [String: Any])?["flagged_of_cancelled"] as? Double == 1.0)
            let series = try #require(body["series"] as? [[String: Any]])
            #expect(series.map { $0["start"] as? String } == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"])
            #expect(series.map { $0["orders_placed"] as? Int } == [1, 0, 0, 1])
            #expect((body["top_skus"] as? [[String: Any]])?.first?["sku"] as? String == "MILK")

            let today = try await client.get("/v1/stats?since=1d", key: TestKeys.read)
            #expect(today.status == .ok, "\(today.text)")
            #expect((today.object["totals"] as? [String: Int])?["feedback_cancelled_order"] == 1)
            #expect(today.object["period"] as? String == "hour")
        }
    }

    @Test func badRangesAre400AndAKeyIsNeeded() async throws {
        let app = try APITestApp()
        try await app.test { client in
            #expect(try await client.get("/v1/stats", key: nil).status == .unauthorized)
            let badSince = try await client.get("/v1/stats?since=yesterday", key: TestKeys.read)
            #expect(badSince.status == .badRequest)
            #expect(badSince.errorCode == "bad_since")
            let backwards = try await client.get("/v1/stats?since=2026-11-20&until=2026-11-10", key: TestKeys.read)
            #expect(backwards.errorCode == "bad_range")
            let badPeriod = try await client.get("/v1/stats?by=week", key: TestKeys.read)
            #expect(badPeriod.errorCode == "bad_period")
            let empty = try await client.get("/v1/stats", key: TestKeys.read)
            #expect(empty.status == .ok)
            #expect((empty.object["totals"] as? [String: Int])?["events"] == 0)
            #expect((empty.object["shares"] as? [String: Any])?["flagged_of_cancelled"] is NSNull)
        }
    }
}
