import Foundation
import RedisClient
import TestSupport
import Testing

/// Options from DUPWATCH_* variables, end to end through the built binary.
@Suite("Options from the environment")
struct EnvironmentConfigurationTests {
    @Test func theWorkerTakesItsOptionsFromTheEnvironmentAndTheCommandLineWins() async throws {
        let h = try Harness()
        try h.cartAdd("c1", sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
        // --drain from DUPWATCH_DRAIN, the URL from DUPWATCH_REDIS_URL, JSON log lines.
        let worker = try await h.runDupwatch(["worker"], env: ["DUPWATCH_REDIS_URL": h.url, "DUPWATCH_DRAIN": "yes",
                                                               "DUPWATCH_LOG_FORMAT": "json", "DUPWATCH_BATCH": "7"], timeout: 30)
        #expect(worker.exitedZero, "\(worker)")
        let lines = worker.stderr.split(separator: "\n")
        #expect(!lines.isEmpty, "\(worker)")
        for line in lines {
            let object = try #require(try parseJSON(String(line)) as? [String: Any], "not a JSON line: \(line)")
            #expect(object["ts"] is String && object["level"] is String && object["label"] is String && object["message"] is String, "\(line)")
        }
        #expect(try h.redis.command("XINFO", "GROUPS", Streams.cart).array.count == 1, "the drain ran")

        // The command line wins over a malformed variable it overrides.
        let overridden = try await h.runDupwatch(["worker", "--redis-url", h.url, "--drain", "--batch", "5"],
                                                 env: ["DUPWATCH_BATCH": "abc"], timeout: 30)
        #expect(overridden.exitedZero, "\(overridden)")
        // --no-drain turns DUPWATCH_DRAIN off again: the worker keeps running until stopped.
        let running = try h.start(["worker", "--redis-url", h.url, "--no-drain"], env: ["DUPWATCH_DRAIN": "1"])
        try await Task.sleep(for: .seconds(1))
        #expect(running.isRunning, "\(running.stderrSoFar)")
        running.signal(SIGTERM)
        #expect(try await running.wait(timeout: 30).exitedZero)
    }

    @Test func aMalformedOrInvalidVariableIsAUsageErrorNamingIt() async throws {
        let h = try Harness()
        let cases: [(args: [String], env: [String: String], says: String)] = [
            (["worker", "--drain"], ["DUPWATCH_BATCH": "abc"], "DUPWATCH_BATCH=abc: not an integer"),
            (["worker", "--drain"], ["DUPWATCH_BATCH": "0"], "DUPWATCH_BATCH=0: must be 1...100000"),
            (["worker", "--drain"], ["DUPWATCH_CART_GAP": "4 hours"], "DUPWATCH_CART_GAP=4 hours: not a duration"),
            (["worker"], ["DUPWATCH_DRAIN": "maybe"], "DUPWATCH_DRAIN=maybe: not a flag value"),
            (["worker", "--drain"], ["DUPWATCH_LOG_LEVEL": "verbose"], "DUPWATCH_LOG_LEVEL=verbose: not one of"),
            (["cart", "c1"], ["DUPWATCH_LOG_FORMAT": "xml"], "DUPWATCH_LOG_FORMAT=xml: not one of text, json"),
            (["history", "c1"], ["DUPWATCH_HISTORY_DEPTH": "0"], "DUPWATCH_HISTORY_DEPTH=0: must be 1...1000"),
            (["route", "--drain"], ["DUPWATCH_PARTITIONS": "6"], "DUPWATCH_PARTITIONS=6: must be a power of two"),
            (["route", "--drain"], [:], "Missing expected argument '--partitions' (or DUPWATCH_PARTITIONS)"),
            (["check", "c1"], [:], "Missing expected argument '--items' (or DUPWATCH_ITEMS)"),
        ]
        for (args, env, says) in cases {
            let result = try await h.runDupwatch(args + ["--redis-url", h.url], env: env, timeout: 30)
            #expect(result.status == 64 && !result.signaled && result.stderr.contains(says), "\(args) \(env): \(result)")
        }
        #expect(try h.dbsize() == 0, "a rejected configuration reached Redis")
    }

    @Test func readCommandsTakeTheirOptionsFromTheEnvironment() async throws {
        let h = try Harness()
        try h.cartAdd("c1", sku: "MILK", qty: 2, ts: "2026-11-20T10:00:00Z")
        try await h.drain()
        let cart = try await h.runDupwatch(["cart", "c1"], env: ["DUPWATCH_REDIS_URL": h.url, "DUPWATCH_JSON": "true"])
        #expect(cart.exitedZero, "\(cart)")
        let object = try #require(try parseJSON(cart.stdout) as? [String: Any])
        #expect(object["customer_id"] as? String == "c1")
        let table = try await h.runDupwatch(["cart", "c1", "--no-json"], env: ["DUPWATCH_REDIS_URL": h.url, "DUPWATCH_JSON": "true"])
        #expect(table.exitedZero && table.stdout.contains("Cart of customer c1"), "\(table)")
    }
}
