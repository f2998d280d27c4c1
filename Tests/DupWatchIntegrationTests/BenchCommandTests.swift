import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch bench` end to end on a tiny workload: the options that shape what is measured.
@Suite("dupwatch bench against redis-server")
struct BenchCommandTests {
    @Test func latencyWindowRunsAfterTheWarmEntriesWereDrained() async throws {
        let h = try Harness()
        let warm = 3_000
        let rate = 2_000
        let result = try await h.runDupwatch([
            "bench", "--redis-url", h.url, "--flush", "--events", "1000", "--customers", "200", "--skus", "100",
            "--runs", "1", "--rate", "\(rate)", "--latency-seconds", "1", "--latency-warm-events", "\(warm)",
            "--memory-customers", "0", "--json",
        ], timeout: 120)
        #expect(result.exitedZero, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                "stdout is not one JSON object: \(result.stdout)")
        #expect(json["latency_warm_events"] as? Int == warm, "\(json)")
        let measured = try #require(json["latency_alerts"] as? Int, "\(json)")
        #expect(measured > 0)
        // The slowest alert is placed in the window: its entry sent during the 1 s of producing,
        // its alert read after that and before the reader stops (2 s after the last entry).
        let sentAt = try #require(json["slowest_alert_sent_s"] as? Double, "\(json)")
        let readAt = try #require(json["slowest_alert_read_s"] as? Double, "\(json)")
        #expect(sentAt >= 0 && sentAt <= 1.5 && readAt > sentAt && readAt < 3.5, "sent \(sentAt) s, read \(readAt) s")
        let late = try #require(json["alerts_over_100ms_runs"] as? [Int], "\(json)")
        #expect(late.count == 1 && late[0] <= measured, "\(late)")

        // The window's FLUSHALL came before the warm entries: the streams hold them and the
        // window's, all processed; alerts of the warm drain precede the window's.
        var entries: Int64 = 0
        for stream in Streams.inputs {
            entries += Int64(try h.xlen(stream))
            #expect(try h.lag(stream) == 0, "\(stream) lag")
        }
        #expect(entries == Int64(warm + rate), "input entries after the run: \(entries)")
        #expect(try h.xlen(Streams.alerts) > measured, "no alerts from the warm entries")
    }

    /// The floor relays run in the worker's place on the same warm store: they find the groups
    /// the warm-up drain created, and each reports latencies of alerts it really raised.
    @Test func floorRelaysMeasureAWarmStoreToo() async throws {
        let h = try Harness()
        let result = try await h.runDupwatch([
            "bench", "--redis-url", h.url, "--flush", "--events", "1000", "--customers", "200", "--skus", "100",
            "--runs", "1", "--rate", "2000", "--latency-seconds", "1", "--latency-warm-events", "1000",
            "--memory-customers", "0", "--floor", "--json",
        ], timeout: 180)
        #expect(result.exitedZero, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                "stdout is not one JSON object: \(result.stdout)")
        for floor in ["floor", "floor_read", "floor_read_handover", "floor_shaped"] {
            let p50 = try #require(json["\(floor)_p50_ms"] as? Double, "\(floor): \(json)")
            #expect(p50 > 0, "\(floor) matched no alert")
        }
    }
}
