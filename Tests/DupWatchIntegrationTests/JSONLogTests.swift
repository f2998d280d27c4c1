import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("--log-format json from the real worker")
struct JSONLogTests {
    @Test func anAlertIsLoggedWithItsIdsAsFields() async throws {
        let harness = try Harness()
        for (order, day) in [("O-1", "20"), ("O-2", "23")] {
            _ = try harness.redis.command("XADD", Streams.orderPlaced, "*", "order_id", order, "customer_id", "c42",
                                          "items", #"[{"sku":"MILK-1L","qty":2}]"#, "ts", "2026-11-\(day)T09:00:00Z")
        }
        _ = try harness.redis.command("XADD", Streams.cart, "*", "type", "add", "customer_id", "c42", "qty", "x", "sku", "A")
        let result = try await harness.drain(["--log-format", "json"])
        let lines = result.stderr.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(lines.count == result.stderr.split(separator: "\n").count, "every line is one JSON object: \(result.stderr)")
        let alert = try #require(lines.first { ($0["message"] as? String)?.hasPrefix("duplicate:") == true }, "\(result.stderr)")
        #expect(alert["customer.id"] as? String == "c42")
        #expect(alert["order.id"] as? String == "O-1")
        #expect((alert["alert.id"] as? String)?.count == 32)
        #expect(alert["level"] as? String == "info" && alert["ts"] is String)
        let dead = try #require(lines.first { ($0["message"] as? String)?.hasPrefix("dead-lettered:") == true }, "\(result.stderr)")
        #expect((dead["entry.id"] as? String)?.contains("-") == true)
        #expect((dead["message"] as? String)?.contains("bad_qty") == true)
    }
}
