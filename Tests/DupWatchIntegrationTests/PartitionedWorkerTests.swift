import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// Partitioned deployments end to end: the input routed into partitions and processed by
/// several workers gives exactly the alerts and dead letters of one worker on one stream set.
@Suite("Partitioned workers")
struct PartitionedWorkerTests {
    /// Alerts by id (without `detected_at`) and dead letters by source id and reason, from
    /// every stream in `streams`.
    private static func outcome(alertStreams: [String], deadLetterStreams: [String],
                                read: (String) throws -> [StreamEntry]) throws -> (alerts: [String: [String: String]], deadLetters: Set<String>, alertCount: Int) {
        var alerts: [String: [String: String]] = [:]
        var count = 0
        for stream in alertStreams {
            for entry in try read(stream) {
                var fields: [String: String] = [:]
                for field in entry.fields ?? [] where field.nameString != "detected_at" { fields[field.nameString] = field.valueString }
                alerts[fields["alert_id"] ?? "?"] = fields
                count += 1
            }
        }
        var letters: Set<String> = []
        for stream in deadLetterStreams {
            for entry in try read(stream) {
                let value = { (name: String) in entry.value(of: name).map { String(decoding: $0, as: UTF8.self) } ?? "" }
                letters.insert(value("source_id") + " " + value("reason").prefix { $0 != ":" })
            }
        }
        return (alerts, letters, count)
    }

    /// XADD of one input entry (its id, or `*`) on the node of its stream.
    private static func xadd(_ entry: (stream: String, id: String, fields: [(String, String)]), on client: RedisCluster) throws {
        var command = RedisCommand("XADD")
        command.append(entry.stream)
        command.append(entry.id)
        for (name, value) in entry.fields { command.append(name); command.append(value) }
        _ = try client.send(command, slot: HashSlot(key: entry.stream)).throwIfError()
    }

    /// The reference: one worker, one partition, the same entries under the same ids.
    private static func reference(_ input: [(stream: String, id: String, fields: [(String, String)])]) async throws
        -> (alerts: [String: [String: String]], deadLetters: Set<String>, alertCount: Int, report: [String: Any]) {
        let h = try Harness()
        try h.xaddMany(input)
        try await h.drain()
        let outcome = try outcome(alertStreams: [Streams.alerts], deadLetterStreams: [Streams.deadLetter]) { stream in
            try h.redis.send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        return (outcome.alerts, outcome.deadLetters, outcome.alertCount, try await report(h, url: h.url))
    }

    /// `dupwatch report --json` over the months of `WorkerLifecycleTests.crashInput()`, without
    /// the partition count.
    private static func report(_ h: Harness, url: String) async throws -> [String: Any] {
        let run = try await h.runDupwatch(["report", "--redis-url", url, "--since", "2026-09-01", "--until", "2027-03-01", "--json"])
        #expect(run.exitedZero, "\(run)")
        var report = try #require(try parseJSON(run.stdout) as? [String: Any])
        report["partitions"] = nil
        return report
    }

    private static func partitionedOutcome(_ partitioning: Partitioning, read: (String) throws -> [StreamEntry]) throws
        -> (alerts: [String: [String: String]], deadLetters: Set<String>, alertCount: Int) {
        let keys = (0..<partitioning.count).map { partitioning.keys(of: $0) }
        return try outcome(alertStreams: keys.map(\.alertStream),
                           deadLetterStreams: keys.map(\.deadLetterStream) + [Streams.deadLetter], read: read)
    }

    @Test func routedIntoFourPartitionsAndDrainedByTwoWorkersTheOutcomeIsASingleWorkers() async throws {
        let input = WorkerLifecycleTests.crashInput()
        let expected = try await Self.reference(input)
        #expect(expected.alertCount > 100)

        let h = try Harness()
        try h.xaddMany(input)
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let first = try h.start(["worker", "--redis-url", h.url, "--partitions", "4", "--drain", "--batch", "50"])
        let second = try h.start(["worker", "--redis-url", h.url, "--drain", "--batch", "50"]) // the stored count
        let a = try await first.wait(timeout: 60)
        let b = try await second.wait(timeout: 60)
        #expect(a.exitedZero, "\(a)")
        #expect(b.exitedZero, "\(b)")
        let got = try Self.partitionedOutcome(try Partitioning(count: 4)) { stream in
            try h.redis.send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        #expect(got.alertCount == expected.alertCount, "no alert published twice")
        #expect(Set(got.alerts.keys) == Set(expected.alerts.keys))
        let differing = expected.alerts.filter { got.alerts[$0.key] != $0.value }
        #expect(differing.isEmpty, "\(differing.count) alerts differ, e.g. \(differing.first.map { "\($0.value) vs \(got.alerts[$0.key] ?? [:])" } ?? "")")
        #expect(got.deadLetters == expected.deadLetters)
        // Every partition's groups are at the end of their streams.
        for p in 0..<4 {
            for stream in try Partitioning(count: 4).keys(of: p).inputStreams {
                #expect(try h.lag(stream) ?? 0 == 0, "\(stream)")
            }
        }
    }

    @Test func aWorkerStartedWithAnotherPartitionCountIsRefused() async throws {
        let h = try Harness()
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let single = try await h.runDupwatch(["worker", "--redis-url", h.url, "--partitions", "1", "--drain"])
        #expect(single.status == 1 && single.stderr.contains("has 4 partitions"), "\(single)")
    }

    @Test func onAClusterThreeWorkersShareEightPartitionsWithTheSameOutcome() async throws {
        let input = WorkerLifecycleTests.crashInput()
        let expected = try await Self.reference(input)
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        for entry in input { try Self.xadd(entry, on: client) }
        let h = try Harness() // runs the binaries
        #expect(try await h.runDupwatch(["route", "--redis-url", cluster.seedList, "--partitions", "8", "--drain"], timeout: 60).exitedZero)
        let workers = try (0..<3).map { _ in
            try h.start(["worker", "--redis-url", cluster.seedList, "--partitions", "8", "--drain", "--batch", "100"])
        }
        for worker in workers {
            let result = try await worker.wait(timeout: 90)
            #expect(result.exitedZero, "\(result)")
        }
        func read(_ stream: String) throws -> [StreamEntry] {
            try client.connection(for: HashSlot(key: stream)).send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        let partitioning = try Partitioning(count: 8)
        let got = try Self.partitionedOutcome(partitioning, read: read)
        #expect(got.alertCount == expected.alertCount)
        #expect(Set(got.alerts.keys) == Set(expected.alerts.keys))
        #expect(expected.alerts.allSatisfy { got.alerts[$0.key] == $0.value })
        #expect(got.deadLetters == expected.deadLetters)
        // The eight partitions' analytics, summed by `dupwatch report`, are the single worker's.
        let report = try await Self.report(h, url: cluster.seedList)
        #expect((report["totals"] as? [String: Int])?["events"] ?? 0 > 1000)
        #expect(NSDictionary(dictionary: report).isEqual(to: expected.report), "\(report)\n!=\n\(expected.report)")

        // The router copies every partition's alerts into the stream users tail, once.
        #expect(try await h.runDupwatch(["route", "--redis-url", cluster.seedList, "--partitions", "8", "--drain"], timeout: 60).exitedZero)
        let published = try (0..<8).flatMap { try read(partitioning.keys(of: $0).alertStream) }
        let tailed = try read(Streams.alerts)
        #expect(!published.isEmpty)
        #expect(tailed.count == published.count)
        #expect(Set(tailed.map(\.fields)) == Set(published.map(\.fields)), "the same alerts, field for field")
    }

    /// Two workers share four partitions; one is SIGKILLed; the other takes its partitions when
    /// their leases lapse and goes on, with nothing lost or doubled.
    @Test func aKilledWorkersPartitionsMoveToTheOtherWhenTheirLeasesLapse() async throws {
        let partitioning = try Partitioning(count: 4)
        let leases = (0..<4).map { partitioning.keys(of: $0).lease(group: "dupwatch") }
        let input = WorkerLifecycleTests.crashInput()
        let expected = try await Self.reference(input)
        let h = try Harness()
        try h.xaddMany(Array(input.prefix(1_000)))
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let first = try h.start(["worker", "--redis-url", h.url, "--partitions", "4", "--lease-ttl", "2s", "--consumer", "w-first"])
        defer { first.signal(SIGKILL) }
        _ = try await first.waitForStderr(timeout: 10) { $0.contains("holds partition") }
        let second = try h.start(["worker", "--redis-url", h.url, "--partitions", "4", "--lease-ttl", "2s", "--consumer", "w-second"])
        defer { second.signal(SIGKILL) }
        func holders() throws -> [String] { try leases.map { try h.redis.command("GET", $0).optionalString ?? "-" } }
        let shared = try await h.eventually(timeout: 20) { Set(try holders()) == ["w-first", "w-second"] }
        let sharedHolders = try holders()
        #expect(shared, "the partitions were not shared: \(sharedHolders)\n\(second.stderrSoFar)")

        first.signal(SIGKILL)
        _ = try await first.wait(timeout: 10)
        let killed = Date()
        let tookOver = try await h.eventually(timeout: 20) { try holders().allSatisfy { $0 == "w-second" } }
        print("PartitionedWorkerTests: the survivor held every partition \(String(format: "%.1f", Date().timeIntervalSince(killed))) s after the kill (lease TTL 2 s)")
        let finalHolders = try holders()
        #expect(tookOver, "\(finalHolders)")

        // The rest of the input, routed while one worker runs: it catches up alone.
        try h.xaddMany(Array(input.dropFirst(1_000)))
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let caughtUp = try await h.eventually(timeout: 30) {
            try (0..<4).allSatisfy { p in try partitioning.keys(of: p).inputStreams.allSatisfy { try h.lag($0) == 0 } }
        }
        #expect(caughtUp)
        let got = try Self.partitionedOutcome(partitioning) { stream in
            try h.redis.send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        #expect(got.alertCount == expected.alertCount, "alerts published twice or lost")
        #expect(Set(got.alerts.keys) == Set(expected.alerts.keys))
        #expect(got.deadLetters == expected.deadLetters)
    }

    /// The read and operator commands see the whole partitioned deployment: a customer's cart,
    /// history and check read its partition, status has a row per partition, and the dead
    /// letters of every partition are listed.
    @Test func readersAndStatusSeeEveryPartition() async throws {
        let input = WorkerLifecycleTests.crashInput()
        let single = try Harness()
        try single.xaddMany(input)
        try await single.drain()
        let h = try Harness()
        try h.xaddMany(input)
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let drained = try await h.runDupwatch(["worker", "--redis-url", h.url, "--drain"])
        #expect(drained.exitedZero, "\(drained)")
        for customer in ["CC0", "CC1", "CC2", "CC3", "CC4"] {
            for command in [["cart", customer, "--json"], ["history", customer, "--json", "--limit", "50"],
                            ["check", customer, "--items", #"[{"sku":"MILK","qty":1},{"sku":"TEA","qty":1}]"#, "--json"]] {
                let expected = try await single.cli(command).stdout
                let got = try await h.cli(command).stdout
                #expect(got == expected, "\(command.joined(separator: " "))")
            }
        }
        let status = try #require(try parseJSON(try await h.cli(["status", "--json"]).stdout) as? [String: Any])
        #expect(status.int("partitions") == 4)
        let rows = try #require(status["rows"] as? [[String: Any]])
        #expect(rows.count == 4)
        for row in rows {
            let streams = try #require(row["streams"] as? [[String: Any]])
            #expect(streams.allSatisfy { $0.int("lag") == 0 }, "\(row)")
        }
        let singleStatus = try #require(try parseJSON(try await single.cli(["status", "--json"]).stdout) as? [String: Any])
        #expect(status.int("alerts") == singleStatus.int("alerts"))
        #expect(status.int("deadletters") == singleStatus.int("deadletters"))
        let table = try await h.cli(["status"]).stdout
        #expect(table.contains("4 partitions"), "\(table)")
        let letters = try #require(try parseJSON(try await h.cli(["deadletter", "list", "--json", "--count", "1000"]).stdout) as? [[String: Any]])
        #expect(letters.count == singleStatus.int("deadletters"))
    }

    /// A master is SIGKILLed while the router and two workers run: its replica takes over, the
    /// processes reconnect and go on, and the outcome is a single worker's, with no alert twice.
    /// What arrives while the router runs gets its id from Redis (`XADD *`), as the router
    /// needs; the reference then replays the very ids the cluster gave.
    @Test func aMasterKilledMidRunFailsOverAndNothingIsLostOrDoubled() async throws {
        let input = WorkerLifecycleTests.crashInput()
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        let partitioning = try Partitioning(count: 8)
        /// Producers that must not lose an entry wait for a replica to have it.
        func push(_ entries: ArraySlice<(stream: String, id: String, fields: [(String, String)])>) throws {
            for entry in entries { try Self.xadd(entry, on: client) }
            for stream in Streams.inputs {
                _ = try client.send(RedisCommand("WAIT", "1", "5000"), slot: HashSlot(key: stream))
            }
        }
        try push(input[..<1_000])
        let later = input[1_000...].map { (stream: $0.stream, id: "*", fields: $0.fields) }
        let h = try Harness()
        let router = try h.start(["route", "--redis-url", cluster.seedList, "--partitions", "8"])
        defer { router.signal(SIGKILL) }
        let workers = try (0..<2).map { _ in
            try h.start(["worker", "--redis-url", cluster.seedList, "--partitions", "8", "--batch", "50", "--lease-ttl", "2s"])
        }
        defer { workers.forEach { $0.signal(SIGKILL) } }
        func alertCount() throws -> Int {
            try (0..<8).reduce(0) { sum, p in
                let stream = partitioning.keys(of: p).alertStream
                return sum + Int(try client.send(RedisCommand("XLEN", stream), slot: HashSlot(key: stream)).throwIfError().int)
            }
        }
        #expect(try await h.eventually(timeout: 30) { try alertCount() > 0 }, "nothing processed before the kill")
        let victim = try cluster.master(of: partitioning.slot(of: 0))
        victim.kill()
        try await Task.sleep(for: .milliseconds(300))
        try push(later[...])
        // The input as the cluster holds it, in the reference's order: the same ids.
        var pushed: [(stream: String, id: String, fields: [(String, String)])] = []
        for stream in Streams.inputs {
            for entry in try client.connection(for: HashSlot(key: stream)).send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries) {
                pushed.append((stream, entry.id, (entry.fields ?? []).map { ($0.nameString, $0.valueString) }))
            }
        }
        #expect(pushed.count == input.count, "input entries lost in the failover")
        pushed.sort { (EntryID($0.id)!, $0.stream) < (EntryID($1.id)!, $1.stream) }
        let expected = try await Self.reference(pushed)
        let caughtUp = try await h.eventually(timeout: 60) {
            guard let map = try? cluster.currentTopology(), map.masters.count == 3 else { return false }
            return try (0..<8).allSatisfy { p in
                try partitioning.keys(of: p).inputStreams.allSatisfy { stream in
                    let node = try cluster.master(of: HashSlot(key: stream))
                    let info = try node.connect().send(RedisCommand("XINFO", "GROUPS", stream))
                    guard case .array(let groups) = info, let group = groups.first else { return false }
                    return (try? group.fieldMap["lag"]?.int) == 0
                }
            } && (try alertCount()) >= expected.alertCount
        }
        #expect(caughtUp, "the deployment did not catch up after the failover")
        for worker in workers { #expect(worker.isRunning, "a worker exited: \(worker.stderrSoFar.suffix(500))") }
        #expect(router.isRunning, "the router exited: \(router.stderrSoFar.suffix(500))")
        let got = try Self.partitionedOutcome(partitioning) { stream in
            try client.connection(for: HashSlot(key: stream)).send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        #expect(got.alertCount == expected.alertCount, "alerts lost or published twice (\(got.alertCount) vs \(expected.alertCount))")
        #expect(Set(got.alerts.keys) == Set(expected.alerts.keys))
        #expect(got.deadLetters == expected.deadLetters)
    }
}
