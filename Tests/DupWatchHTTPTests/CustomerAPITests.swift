import DupWatchHTTP
import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

@Suite("GET/POST /v1/customers/{id}: what the worker stored, read")
struct CustomerAPITests {
    /// Two orders of the same milk three days apart, through the API, then a worker drain.
    static func placeTwoOrders(_ client: any TestClientProtocol, _ app: APITestApp) async throws {
        for (order, day, qty) in [("O-1", "20", 2), ("O-2", "23", 1)] {
            let response = try await client.post("/v1/orders", key: TestKeys.ingest, json: """
                {"order_id":"\(order)","customer_id":"c42","items":[{"sku":"MILK-1L","qty":\(qty),"title":"Organic Milk 1L"}],
                 "ts":"2026-11-\(day)T09:00:00Z"}
                """)
            #expect(response.status == .accepted, "\(response.text)")
        }
        try await app.harness.drain()
    }

    @Test func ordersCartCheckAndAlertsAnswerWhatTheWorkerWrote() async throws {
        let app = try APITestApp()
        try await app.test { client in
            try await Self.placeTwoOrders(client, app)

            let orders = try await client.get("/v1/customers/c42/orders?limit=5", key: TestKeys.read)
            #expect(orders.status == .ok, "\(orders.text)")
            let list = try #require(orders.object["orders"] as? [[String: Any]])
            #expect(list.map { $0["order_id"] as? String } == ["O-2", "O-1"])
            #expect(list.last?["order_date"] as? String == "2026-11-20T09:00:00.000Z")
            #expect(list.last?["status"] as? String == "processing")

            // The alert O-2 raised is in the customer's index, with the earlier order's facts.
            let alerts = try await client.get("/v1/customers/c42/alerts", key: TestKeys.read)
            let alert = try #require((alerts.object["alerts"] as? [[String: Any]])?.first, "\(alerts.text)")
            #expect(alert["order_id"] as? String == "O-1")
            #expect(alert["order_date"] as? String == "2026-11-20T09:00:00.000Z")
            #expect(alert["quantity"] as? Int == 2)
            #expect(alert["order_status"] as? String == "processing")
            #expect(alert["trigger_id"] as? String == "O-2")
            #expect((alert["message"] as? String)?.contains("2026-11-20") == true)
            #expect((alert["alert_id"] as? String)?.count == 32)

            // since: only alerts detected after it.
            let detected = try #require(alert["detected_at"] as? String)
            let later = try await client.get("/v1/customers/c42/alerts?since=\(detected)", key: TestKeys.read)
            #expect((later.object["alerts"] as? [Any])?.isEmpty == true, "\(later.text)")
            let earlier = try await client.get("/v1/customers/c42/alerts?since=0", key: TestKeys.read)
            #expect((earlier.object["alerts"] as? [Any])?.count == 1)
            let badSince = try await client.get("/v1/customers/c42/alerts?since=last-week", key: TestKeys.read)
            #expect(badSince.status == .badRequest && badSince.errorCode == "bad_since")

            // The checkout check: what an order of milk would raise now, writing nothing.
            let keysBefore = try app.harness.redis.command("DBSIZE").int
            let check = try await client.post("/v1/customers/c42/check", key: TestKeys.read,
                                              json: #"{"items":[{"sku":"MILK-1L","qty":1},{"sku":"BREAD","qty":1}]}"#)
            #expect(check.status == .ok, "\(check.text)")
            let found = try #require(check.object["alerts"] as? [[String: Any]])
            #expect(found.count == 1)
            #expect(found.first?["order_id"] as? String == "O-2" && found.first?["quantity"] as? Int == 1)
            #expect(found.first?["detected_at"] == nil)
            #expect(try app.harness.redis.command("DBSIZE").int == keysBefore)
            let badCheck = try await client.post("/v1/customers/c42/check", key: TestKeys.read, json: #"{"items":[{"qty":1}]}"#)
            #expect(badCheck.status == .badRequest && badCheck.errorCode == "bad_items", "\(badCheck.text)")

            let cart = try await client.get("/v1/customers/c42/cart", key: TestKeys.read)
            #expect(cart.status == .ok && (cart.object["lines"] as? [Any])?.isEmpty == true, "\(cart.text)")
            let badLimit = try await client.get("/v1/customers/c42/orders?limit=0", key: TestKeys.read)
            #expect(badLimit.status == .badRequest && badLimit.errorCode == "bad_limit")
            let badCustomer = try await client.get("/v1/customers/%7Bx%7D/cart", key: TestKeys.read)
            #expect(badCustomer.status == .badRequest, "\(badCustomer.text)")
        }
    }

    /// Concurrent checks are read together on the lanes: each must still get its own
    /// customer's answer.
    @Test func concurrentChecksEachAnswerTheirOwnCustomer() async throws {
        var settings = ServerSettings()
        settings.historyDepth = 5
        let app = try APITestApp(settings: settings)
        try await app.test { client in
            for index in 0..<24 {
                let response = try await client.post("/v1/orders", key: TestKeys.ingest, json: """
                    {"order_id":"O-\(index)","customer_id":"cust-\(index)","items":[{"sku":"SKU-\(index % 3)","qty":\(index + 1)}],
                     "ts":"2026-11-20T09:00:00Z"}
                    """)
                #expect(response.status == .accepted)
            }
            try await app.harness.drain()
            try await withThrowingTaskGroup(of: (index: Int, round: Int, answer: String).self) { group in
                for round in 0..<4 {
                    for index in 0..<24 {
                        group.addTask {
                            // Half the checks ask about the customer's own SKU (one alert), half about another (none).
                            let sku = round % 2 == 0 ? "SKU-\(index % 3)" : "OTHER"
                            let response = try await client.post("/v1/customers/cust-\(index)/check", key: TestKeys.read,
                                                                  json: #"{"items":[{"sku":"\#(sku)","qty":1}]}"#)
                            return (index, round, response.text)
                        }
                    }
                }
                for try await (index, round, text) in group {
                    let answer = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                    let alerts = answer["alerts"] as? [[String: Any]] ?? []
                    if round % 2 == 0 {
                        #expect(alerts.count == 1 && alerts.first?["order_id"] as? String == "O-\(index)"
                                && alerts.first?["quantity"] as? Int == index + 1 && alerts.first?["customer_id"] as? String == "cust-\(index)",
                                "customer \(index): \(text)")
                    } else {
                        #expect(alerts.isEmpty, "customer \(index): \(text)")
                    }
                }
            }
        }
    }

    @Test func everyDocumentedOperationIsRouted() async throws {
        let app = try APITestApp()
        try await app.test { client in
            let document = try await client.get("/v1/openapi.json", key: nil)
            #expect(document.status == .ok)
            let paths = try #require(document.object["paths"] as? [String: [String: Any]])
            #expect(paths.count >= 10)
            for (path, operations) in paths {
                let concrete = path.replacingOccurrences(of: "{id}", with: "c1")
                    .replacingOccurrences(of: "{customer_id}", with: "c1")
                    .replacingOccurrences(of: "{alert_id}", with: String(repeating: "0", count: 32))
                    .replacingOccurrences(of: "{file}", with: "demo.js")
                for method in operations.keys where ["get", "post"].contains(method) {
                    // Unauthenticated: a routed path answers 401 (or its public answer), never 404.
                    let response = concrete.hasSuffix("/live") ? nil
                        : try await client.execute(uri: concrete, method: method == "get" ? .get : .post, body: .init(string: "{}"))
                    if let response {
                        #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(method) \(path): \(response.status)")
                    }
                }
            }
        }
    }
}
