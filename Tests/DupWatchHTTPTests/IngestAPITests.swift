import DupWatchHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

@Suite("POST /v1 events: the worker's rules, the input streams")
struct IngestAPITests {
    @Test func anAcceptedEventIsInItsInputStreamUnderTheAnsweredID() async throws {
        let app = try APITestApp()
        let harness = app.harness
        try await app.test { client in
            let cart = try await client.post("/v1/cart-events", key: TestKeys.ingest, json: """
                {"type":"add","customer_id":"c42","sku":"MILK-1L","qty":2,"title":"Organic Milk 1L",
                 "ts":"2026-11-20T18:30:00Z","event_id":"web-1"}
                """)
            #expect(cart.status == .accepted, "\(cart.text)")
            let id = try #require(cart.object["entry_id"] as? String)
            #expect(cart.object["stream"] as? String == Streams.cart)
            let stored = try harness.redis.command("XRANGE", Streams.cart, id, id).array
            let fields = try #require(stored.first?.array[1].array.map { try $0.string })
            #expect(fields == ["type", "add", "customer_id", "c42", "sku", "MILK-1L", "qty", "2", "title", "Organic Milk 1L",
                               "ts", "2026-11-20T18:30:00Z", "event_id", "web-1"])

            let order = try await client.post("/v1/orders", key: TestKeys.ingest, json: """
                {"order_id":"O-1","customer_id":"c42","items":[{"sku":"MILK-1L","qty":2}]}
                """)
            #expect(order.status == .accepted && order.object["stream"] as? String == Streams.orderPlaced, "\(order.text)")
            let items = try harness.redis.command("XREVRANGE", Streams.orderPlaced, "+", "-", "COUNT", "1").array[0].array[1].array
            // The items go to the stream exactly as the client wrote them.
            #expect(try items.map { try $0.string }.contains(#"[{"sku":"MILK-1L","qty":2}]"#))

            let status = try await client.post("/v1/order-status", key: TestKeys.ingest, json: """
                {"order_id":"O-1","customer_id":"c42","status":"shipped"}
                """)
            #expect(status.status == .accepted && status.object["stream"] as? String == Streams.orderStatus, "\(status.text)")
        }
    }

    /// Concurrent events share a lane's pipeline: each answer must name its own entry.
    @Test func concurrentEventsEachGetTheirOwnEntryID() async throws {
        let app = try APITestApp()
        let harness = app.harness
        try await app.test { client in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<48 {
                    group.addTask {
                        let response = try await client.post("/v1/cart-events", key: TestKeys.ingest, json: """
                            {"type":"add","customer_id":"c\(index % 5)","sku":"S","event_id":"e-\(index)"}
                            """)
                        return (index, response.text)
                    }
                }
                var ids = Set<String>()
                for try await (index, text) in group {
                    let answer = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                    let id = try #require(answer["entry_id"] as? String, "\(text)")
                    ids.insert(id)
                    let fields = try harness.redis.command("XRANGE", Streams.cart, id, id).array.first?.array[1].array.map { try $0.string }
                    #expect(fields?.contains("e-\(index)") == true, "entry \(id) of event e-\(index): \(String(describing: fields))")
                }
                #expect(ids.count == 48)
            }
        }
    }

    @Test(arguments: [
        (#"{"type":"add","customer_id":"c1","qty":1}"#, "missing_sku"),
        (#"{"type":"add","customer_id":"c1","sku":"A","qty":"abc"}"#, "bad_qty"),
        (#"{"type":"add","customer_id":"c1","sku":"A","qty":1.5}"#, "bad_qty"),
        (#"{"type":"jump","customer_id":"c1","sku":"A"}"#, "bad_type"),
        (#"{"type":"add","sku":"A"}"#, "missing_customer_id"),
        (#"{"type":"add","customer_id":"c1","sku":"A","ts":"yesterday"}"#, "bad_ts"),
        (#"{"type":"add","customer_id":"c1","sku":"A","colour":"red"}"#, "unknown_field"),
        (#"{"type":"add","customer_id":"c1","sku":"A","sku":"B"}"#, "duplicate_field"),
        (#"{"type":"add","#, "bad_json"),
        (#"["add"]"#, "bad_json"),
    ])
    func aBadCartEventGetsTheDeadLetterCode(body: String, code: String) async throws {
        let app = try APITestApp()
        let harness = app.harness
        try await app.test { client in
            let response = try await client.post("/v1/cart-events", key: TestKeys.ingest, json: body)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.errorCode == code, "\(response.text)")
            #expect((response.object["message"] as? String)?.isEmpty == false)
            #expect(try harness.redis.command("XLEN", Streams.cart).int == 0)
        }
    }

    @Test func limitsAreClear4xxAndTheServerGoesOn() async throws {
        var settings = ServerSettings()
        settings.maxBodyBytes = 4096
        settings.maxItems = 3
        let app = try APITestApp(settings: settings)
        try await app.test { client in
            let big = try await client.post("/v1/cart-events", key: TestKeys.ingest,
                                            json: #"{"type":"add","customer_id":"c1","sku":"A","title":""# + String(repeating: "x", count: 5000) + #""}"#)
            #expect(big.status == .contentTooLarge && big.errorCode == "body_too_large", "\(big.text)")
            let items = (1...4).map { #"{"sku":"S\#($0)","qty":1}"# }.joined(separator: ",")
            let many = try await client.post("/v1/orders", key: TestKeys.ingest, json: #"{"order_id":"O","customer_id":"c1","items":[\#(items)]}"#)
            #expect(many.status == .badRequest && many.errorCode == "too_many_items", "\(many.text)")
            let long = try await client.post("/v1/cart-events", key: TestKeys.ingest,
                                             json: #"{"type":"add","customer_id":"c1","sku":""# + String(repeating: "s", count: 129) + #""}"#)
            #expect(long.status == .badRequest && long.errorCode == "bad_sku", "\(long.text)")
            let fine = try await client.post("/v1/cart-events", key: TestKeys.ingest, json: #"{"type":"add","customer_id":"c1","sku":"A"}"#)
            #expect(fine.status == .accepted)
        }
    }

    @Test func keysAndScopesAnswer401And403() async throws {
        let app = try APITestApp()
        try await app.test { client in
            let event = #"{"type":"add","customer_id":"c1","sku":"A"}"#
            let none = try await client.post("/v1/cart-events", key: nil, json: event)
            #expect(none.status == .unauthorized && none.headers[.wwwAuthenticate] == "Bearer", "\(none.text)")
            let wrong = try await client.post("/v1/cart-events", key: "not-a-key-at-all-000", json: event)
            #expect(wrong.status == .unauthorized && wrong.errorCode == "unauthorized")
            #expect(!wrong.text.contains("not-a-key-at-all-000"), "a key must never be echoed")
            let readOnly = try await client.post("/v1/cart-events", key: TestKeys.read, json: event)
            #expect(readOnly.status == .forbidden && readOnly.errorCode == "forbidden", "\(readOnly.text)")
            let ingestOnly = try await client.get("/v1/customers/c1/cart", key: TestKeys.ingest)
            #expect(ingestOnly.status == .forbidden)
            #expect(try await client.post("/v1/cart-events", key: TestKeys.admin, json: event).status == .accepted)
            #expect(try await client.get("/v1/customers/c1/cart", key: TestKeys.admin).status == .ok)
            #expect(try await client.post("/v1/cart-events", key: TestKeys.shop, json: event).status == .accepted)
            let unknown = try await client.get("/v1/nope", key: TestKeys.admin)
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found", "\(unknown.text)")
            // Public routes need no key.
            #expect(try await client.get("/healthz", key: nil).status == .ok)
            #expect(try await client.get("/v1/openapi.json", key: nil).status == .ok)
        }
    }

    @Test func feedbackIsAppendedForAnalytics() async throws {
        let app = try APITestApp()
        let harness = app.harness
        try await app.test { client in
            let alertID = String(repeating: "ab", count: 16)
            let ok = try await client.post("/v1/alerts/\(alertID)/feedback", key: TestKeys.ingest,
                                           json: #"{"customer_id":"c42","action":"removed_item"}"#)
            #expect(ok.status == .accepted && ok.object["stream"] as? String == "stream:alerts:feedback", "\(ok.text)")
            let entry = try harness.redis.command("XRANGE", "stream:alerts:feedback", "-", "+").array
            let fields = try #require(entry.first?.array[1].array.map { try $0.string })
            let map = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) })
            #expect(map["alert_id"] == alertID && map["customer_id"] == "c42" && map["action"] == "removed_item" && map["at"] != nil)
            let bad = try await client.post("/v1/alerts/\(alertID)/feedback", key: TestKeys.ingest,
                                            json: #"{"customer_id":"c42","action":"shrug"}"#)
            #expect(bad.status == .badRequest && bad.errorCode == "bad_action")
            let badID = try await client.post("/v1/alerts/nothex/feedback", key: TestKeys.ingest,
                                              json: #"{"customer_id":"c42","action":"dismissed"}"#)
            #expect(badID.status == .badRequest && badID.errorCode == "bad_alert_id")
            #expect(try harness.redis.command("XLEN", "stream:alerts:feedback").int == 1)
        }
    }
}
