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
        let result = try await h.runBench([
            "bench", "--redis-url", h.url, "--flush", "--events", "1000", "--customers", "200", "--skus", "100",
            "--runs", "1", "--rate", "\(rate)", "--latency-seconds", "1", "--latency-warm-events", "\(warm)",
            "--memory-customers", "0", "--json",
        ], timeout: 120)
        #expect(result.exitedZero, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                "stdout is not one JSON object: \(result.stdout)")
        let latency = try #require(json["latency"] as? [String: Any], "\(json)")
        #expect(latency["warm_events"] as? Int == warm, "\(json)")
        let measured = try #require(latency["alerts"] as? Int, "\(json)")
        #expect(measured > 0)
        // The slowest alert is placed in the window: its entry sent during the 1 s of producing,
        // its alert read after that and before the reader stops (2 s after the last entry).
        let sentAt = try #require(latency["slowest_alert_sent_s"] as? Double, "\(json)")
        let readAt = try #require(latency["slowest_alert_read_s"] as? Double, "\(json)")
        #expect(sentAt >= 0 && sentAt <= 1.5 && readAt > sentAt && readAt < 3.5, "sent \(sentAt) s, read \(readAt) s")
        let late = try #require(latency["alerts_over_100ms_runs"] as? [Int], "\(json)")
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
        let result = try await h.runBench([
            "bench", "--redis-url", h.url, "--flush", "--events", "1000", "--customers", "200", "--skus", "100",
            "--runs", "1", "--rate", "2000", "--latency-seconds", "1", "--latency-warm-events", "1000",
            "--memory-customers", "0", "--floor", "--json",
        ], timeout: 180)
        #expect(result.exitedZero, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                "stdout is not one JSON object: \(result.stdout)")
        let floors = try #require(json["floors"] as? [[String: Any]], "\(json)")
        #expect(floors.compactMap { $0["relay"] as? String } == ["floor", "floor_read", "floor_read_handover", "floor_shaped"])
        for floor in floors {
            let p50 = try #require((floor["percentiles"] as? [String: Any])?["p50_ms"] as? Double, "\(floor)")
            #expect(p50 > 0, "\(floor) matched no alert")
        }
    }

    /// Found on PATH and run from another directory, `dupwatch-bench` still finds the
    /// `dupwatch` built beside it (its default worker), not `<current directory>/dupwatch`.
    @Test func runFromPathInAnotherDirectoryItFindsTheWorkerBesideIt() async throws {
        let h = try Harness()
        let buildDirectory = URL(fileURLWithPath: try ProductLocator.executable(named: "dupwatch-bench")).deletingLastPathComponent()
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("bench-cwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["dupwatch-bench", "bench", "--redis-url", h.url, "--flush", "--events", "300", "--customers", "50",
                             "--skus", "50", "--runs", "1", "--rate", "0", "--memory-customers", "0", "--json"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = buildDirectory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        process.currentDirectoryURL = elsewhere
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "stderr: \(stderr)")
        #expect(!stderr.contains("cannot start"), "\(stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "\(stdout)")
        #expect(report["events"] as? Int == 300)
        #expect(try h.lag(Streams.cart) == 0)
    }
}
