import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Worker lifecycle: graceful stop, crash, connection problems")
struct WorkerLifecycleTests {
    // MARK: 8

    @Test func sigtermStopsARunningWorkerCleanlyWithNothingPending() async throws {
        let h = try Harness()
        let worker = try h.start(["worker", "--redis-url", h.url])
        let owns = try await worker.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        #expect(owns, "worker did not take the streams: \(worker.stderrSoFar)")

        var triggers: [String] = []
        for customer in ["G1", "G2", "G3"] {
            try h.cartAdd(customer, sku: "MILK", qty: 1, ts: "2026-11-20T10:00:00Z")
            triggers.append(try h.cartAdd(customer, sku: "MILK", qty: 1, ts: "2026-11-23T10:00:00Z"))
        }
        try h.order("O-1", customer: "G4", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-20T10:00:00Z")
        try h.order("O-2", customer: "G4", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-23T10:00:00Z")
        let appeared = try await h.eventually(timeout: 10) { try h.xlen(Streams.alerts) >= 4 }
        #expect(appeared, "alerts did not appear; worker stderr:\n\(worker.stderrSoFar)")
        #expect(worker.isRunning, "without --drain the worker keeps running")

        let signalled = Date()
        worker.signal(SIGTERM)
        let result = try await worker.wait(timeout: 60)
        let stopSeconds = Date().timeIntervalSince(signalled)
        #expect(result.exitedZero, "\(result)")
        // Promptly: well under the lease TTL it would otherwise take a successor (a loaded host
        // stretches the seconds, not the order of magnitude).
        #expect(stopSeconds < 20, "took \(stopSeconds) s to stop after SIGTERM")
        #expect(result.stderr.contains("worker stopped"), "\(result)")

        #expect(Set(try h.alerts().compactMap { $0["trigger_id"] }) == Set(triggers + ["O-2"]))
        #expect(try h.xlen(Streams.alerts) == 4)
        #expect(try h.totalPending() == 0)
        for stream in Streams.inputs { #expect(try h.lag(stream) == 0, "\(stream) lag") }
        // The lease is handed back at once, so a successor need not wait for it to expire.
        let lease = try h.redis.command("GET", "dupwatch:lease:dupwatch").optionalString
        #expect(lease?.hasPrefix("released:") == true, "lease after a clean stop: \(lease ?? "nil")")
    }

    // MARK: 9

    /// 2,000 entries for five customers: cart adds (each more than 4 h after that customer's
    /// previous event), orders, and status updates of earlier orders, spread over the three
    /// streams, with fixed entry ids so that two servers get byte-identical input.
    static func crashInput() -> [(stream: String, id: String, fields: [(String, String)])] {
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(bound))
        }
        let skus = ["MILK", "BREAD", "EGGS", "JAM", "TEA", "RICE", "SOAP", "PASTA"]
        let statuses = ["shipped", "delivered", "cancelled", "returned"]
        var time = [Int64](repeating: 1_790_000_000_000, count: 5)  // 2026-09-21
        var orders: [[String]] = Array(repeating: [], count: 5)
        var out: [(stream: String, id: String, fields: [(String, String)])] = []
        for i in 0..<2000 {
            let id = "\(1_000_000 + i)-0"
            let c = next(5)
            time[c] += 4 * 3_600_000 + 1 + Int64(next(3_600_000))
            let ts = String(time[c])
            let kind = next(100)
            if kind < 60 {
                out.append((Streams.cart, id, [("type", "add"), ("customer_id", "CC\(c)"), ("sku", skus[next(skus.count)]),
                                               ("qty", String(1 + next(3))), ("ts", ts)]))
            } else if kind < 85 || orders[c].isEmpty {
                var lines: [(sku: String, qty: Int, title: String?)] = []
                for sku in skus where next(4) == 0 { lines.append((sku, 1 + next(4), nil)) }
                if lines.isEmpty { lines.append((skus[next(skus.count)], 1, nil)) }
                orders[c].append("O-\(i)")
                out.append((Streams.orderPlaced, id, [("order_id", "O-\(i)"), ("customer_id", "CC\(c)"),
                                                      ("items", itemsJSON(lines)), ("ts", ts)]))
            } else {
                let recent = orders[c].suffix(3)
                let order = recent[recent.startIndex + next(recent.count)]
                out.append((Streams.orderStatus, id, [("order_id", order), ("customer_id", "CC\(c)"),
                                                      ("status", statuses[next(statuses.count)]), ("ts", ts)]))
            }
        }
        return out
    }

    private static func alertsByID(_ h: Harness) throws -> (ids: [String], fields: [String: [String: String]]) {
        let alerts = try h.alerts()
        var byID: [String: [String: String]] = [:]
        for alert in alerts {
            var fields = alert
            fields["detected_at"] = nil
            byID[alert["alert_id"] ?? "?"] = fields
        }
        return (alerts.compactMap { $0["alert_id"] }, byID)
    }

    @Test func killedWorkerIsTakenOverWhenItsLeaseLapsesAndNoAlertIsLostOrDoubled() async throws {
        // --batch 1 and an early kill keep the interruption well inside the backlog.
        try await Self.interruptedRunMatchesCleanRun(signal: SIGKILL, batch: 1) { h, _ in
            _ = try await h.eventually(timeout: 10) { try h.xlen(Streams.alerts) >= 50 }
        }
    }

    /// A worker restarted under its static `--consumer` name takes its lease back at once (the
    /// restart is the same member); no alert is lost or doubled across the kill.
    @Test func killedStaticWorkerRestartedUnderItsNameTakesItsLeaseBackAtOnce() async throws {
        let h = try Harness()
        try h.xaddMany(Self.crashInput())
        // A lease far longer than the test: only the static name can explain a takeover at once.
        let first = try h.start(["worker", "--redis-url", h.url, "--batch", "1", "--consumer", "shop-worker-1", "--lease-ttl", "120s"])
        _ = try await first.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        _ = try await h.eventually(timeout: 10) { try h.xlen(Streams.alerts) >= 20 }
        first.signal(SIGKILL)
        _ = try await first.wait(timeout: 30)
        #expect(try h.redis.command("GET", "dupwatch:lease:dupwatch").optionalString == "shop-worker-1")
        let restarted = try await h.drain(["--consumer", "shop-worker-1", "--lease-ttl", "120s"])
        #expect(!restarted.stderr.contains("standby"), "the restart waited for its own lease: \(restarted.stderr.suffix(400))")
        let ids = try h.alerts().compactMap { $0["alert_id"] }
        #expect(ids.count == Set(ids).count, "\(ids.count - Set(ids).count) alerts published twice")
        for stream in Streams.inputs { #expect(try h.lag(stream) == 0, "\(stream) lag") }
    }

    /// A lease held under a name that looks like a dead process of this host (in another
    /// container, the same name can be a live worker whose pid this one cannot see) is never
    /// taken on that guess: the worker stands by until the lease lapses.
    @Test func aLeaseIsNeverTakenOnAGuessThatItsHolderIsDead() async throws {
        let h = try Harness()
        try h.xadd(Streams.cart, ["type": "add", "customer_id": "C1", "sku": "MILK", "ts": "2026-11-20T10:00:00Z"])
        let hostname = ProcessInfo.processInfo.hostName
        let holder = "\(hostname)-999999"
        try h.redis.command("SET", "dupwatch:lease:dupwatch", holder, "PX", "60000")
        let worker = try h.start(["worker", "--redis-url", h.url])
        defer { worker.signal(SIGKILL) }
        let waited = try await worker.waitForStderr(timeout: 10) { $0.contains("standby") }
        #expect(waited, "the worker did not stand by: \(worker.stderrSoFar)")
        try await Task.sleep(for: .milliseconds(1000))
        #expect(try h.redis.command("GET", "dupwatch:lease:dupwatch").optionalString == holder,
                "the lease was taken while its holder's TTL ran: \(worker.stderrSoFar)")
        #expect(try h.lag(Streams.cart) != 0, "entries were committed by a worker without the lease")
        // Once the lease lapses, it takes over and catches up.
        try h.redis.command("PEXPIRE", "dupwatch:lease:dupwatch", "1")
        let took = try await worker.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        #expect(took, "no takeover after the lease lapsed: \(worker.stderrSoFar)")
        #expect(try await h.eventually(timeout: 10) { try h.lag(Streams.cart) == 0 })
    }

    /// Like the crash test, but the first worker is stopped gracefully in the middle of a
    /// backlog: it must leave nothing pending, and its successor must end where a single
    /// uninterrupted run ends.
    @Test func sigtermInTheMiddleOfABacklogStopsPromptlyAndLosesNothing() async throws {
        try await Self.interruptedRunMatchesCleanRun(signal: SIGTERM, batch: 1) { h, _ in
            _ = try await h.eventually(timeout: 10) { try h.xlen(Streams.alerts) >= 50 }
        }
    }

    /// After a graceful stop, a successor that cannot tell the old worker's process is gone
    /// (another host, or another consumer name) takes over at once: the released lease says so,
    /// and the entries the old one read ahead were never delivered to it in the group's eyes.
    @Test func gracefulStopInABacklogLeavesNothingForASuccessorWithAnotherNameToWaitFor() async throws {
        let h = try Harness()
        try h.xaddMany(Self.crashInput())
        // A long tail of unrelated cart events keeps the --batch 1 worker busy until SIGTERM.
        let tail = (0..<20000).map { i in
            (stream: Streams.cart, id: "*", fields: [("type", "add"), ("customer_id", "TAIL\(i % 100)"), ("sku", "S\(i)"),
                                                    ("ts", "2026-12-01T10:00:00Z")])
        }
        try h.xaddMany(tail)
        let first = try h.start(["worker", "--redis-url", h.url, "--batch", "1", "--consumer", "site-a"])
        _ = try await first.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        let busy = try await h.eventually(timeout: 10) { try h.xlen(Streams.alerts) >= 5 }
        #expect(busy, "first worker did not get going: \(first.stderrSoFar)")
        first.signal(SIGTERM)
        let ended = try await first.wait(timeout: 30)
        #expect(ended.exitedZero, "\(ended)")
        let lag = try Streams.inputs.reduce(Int64(0)) { $0 + ((try h.lag($1)) ?? 0) }
        let pending = try h.totalPending()
        try #require(lag + Int64(pending) > 0, "inconclusive: the first worker finished the backlog before SIGTERM")
        #expect(pending == 0, "SIGTERM left \(pending) entries pending at consumer site-a")

        let successor = try await h.drain(["--consumer", "site-b"])
        #expect(!successor.stderr.contains("standby"), "\(successor.stderr.suffix(400))")
        #expect(try h.totalPending() == 0)
        #expect(try h.xlen(Streams.deadLetter) == 0)
    }

    /// The same 2,000 entries on two servers: one drained in one go; on the other a worker is
    /// started, interrupted with `signal` once `interruptWhen` returns, and a successor (new
    /// pid, so a new consumer name) drains the rest. Both must end with the same alerts and state.
    static func interruptedRunMatchesCleanRun(signal: Int32, batch: Int,
                                              interruptWhen: (Harness, DupwatchProcess) async throws -> Void) async throws {
        // A tail of unrelated cart events keeps the worker busy past the interruption even on a
        // loaded host (8,000 were once all drained before a starved test noticed the first
        // alerts); it raises no alert.
        let tail = (0..<30_000).map { i in
            (stream: Streams.cart, id: "\(2_000_000 + i)-0",
             fields: [("type", "add"), ("customer_id", "TAIL\(i % 100)"), ("sku", "S\(i)"), ("ts", "2026-12-01T10:00:00Z")])
        }
        let input = Self.crashInput() + tail

        // Reference: an uninterrupted run.
        let clean = try Harness()
        try clean.xaddMany(input)
        try await clean.drain()
        let reference = try Self.alertsByID(clean)
        #expect(reference.ids.count == Set(reference.ids).count, "the uninterrupted run published an alert twice")
        #expect(reference.ids.count > 500, "the input should raise many alerts, got \(reference.ids.count)")
        #expect(try clean.xlen(Streams.deadLetter) == 0, "uninterrupted run dead letters: \((try? clean.deadLetters().prefix(3)) ?? [])")

        // A worker interrupted mid-way, then a new one.
        let interrupted = try Harness()
        try interrupted.xaddMany(input)
        // A short lease: after a crash, the successor (another consumer name) waits for it.
        let first = try interrupted.start(["worker", "--redis-url", interrupted.url, "--batch", String(batch), "--lease-ttl", "4s"])
        let started = try await first.waitForStderr(timeout: 10) { $0.contains("owns the streams") }
        #expect(started, "first worker did not start: \(first.stderrSoFar)")
        try await interruptWhen(interrupted, first)
        let holderBefore = try interrupted.redis.command("GET", "dupwatch:lease:dupwatch").optionalString
        let signalled = Date()
        first.signal(signal)
        let ended = try await first.wait(timeout: 60)
        let alertsAtStop = try interrupted.xlen(Streams.alerts)
        let pendingAtStop = try interrupted.totalPending()
        let lagAtStop = try Streams.inputs.reduce(Int64(0)) { $0 + ((try interrupted.lag($1)) ?? 0) }
        print("\(signal == SIGKILL ? "SIGKILL" : "SIGTERM") of pid \(first.pid): \(alertsAtStop) of \(reference.ids.count) alerts published, \(pendingAtStop) entries pending, lag \(lagAtStop)")
        #expect(lagAtStop > 0, "the first worker finished before it was interrupted: this run tests nothing")
        if signal == SIGKILL {
            #expect(ended.signaled && ended.status == SIGKILL, "\(ended)")
            #expect(holderBefore?.contains("-\(first.pid)-") == true, "lease held by \(holderBefore ?? "nobody")")
        } else {
            #expect(ended.exitedZero, "\(ended)")
            #expect(Date().timeIntervalSince(signalled) < 20, "took \(Date().timeIntervalSince(signalled)) s to stop")
            // Reading does not deliver in the group's eyes: entries read past the merge frontier
            // are simply read again by the successor.
            #expect(pendingAtStop == 0, "a gracefully stopped worker left \(pendingAtStop) entries pending")
        }

        // A clean stop hands over at once; after a crash the successor waits for the lease to
        // lapse (when it is still there as the successor starts: a slow host may outlast it).
        let leaseLeft = try interrupted.redis.command("PTTL", "dupwatch:lease:dupwatch").int
        let successor = try await interrupted.drain()
        if signal == SIGKILL {
            if leaseLeft > 1_000 { #expect(successor.stderr.contains("standby"), "\(successor)") }
        } else {
            #expect(!successor.stderr.contains("standby"), "\(successor)")
        }

        let recovered = try Self.alertsByID(interrupted)
        #expect(recovered.ids.count == Set(recovered.ids).count,
                "\(recovered.ids.count - Set(recovered.ids).count) alerts published twice")
        let missing = Set(reference.ids).subtracting(recovered.ids)
        let extra = Set(recovered.ids).subtracting(reference.ids)
        // Entries read ahead must not be applied before older entries of the other streams
        // (a status update applied before its order would be lost).
        #expect(missing.isEmpty, "\(missing.count) alerts missing after the restart, e.g. \(missing.sorted().prefix(2).compactMap { reference.fields[$0] })")
        #expect(extra.isEmpty, "\(extra.count) unexpected alerts after the restart, e.g. \(extra.sorted().prefix(2).compactMap { recovered.fields[$0] })")
        if missing.isEmpty && extra.isEmpty {
            let differing = reference.fields.filter { recovered.fields[$0.key] != $0.value }
            #expect(differing.isEmpty, "\(differing.count) alerts differ, e.g. \(differing.first.map { "\($0.value) vs \(recovered.fields[$0.key] ?? [:])" } ?? "")")
        }
        #expect(try interrupted.xlen(Streams.deadLetter) == 0,
                "dead letters after the restart: \((try? interrupted.deadLetters().prefix(2).map { $0["reason"] ?? "" }) ?? [])")
        #expect(try interrupted.totalPending() == 0)
        for stream in Streams.inputs { #expect(try interrupted.lag(stream) == 0, "\(stream) lag") }
        // The first worker's consumer is gone from the group: only the successor is left.
        let consumers = try interrupted.groupInfo(Streams.cart)?["consumers"].flatMap { try? $0.int }
        #expect((consumers ?? 99) <= 1, "consumers left in the group: \(consumers.map(String.init) ?? "?")")
        for c in 0..<5 {
            #expect(try interrupted.hash("cart:{CC\(c)}") == clean.hash("cart:{CC\(c)}"), "cart of CC\(c)")
            let recent = try interrupted.redis.command("LRANGE", "orders:{CC\(c)}", "0", "-1")
            #expect(try recent == clean.redis.command("LRANGE", "orders:{CC\(c)}", "0", "-1"), "last orders of CC\(c)")
            for id in try recent.array.map({ try $0.string }) {
                #expect(try interrupted.hash("order:{CC\(c)}:\(id)") == clean.hash("order:{CC\(c)}:\(id)"), "order \(id) of CC\(c)")
            }
        }
    }

    // MARK: 10

    @Test func refusedConnectionIsRetriedAndReportedUntilSigterm() async throws {
        // Held for the whole test: a server that another test starts must not land on it.
        let closed = try ClosedLoopbackPort()
        let port = closed.port
        let url = "redis://127.0.0.1:\(port)"
        let worker = try DupwatchProcess(["worker", "--redis-url", url, "--drain"])
        let reported = try await worker.waitForStderr(timeout: 3) { $0.contains("cannot connect") && $0.contains("127.0.0.1:\(port)") }
        #expect(reported, "no 'cannot connect ... 127.0.0.1:\(port)' within 3 s; stderr:\n\(worker.stderrSoFar)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(worker.isRunning, "the worker gave up instead of retrying: \(worker.stderrSoFar)")

        let signalled = Date()
        worker.signal(SIGTERM)
        let result = try await worker.wait(timeout: 60)
        #expect(result.exitedZero, "\(result)")
        #expect(Date().timeIntervalSince(signalled) < 20, "a worker retrying a refused connection must still stop on SIGTERM")
        // One line per condition, not one per retry.
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("cannot connect") }
        #expect(warnings.count == 1, "\(result.stderr)")
        withExtendedLifetime(closed) {}
    }

    @Test func wrongOrMissingPasswordExitsNonZeroNamingTheProblemWithoutPrintingThePassword() async throws {
        let secret = "s3cret-Pass-42"
        let wrong = "wr0ng-Pass-17"
        let h = try Harness(extraArguments: ["--requirepass", secret])

        let wrongURL = "redis://:\(wrong)@127.0.0.1:\(h.server.port)"
        let worker = try await h.runDupwatch(["worker", "--redis-url", wrongURL, "--drain"], timeout: 15)
        #expect(!worker.exitedZero && !worker.signaled, "\(worker)")
        // A wrong password is not retried (a wall-clock bound would only measure the host).
        #expect(!worker.stderr.contains("retrying"), "\(worker)")
        #expect(worker.stderr.contains("WRONGPASS") || worker.stderr.lowercased().contains("password"), "\(worker)")
        #expect(worker.stderr.contains("127.0.0.1:\(h.server.port)"), "\(worker)")

        let missing = try await h.runDupwatch(["worker", "--redis-url", "redis://127.0.0.1:\(h.server.port)", "--drain"], timeout: 15)
        #expect(!missing.exitedZero && !missing.signaled, "\(missing)")
        #expect(missing.stderr.contains("NOAUTH") || missing.stderr.lowercased().contains("password"), "\(missing)")

        // The same through the environment, and for a read command.
        let viaEnv = try await h.runDupwatch(["worker", "--drain"], env: ["DUPWATCH_REDIS_URL": wrongURL], timeout: 15)
        #expect(!viaEnv.exitedZero, "\(viaEnv)")
        let status = try await h.runDupwatch(["status", "--redis-url", wrongURL], timeout: 15)
        #expect(!status.exitedZero, "\(status)")
        #expect(status.stderr.contains("WRONGPASS") || status.stderr.lowercased().contains("password"), "\(status)")

        // An unparsable URL with a password in it.
        let badURL = try await h.runDupwatch(["worker", "--redis-url", "redis://:\(wrong)@127.0.0.1:notaport", "--drain"], timeout: 15)
        #expect(!badURL.exitedZero, "\(badURL)")

        for result in [worker, missing, viaEnv, status, badURL] {
            #expect(!result.stderr.contains(wrong) && !result.stdout.contains(wrong), "password printed: \(result)")
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "password printed: \(result)")
        }
        // Nothing was processed or created.
        let probe = try h.server.connect()
        #expect(try probe.command("DBSIZE").int == 0)
    }
}
