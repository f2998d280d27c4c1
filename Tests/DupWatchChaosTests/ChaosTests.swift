import DupWatchBench
import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The short form of scripts/chaos.sh: a seeded workload processed once by a crash-free
/// `dupwatch worker --drain` (reference) and once by workers that are SIGKILLed at random moments
/// while the input is still arriving, with the AOF-backed redis-server SIGKILLed and restarted
/// once in the middle, then a final drain. Alerts (by alert_id), dead letters (by reason code)
/// and every customer key must come out the same, with nothing left pending.
///
/// The chaos server gets the reference's input replayed with the *same* entry ids: a cart event
/// without `event_id` is identified by its entry id, which is part of its alert_id.
@Suite("Chaos: SIGKILLed workers and a SIGKILLed redis-server change no outcome", .serialized)
struct ChaosTests {
    static let events = 5_000
    // Few customers: many events each, so an entry handled out of order is likely to matter.
    static let customers = 100
    static let workerKills = 8
    static let redisKillAt = 4

    @Test(.timeLimit(.minutes(1)))
    func killedWorkersAndARedisRestartGiveTheSameAlertsDeadLettersAndStateAsACrashFreeRun() async throws {
        let seed = ChaosSeed.fromEnvironment(or: UInt64.random(in: 1...999_999))
        var random = SplitMix64(seed: seed)
        let binary = try ProductLocator.executable(named: "dupwatch")
        let chaos = try RedisTestServer(extraArguments: ["--appendonly", "yes", "--appendfsync", "everysec",
                                                         "--aof-load-truncated", "yes"])
        let log = chaos.directory + "/dupwatch.log"
        let context = ChaosSeed.context(seed)

        // (A) Reference: generate, then one uninterrupted drain.
        let reference = try await ChaosReference.run(seed: seed, events: Self.events, customers: Self.customers,
                                                     binary: binary, log: log, context: context)
        let referenceRedis = reference.redis
        let input = reference.input

        // (B) Chaos: 10% of the input up front, a burst in every worker's life, SIGKILLs.
        // Three kinds of kill moment: "early" (even workers: as soon as their first commit moved
        // the group, while they hold entries read ahead of it), "mid-batch" (0-30 ms after a
        // burst) and random.
        let pusher = ChaosPusher(entries: input, server: chaos)
        try pusher.push(upTo: input.count / 10)
        // The big-batch workers (even index) get big bursts, so that their reads run full and
        // entries of the other streams are read ahead of the merge frontier and carried; their
        // small-batch successors get a little more, to process after their recovery.
        let burst = (input.count * 9 / 10) * 8 / 9 / (Self.workerKills / 2)
        var kills = 0
        var earlyKills = 0
        var redisRecoveryMs: Int?
        for index in 0..<Self.workerKills {
            // A small batch after a big one: the successor reads again, a little at a time, what
            // the killed worker had read ahead.
            let batch = index % 2 == 1 ? 50 : [100, 200, 200, 1000].randomElement(using: &random)!
            // One static identity, as a supervisor restarting the same worker: each restart takes
            // the lease back at once instead of waiting for the dead one's TTL.
            let worker = try ChaosProcess(binary, ["worker", "--redis-url", chaos.urlString, "--log-level", "warning",
                                                   "--batch", "\(batch)", "--consumer", "chaos-worker"], log: log)
            let life = Int.random(in: 50...700, using: &random)
            let worst = index % 2 == 0 && index != Self.redisKillAt
            let before = worst ? Int.random(in: 0...min(50, life), using: &random)
                : Int.random(in: 0..<4, using: &random) > 0 ? max(0, life - Int.random(in: 0...30, using: &random))
                : Int.random(in: 0...life, using: &random)
            try await Task.sleep(for: .milliseconds(before))
            try pusher.push(upTo: pusher.position + (index % 2 == 0 ? burst : burst / 8))
            let deadline = Date().addingTimeInterval(Double(life - before) / 1000)
            if worst {
                let probe = try chaos.connect()
                let committed = try ChaosRedis.progress(probe).acked
                while Date() < deadline {
                    if try ChaosRedis.progress(probe).acked > committed {
                        earlyKills += 1
                        break
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
            } else {
                try await Task.sleep(for: .milliseconds(max(0, Int(deadline.timeIntervalSinceNow * 1000))))
            }

            if index == Self.redisKillAt {
                let before = try ChaosRedis.progress(try chaos.connect()).acked
                chaos.kill()
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...800, using: &random)))
                let restarted = Date()
                try chaos.restart()
                try pusher.push(upTo: pusher.position + burst)
                // The same worker process must reconnect by itself and make progress.
                let probe = try chaos.connect()
                while Date().timeIntervalSince(restarted) < 20 {
                    let now = try ChaosRedis.progress(probe)
                    if now.acked > before || now.outstanding == 0 {
                        redisRecoveryMs = Int(Date().timeIntervalSince(restarted) * 1000)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(worker.isRunning, "the worker exited after the redis-server restart instead of reconnecting (\(context))")
                #expect(redisRecoveryMs != nil, "no progress within 20 s of the redis-server restart (\(context))")
            }

            #expect(worker.isRunning, "worker \(index) (pid \(worker.pid)) exited before its SIGKILL (\(context))")
            if worker.isRunning { kills += 1 }
            worker.killHard()
        }
        try pusher.push(upTo: input.count)
        let drain = try ChaosProcess(binary, ["worker", "--drain", "--redis-url", chaos.urlString, "--log-level", "warning",
                                              "--consumer", "chaos-worker"], log: log)
        #expect(try await drain.wait(timeout: 30) == 0, "the final drain failed (\(context))")

        // The verdict.
        let result = try ChaosComparison.compare(reference: referenceRedis, chaos: try chaos.connect())
        let report = "events=\(input.count) worker_kills=\(kills) redis_kills=1 \(result.summary) "
            + "early_kills=\(earlyKills) redis_recovery_ms=\(redisRecoveryMs.map(String.init) ?? "none") (\(context))"
        print("ChaosTests: " + report)
        #expect(kills >= 6, "\(report)")
        #expect(result.inputDifferences.count == 0, "the input differs: \(result.inputDifferences) — \(report)")
        #expect(result.missing.count == 0, "alerts missing after the crashes, e.g. \(result.missing.prefix(3)) — \(report)")
        #expect(result.doubled.count == 0, "alerts published twice, e.g. \(result.doubled.prefix(3)) — \(report)")
        #expect(result.extra.count == 0, "alerts the crash-free run did not raise, e.g. \(result.extra.prefix(3)) — \(report)")
        #expect(result.deadLettersGot == result.deadLettersExpected,
                "dead letters by reason: reference \(result.deadLettersExpected), chaos \(result.deadLettersGot) — \(report)")
        #expect(result.stateDifferences.count == 0,
                "customer state differs, e.g. \(result.stateDifferences.prefix(2).map { String($0.prefix(400)) }) — \(report)")
        #expect(result.pending == 0, "\(result.pending) entries still pending — \(report)")
        #expect(result.lagProblems.isEmpty, "unread input: \(result.lagProblems) — \(report)")
    }

    /// The worker plans a batch while Redis executes the one before (Worker.process), so when
    /// Redis refuses a commit (OOM), batches read ahead behind it are in hand. They must be
    /// processed after its retry, in order, with state read again: the same outcome as a
    /// crash-free run.
    @Test(.timeLimit(.minutes(1)))
    func commitsRefusedWhileReadingAheadGiveTheSameOutcomeAsACrashFreeRun() async throws {
        let seed = ChaosSeed.fromEnvironment(or: 4242)
        let binary = try ProductLocator.executable(named: "dupwatch")
        let refused = try RedisTestServer()
        let log = refused.directory + "/dupwatch.log"
        let context = ChaosSeed.context(seed) + "; log \(log)"
        let reference = try await ChaosReference.run(seed: seed, events: Self.events, customers: Self.customers,
                                                     binary: binary, log: log, context: context)
        let referenceRedis = reference.redis
        let input = reference.input

        let redis = try refused.connect()
        _ = try redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
        let pusher = ChaosPusher(entries: input, server: refused)
        let rounds = 3
        let part = input.count / (rounds + 1)
        try pusher.push(upTo: part)
        // Small batches: a backlog is many batches, each read ahead while the one before commits.
        let worker = try ChaosProcess(binary, ["worker", "--redis-url", refused.urlString, "--log-level", "warning",
                                               "--batch", "50"], log: log)
        for round in 1...rounds {
            // Stop the worker part-way through, give it a backlog, and refuse its writes.
            let target = Int64(part * round - part / 2)
            #expect(try await eventually(timeout: 20, every: .milliseconds(2)) { try ChaosRedis.progress(redis).acked >= target },
                    "round \(round): no progress to \(target) entries (\(context))")
            kill(worker.pid, SIGSTOP)
            try pusher.push(upTo: part * (round + 1))
            _ = try redis.command("CONFIG", "SET", "maxmemory", "1")
            kill(worker.pid, SIGCONT)
            #expect(try await eventually(timeout: 20, every: .milliseconds(2)) { Self.occurrences(of: "OOM command not allowed", in: log) >= round },
                    "round \(round): the worker did not report a refused commit (\(context)): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            try await Task.sleep(for: .milliseconds(200))
            _ = try redis.command("CONFIG", "SET", "maxmemory", "0")
        }
        try pusher.push(upTo: input.count)
        #expect(try await eventually(timeout: 30, every: .milliseconds(2)) { try ChaosRedis.progress(redis).outstanding == 0 },
                "the worker did not catch up (\(context))")
        worker.process.terminate()
        #expect(try await worker.wait(timeout: 10) == 0, "the worker did not stop cleanly (\(context))")

        let result = try ChaosComparison.compare(reference: referenceRedis, chaos: try refused.connect())
        let report = "events=\(input.count) oom_rounds=\(rounds) \(result.summary) (\(context))"
        print("ChaosTests (OOM): " + report)
        #expect(result.missing.count == 0 && result.doubled.count == 0 && result.extra.count == 0, "\(report)")
        #expect(result.deadLettersGot == result.deadLettersExpected, "\(report)")
        #expect(result.stateDifferences.count == 0,
                "customer state differs, e.g. \(result.stateDifferences.prefix(2).map { String($0.prefix(400)) }) — \(report)")
        #expect(result.pending == 0 && result.lagProblems.isEmpty, "\(report)")
    }

    private static func occurrences(of text: String, in path: String) -> Int {
        let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return log.components(separatedBy: text).count - 1
    }
}
