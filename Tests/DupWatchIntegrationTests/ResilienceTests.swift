import Foundation
import RedisClient
import Testing
import TestSupport

/// Issue 3's operating conditions against a real redis-server and the real worker: a full
/// Redis, corrupt stored state, and the least-privilege ACL user.
@Suite("Resilience: OOM, corrupt state, least privilege")
struct ResilienceTests {
    @Test func outOfMemoryAcksNothingThenCatchesUpOnceMemoryIsFreed() async throws {
        let h = try Harness()
        let worker = try h.start(["worker", "--redis-url", h.url])
        let owns = try await worker.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        try #require(owns, "worker did not start: \(worker.stderrSoFar)")
        // Freeze the running worker while the events arrive and Redis fills up (a 1-byte cap
        // under noeviction: every write is refused, while XREADGROUP still delivers).
        worker.signal(SIGSTOP)
        // kill() returns before a running process has actually stopped: wait until it has.
        let stopped = try await h.eventually(timeout: 5) {
            let stat = (try? String(contentsOfFile: "/proc/\(worker.pid)/stat", encoding: .utf8)) ?? ""
            return stat.split(separator: ")").last?.split(separator: " ").first == "T"
        }
        try #require(stopped, "the worker did not stop on SIGSTOP")
        try h.cartAdd("OOM", sku: "MILK", qty: 2, ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("OOM", sku: "MILK", qty: 1, ts: "2026-11-23T10:00:00Z")
        _ = try h.redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
        _ = try h.redis.command("CONFIG", "SET", "maxmemory", "1")
        worker.signal(SIGCONT)

        let saidSo = try await worker.waitForStderr(timeout: 15) { $0.contains("OOM") }
        #expect(saidSo, "the worker did not say Redis is out of memory: \(worker.stderrSoFar)")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try h.xlen(Streams.alerts) == 0, "an alert was written under OOM")
        #expect(try h.redis.command("EXISTS", "cart:{OOM}").int == 0, "state was written under OOM: \(worker.stderrSoFar)")
        // Nothing acked: what the blocked read got stays pending, the rest stays undelivered.
        let pending = try h.totalPending()
        let undelivered = try h.lag(Streams.cart) ?? -1
        #expect(pending + Int(undelivered) == 2,
                "entries must stay unacked while Redis refuses the effects: pending \(pending), lag \(undelivered): \(worker.stderrSoFar)")

        _ = try h.redis.command("CONFIG", "SET", "maxmemory", "0")
        let caughtUp = try await h.eventually(timeout: 15) { try h.xlen(Streams.alerts) == 1 && h.totalPending() == 0 }
        #expect(caughtUp, "the worker did not catch up after memory was freed: \(worker.stderrSoFar)")
        #expect(worker.stderrSoFar.components(separatedBy: "redis unavailable").count - 1 == 1,
                "one line per state change, not one per retry: \(worker.stderrSoFar)")
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: 10).exitedZero)
        #expect(try h.hash("cart:{OOM}")["MILK"]?.hasPrefix("!3|") == true, "3 units, alerted")
        #expect(try h.xlen(Streams.deadLetter) == 0, "retries under OOM must not count as deliveries")
    }

    @Test func corruptStateDeadLettersTheEventWithoutTouchingAnything() async throws {
        let h = try Harness()
        _ = try h.redis.command("SET", "cart:{BROKEN}", "not a hash")
        try h.cartAdd("BROKEN", sku: "MILK", ts: "2026-11-20T10:00:00Z")
        try h.cartAdd("FINE", sku: "MILK", ts: "2026-11-20T10:00:00Z")
        try await h.drain()
        let letters = try h.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?["reason"]?.hasPrefix("bad_state: ") == true, "\(letters)")
        #expect(try h.redis.command("GET", "cart:{BROKEN}").string == "not a hash")
        #expect(try h.hash("cart:{FINE}")["MILK"]?.hasPrefix("1|") == true)
        #expect(try h.totalPending() == 0)
    }

    /// The ACL file the scripts install, with known test passwords in place of the hashes.
    private static func aclFile() throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let template = try String(contentsOf: url.appendingPathComponent("users.acl.template"), encoding: .utf8)
        let rules = template.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .joined(separator: "\n")
            .replacingOccurrences(of: "#@DUPWATCH_PASSWORD_SHA256@", with: ">worker-secret-1")
            .replacingOccurrences(of: "#@PRODUCER_PASSWORD_SHA256@", with: ">producer-secret-1")
            .replacingOccurrences(of: "#@ADMIN_PASSWORD_SHA256@", with: ">admin-secret-1")
        let path = NSTemporaryDirectory() + "dupwatch-acl-\(UUID().uuidString).acl"
        try (rules + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theWorkerUserIsRefusedEverythingItDoesNotNeedAndStillRunsTheWorker() async throws {
        let acl = try Self.aclFile()
        defer { try? FileManager.default.removeItem(atPath: acl) }
        let server = try RedisTestServer(extraArguments: ["--aclfile", acl])
        let port = server.port
        let workerURL = try RedisURL(parsing: "redis://dupwatch:worker-secret-1@127.0.0.1:\(port)")
        let worker = try RedisConnection(url: workerURL)
        for command in [["FLUSHALL"], ["CONFIG", "GET", "maxmemory"], ["KEYS", "*"], ["FUNCTION", "DELETE", "x"],
                        ["SET", "foo", "bar"], ["HSET", "customers:1", "a", "b"]] {
            let reply = try worker.send(RedisCommand(command))
            guard case .error(let message) = reply else {
                Issue.record("\(command.joined(separator: " ")) was allowed for the dupwatch user: \(reply)")
                continue
            }
            #expect(message.hasPrefix("NOPERM"), "\(command): \(message)")
        }
        // The default user is not left open.
        let anonymous = try RedisConnection(url: RedisURL(parsing: "redis://127.0.0.1:\(port)"))
        guard case .error(let message) = try anonymous.send(RedisCommand("GET", "x")) else {
            Issue.record("an unauthenticated client could read")
            return
        }
        #expect(message.hasPrefix("NOAUTH"), "\(message)")

        // Everything the worker does is within its rights.
        let producer = try RedisConnection(url: RedisURL(parsing: "redis://producer:producer-secret-1@127.0.0.1:\(port)"))
        for (ts, qty) in [("2026-11-20T10:00:00Z", "2"), ("2026-11-23T10:00:00Z", "1")] {
            _ = try producer.command("XADD", "stream:cart:events", "*", "type", "add", "customer_id", "ACL", "sku", "MILK",
                                     "qty", qty, "ts", ts)
        }
        let url = "redis://dupwatch:worker-secret-1@127.0.0.1:\(port)"
        let drained = try await DupwatchProcess(["worker", "--redis-url", url, "--drain"]).wait(timeout: 30)
        #expect(drained.exitedZero, "\(drained)")
        #expect(!drained.stderr.contains("worker-secret-1"), "the password was logged")
        #expect(try producer.command("XLEN", "stream:alerts:duplicate").int == 1)
        let status = try await DupwatchProcess(["status", "--redis-url", url]).wait(timeout: 30)
        #expect(status.exitedZero, "status needs only the worker's rights: \(status)")
    }

    /// A partitioned deployment runs with the same rights: the router, partitioned workers and
    /// the operator commands, all as the dupwatch user.
    @Test func aPartitionedDeploymentRunsWithTheWorkerUsersRights() async throws {
        let acl = try Self.aclFile()
        defer { try? FileManager.default.removeItem(atPath: acl) }
        let server = try RedisTestServer(extraArguments: ["--aclfile", acl])
        let producer = try RedisConnection(url: RedisURL(parsing: "redis://producer:producer-secret-1@127.0.0.1:\(server.port)"))
        for (ts, qty) in [("2026-11-20T10:00:00Z", "2"), ("2026-11-23T10:00:00Z", "1")] {
            _ = try producer.command("XADD", "stream:cart:events", "*", "type", "add", "customer_id", "ACL", "sku", "MILK",
                                     "qty", qty, "ts", ts)
        }
        _ = try producer.command("XADD", "stream:cart:events", "*", "type", "add", "sku", "NOBODY")
        let url = "redis://dupwatch:worker-secret-1@127.0.0.1:\(server.port)"
        for command in [["route", "--partitions", "2", "--drain"], ["worker", "--partitions", "2", "--drain"],
                        ["status"], ["deadletter", "list"], ["cart", "ACL"], ["history", "ACL"], ["partition", "ACL"]] {
            let result = try await DupwatchProcess(command + ["--redis-url", url]).wait(timeout: 30)
            #expect(result.exitedZero && !result.stderr.contains("NOPERM"), "\(command.joined(separator: " ")): \(result)")
        }
        let letters = try await DupwatchProcess(["deadletter", "list", "--json", "--redis-url", url]).wait(timeout: 30)
        let id = try #require((try parseJSON(letters.stdout) as? [[String: Any]])?.first?.string("id"), "\(letters)")
        let replay = try await DupwatchProcess(["deadletter", "replay", id, "--redis-url", url]).wait(timeout: 30)
        #expect(replay.exitedZero, "\(replay)")
        #expect(replay.stdout.contains("into stream:cart:events "), "a routed deployment replays through the router: \(replay)")
    }
}
