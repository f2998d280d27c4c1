import ArgumentParser
import DupWatchCLI
import DupWatchBench
import DupWatchStore
import Foundation
import RedisClient

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure DupWatch (or another worker) on a seeded workload: drain throughput, costs, memory, latency.",
        discussion: "FLUSHALLs the Redis it is given: point it at a throwaway instance (scripts/bench.sh starts one).")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Confirm that the Redis at --redis-url may be flushed.") var flush = false
    @Option(help: "Entries preloaded for the drain measurement.") var events: Int = 1_000_000
    @Option(help: "Customers in the workload.") var customers: Int = 100_000
    @Option(help: "SKUs in the catalogue (Zipf-like popularity).") var skus: Int = 20_000
    @Option(help: "Workload seed.") var seed: UInt64 = 42
    @Option(help: "Drain runs and latency runs; the median is reported (for latency, the run with the median p99).")
    var runs: Int = 3
    @Option(help: "Replay the Online Retail CSV (.csv.gz) instead of the synthetic workload.") var replay: String?
    @Option(help: "Offered rate for the latency measurement (events/s); 0 skips it.") var rate: Int = 20_000
    @Option(help: "Seconds the latency producer offers its rate.") var latencySeconds: Int = 10
    @Option(help: """
        Entries of the same workload drained before each latency window, so that its customers \
        already have carts and orders, as in production (0: the window starts from an empty store).
        """)
    var latencyWarmEvents: Int = 0
    @Option(help: "Customers of the memory measurement (cart of 5 lines + 5 orders of 3 lines each); 0 skips it.")
    var memoryCustomers: Int = 10_000
    @Option(help: "Worker command to drain with ({url} = the Redis URL). Default: the dupwatch next to this dupwatch-bench, worker --drain.")
    var worker: String?
    @Option(help: "Name of the worker in the report.") var label: String = "dupwatch"
    @Option(help: """
        Partitions for the latency window (one Redis): the producer writes the unpartitioned \
        streams, `dupwatch route` moves them, `dupwatch worker --partitions N` processes them, \
        and the alerts are read from every partition's stream. 1: the worker alone, as always.
        """)
    var partitions: Int = 1
    @Flag(help: """
        With --partitions: time each alert where users tail it, in stream:alerts:duplicate (the \
        router copies the partitions' alerts there), instead of in its partition's own stream.
        """)
    var tailUnifiedAlerts = false
    @Option(help: "A shared library to LD_PRELOAD into dupwatch's processes (scripts/bench.sh passes jemalloc, as scripts/run.sh uses it).")
    var preload: String?
    @Option(help: "Write an SVG of the latency distribution and the backlog over time.") var plot: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Flag(name: .customLong("floor"), help: """
        Also measure the host's latency floor: the same producer and alert reader with a relay in \
        the worker's place (XREAD, then MULTI/EXEC of the alerts; no state, no rules), with one \
        round trip reading the entries' carts in between, with that and a reader thread \
        handing each read over, as DupWatch's does, and with a reader thread and DupWatch's \
        state reads and commit (no rules).
        """)
    var measureFloor = false

    func validate() throws {
        if tailUnifiedAlerts, partitions == 1 {
            throw ValidationError("--tail-unified-alerts needs --partitions 2 or more: one partition publishes to stream:alerts:duplicate itself")
        }
        if partitions > 1 {
            guard (try? Partitioning(count: partitions)) != nil else { throw ValidationError("--partitions must be a power of two, 1 to 1024") }
            guard !measureFloor, latencyWarmEvents == 0 else {
                throw ValidationError("--partitions measures the latency window from an empty store, without --floor or --latency-warm-events")
            }
        }
    }

    func run() throws {
        guard flush else {
            throw ValidationError("bench FLUSHALLs the Redis at the given URL; add --flush to confirm it is a throwaway instance (scripts/bench.sh starts one)")
        }
        _ = try connection.url() // validates it
        let urlText = connection.urlText
        let me = Self.benchExecutable
        let workerCommand = worker.map { $0.split(separator: " ").map(String.init) }
            ?? Self.dupwatchWorker(url: "{url}", drain: true)

        let entries: [GeneratedEntry]
        if let replay {
            entries = try RetailReplay.entries(csvGz: replay, limit: events)
        } else {
            var config = WorkloadConfig()
            config.seed = seed
            config.events = events
            config.customers = customers
            config.skus = skus
            entries = Workload.generate(config)
        }

        // DupWatch's own processes get the allocator scripts/run.sh gives the worker; a --worker
        // command runs as it is.
        let drain = try DrainBenchmark(urlText: urlText, workerCommand: workerCommand,
                                       workerEnvironment: worker == nil ? ownEnvironment : [:])
        var results: [DrainBenchmark.Run] = []
        for run in 1...max(1, runs) {
            results.append(try drain.run(entries, label: "\(label) drain run \(run)/\(runs)"))
        }
        let median = medianRun(results, by: \.eventsPerSecond)! // runs >= 1

        var bytesPerCustomer: Double?
        if memoryCustomers > 0 {
            let memory = try drain.run(MemoryBenchmark.entries(customers: memoryCustomers), label: "\(label) memory")
            bytesPerCustomer = Double(memory.memoryDeltaBytes) / Double(memoryCustomers)
        }

        // One latency run is at the mercy of whatever else the two cores do for those seconds;
        // like the drain, it is repeated and the median run (by p99) is reported whole.
        var latencyRuns: [LatencyBenchmark.Result] = []
        if rate > 0, worker == nil {
            let arguments = Self.dupwatchWorker(url: urlText, drain: false)
            for _ in 1...max(1, runs) { latencyRuns.append(try measureLatency(urlText: urlText, worker: arguments)) }
        }
        let latency = medianRun(latencyRuns, by: \.p99Micros)
        var floors: [Floor] = []
        if measureFloor, rate > 0, worker == nil {
            for relay in Floor.Relay.allCases {
                let arguments = [me, "relay", "--redis-url", urlText] + relay.options
                var floorRuns: [LatencyBenchmark.Result] = []
                for _ in 1...max(1, runs) { floorRuns.append(try measureLatency(urlText: urlText, worker: arguments)) }
                floors.append(Floor(relay: relay, runs: floorRuns, median: medianRun(floorRuns, by: \.p99Micros)!))
            }
        }
        if let plot, let latency {
            let svg = SVGPlot.render(latenciesMicros: latency.latencies, lag: latency.lag,
                                     title: "\(label): \(latency.offeredRate) events/s offered for \(latencySeconds) s")
            try svg.write(toFile: plot, atomically: true, encoding: .utf8)
        }
        report(results: results, median: median, bytesPerCustomer: bytesPerCustomer, latency: latency,
               latencyRuns: latencyRuns, floors: floors)
    }

    /// This `dupwatch-bench`, which runs the relays, by the path the system started it from
    /// (not `argv[0]`, which is a bare name when it was found on PATH).
    static var benchExecutable: String {
        Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
    }

    /// The `dupwatch` built beside this `dupwatch-bench`: the worker the benchmark measures.
    static var siblingWorker: String {
        URL(fileURLWithPath: benchExecutable).deletingLastPathComponent().appendingPathComponent("dupwatch").path
    }

    /// The worker as the benchmark runs it: quiet, and with `drain` until caught up.
    private static func dupwatchWorker(url: String, drain: Bool) -> [String] {
        [siblingWorker, "worker", "--redis-url", url] + (drain ? ["--drain"] : []) + ["--log-level", "warning"]
    }

    /// The run in the middle when ordered by `key` (the upper one of an even count); nil for none.
    private func medianRun<Run, Key: Comparable>(_ runs: [Run], by key: KeyPath<Run, Key>) -> Run? {
        runs.sorted { $0[keyPath: key] < $1[keyPath: key] }.dropFirst(runs.count / 2).first
    }

    /// The latency measured with `LatencyFloorRelay` in the worker's place.
    private struct Floor {
        /// The relays `--floor` measures, each a step closer to DupWatch.
        enum Relay: CaseIterable {
            case bare, stateRead, stateReadHandOver, dupwatchShaped

            /// `dupwatch relay`'s options for this relay.
            var options: [String] {
                switch self {
                case .bare: ["--state-reads", "0"]
                case .stateRead: ["--state-reads", "1"]
                // Read on a second thread that hands each read over, as DupWatch's reader does.
                case .stateReadHandOver: ["--state-reads", "1", "--hand-over"]
                // DupWatch's state reads and commit, without its rules (`LatencyFloorRelay.dupwatchShaped`).
                case .dupwatchShaped: ["--state-reads", "0", "--hand-over", "--dupwatch-shaped"]
                }
            }

            /// The JSON fields' prefix.
            var name: String {
                switch self {
                case .bare: "floor"
                case .stateRead: "floor_read"
                case .stateReadHandOver: "floor_read_handover"
                case .dupwatchShaped: "floor_shaped"
                }
            }

            var title: String {
                switch self {
                case .bare: "relay: XREAD, EXEC"
                case .stateRead: "relay: XREAD, 1 state read, EXEC"
                case .stateReadHandOver: "relay: XREAD, 1 state read, EXEC, reader thread"
                case .dupwatchShaped: "relay: reader thread, DupWatch's state reads and commit, no rules"
                }
            }
        }

        var relay: Relay
        var runs: [LatencyBenchmark.Result]
        var median: LatencyBenchmark.Result
    }

    /// The environment of the dupwatch processes the benchmark starts.
    private var ownEnvironment: [String: String] {
        preload.map { ["LD_PRELOAD": $0] } ?? [:]
    }

    /// `worker`: the command run in the worker's place during the window.
    private func measureLatency(urlText: String, worker: [String]) throws -> LatencyBenchmark.Result {
        let redis = try RedisConnection(url: RedisURL(parsing: urlText), commandTimeoutMs: 60_000)
        _ = try redis.command("FLUSHALL")
        // The drains' writes may have started an AOF rewrite: it is theirs, not the latency run's.
        try RedisInfo.waitForAOFRewrite(redis)
        var config = WorkloadConfig()
        config.seed = seed &+ 1
        config.events = latencyWarmEvents + rate * latencySeconds
        config.customers = customers
        config.skus = skus
        config.malformedShare = 0
        var entries = Workload.generate(config)
        if latencyWarmEvents > 0 {
            let warm = Array(entries.prefix(latencyWarmEvents))
            entries.removeFirst(warm.count)
            try Workload.push(warm, keys: KeySchema(), to: redis)
            let drained = try WorkerProcess(arguments: Self.dupwatchWorker(url: urlText, drain: true),
                                            environment: ownEnvironment).run()
            guard drained.status == 0 else { throw ValidationError("warming the store: the worker exited with status \(drained.status)") }
            try RedisInfo.waitForAOFRewrite(redis)
        }
        var latency = LatencyBenchmark(urlText: urlText)
        var arguments = worker
        var router: pid_t?
        if partitions > 1, worker.first == Self.siblingWorker {
            let partitioning = try Partitioning(count: partitions)
            let keys = (0..<partitions).map { partitioning.keys(of: $0) }
            latency = LatencyBenchmark(urlText: urlText, alertStreams: tailUnifiedAlerts ? [KeySchema().alertStream] : keys.map(\.alertStream),
                                       lagStreams: keys.flatMap(\.inputStreams))
            arguments += ["--partitions", String(partitions)]
            router = try WorkerProcess(arguments: [Self.siblingWorker, "route", "--redis-url", urlText, "--partitions", String(partitions),
                                                   "--log-level", "warning"], environment: ownEnvironment).start()
        }
        defer {
            if let router {
                kill(router, SIGTERM)
                _ = WorkerProcess.wait(router, startedAt: .now)
            }
        }
        let process = WorkerProcess(arguments: arguments, environment: ownEnvironment)
        let pid = try process.start()
        defer {
            kill(pid, SIGTERM)
            _ = WorkerProcess.wait(pid, startedAt: .now)
        }
        usleep(partitions > 1 ? 2_000_000 : 1_000_000) // groups created, leases taken
        let result = try latency.run(entries, rate: rate)
        // Without this, a process that died at once would be reported as a latency of 0 ms.
        if WorkerProcess.hasExited(pid) {
            throw BenchError("\(worker.first ?? "the worker") \(worker.dropFirst().first ?? "worker") exited during the latency window (its error is above): no latency to report")
        }
        return result
    }

    private func report(results: [DrainBenchmark.Run], median: DrainBenchmark.Run, bytesPerCustomer: Double?,
                        latency: LatencyBenchmark.Result?, latencyRuns: [LatencyBenchmark.Result], floors: [Floor]) {
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        let ms = { (us: UInt64) in f(Double(us) / 1000, 2) }
        if json {
            let output = BenchReport(
                label: label, results: results, median: median, customers: customers, bytesPerCustomer: bytesPerCustomer,
                latency: latency, latencyRuns: latencyRuns, latencyWarmEvents: latencyWarmEvents,
                floors: floors.map { (relay: $0.relay.name, title: $0.relay.title, runs: $0.runs, median: $0.median) })
            JSONOutput.print(output)
            return
        }
        print("DupWatch bench — \(label), \(median.events) events, \(customers) customers, seed \(seed)")
        print("drain runs (events/s): " + results.map { f($0.eventsPerSecond, 0) }.joined(separator: ", ") + "  (median below)")
        var table = TextTable("MEASURE", "VALUE")
        table.add("events/s (median of \(results.count))", f(median.eventsPerSecond, 0))
        table.add("alerts / dead letters", "\(median.alerts) / \(median.deadLetters)")
        table.add("redis CPU µs/event (main thread)", f(median.redisMicrosPerEvent, 2))
        table.add("worker CPU µs/event", f(median.workerMicrosPerEvent, 2))
        table.add("worker peak RSS", f(Double(median.workerMaxRSSBytes) / 1_048_576) + " MB")
        table.add("redis used_memory delta / customer", f(Double(median.memoryDeltaBytes) / Double(max(1, customers)), 0) + " B")
        table.add("AOF growth / event", median.aofBytesPerEvent.map {
            f($0) + " B" + (median.aofRewrites > 0 ? " (\(median.aofRewrites) rewrite\(median.aofRewrites == 1 ? "" : "s") during the drain; up to 50 ms of writes each not counted)" : "")
        } ?? "n/a (AOF off)")
        if let bytesPerCustomer { table.add("bytes / customer (cart 5 + 5 orders × 3)", f(bytesPerCustomer, 0) + " B") }
        if let latency {
            if latencyWarmEvents > 0 { table.add("latency: entries drained before each window", "\(latencyWarmEvents)") }
            table.add("latency @ \(latency.offeredRate)/s: sent per second", f(Double(latency.sent) / latency.seconds, 0))
            table.add("latency @ \(latency.offeredRate)/s: alerts measured", "\(latency.measured)")
            table.add("latency p50 / p99 / p99.9 / max (median run)", "\(ms(latency.p50Micros)) / \(ms(latency.p99Micros)) / \(ms(latency.p999Micros)) / \(ms(latency.maxMicros)) ms")
            table.add("latency p99 of each run", latencyRuns.map { ms($0.p99Micros) }.joined(separator: ", ") + " ms")
            table.add("max backlog (lag + pending)", "\(latency.lag.map(\.1).max() ?? 0)")
            table.add("slowest alert: entry sent / alert read (s into the window, median run)",
                      "\(f(latency.slowestSentAtSeconds, 3)) / \(f(latency.slowestReadAtSeconds, 3))")
            table.add("alerts over 100 ms, each run", latencyRuns.map { "\($0.alertsOver100ms)" }.joined(separator: ", "))
        }
        for floor in floors {
            table.add("floor (\(floor.relay.title)) p50 / p99 / p99.9", "\(ms(floor.median.p50Micros)) / \(ms(floor.median.p99Micros)) / \(ms(floor.median.p999Micros)) ms")
            table.add("floor (\(floor.relay.title)) p99 of each run", floor.runs.map { ms($0.p99Micros) }.joined(separator: ", ") + " ms")
        }
        print(table.rendered)
        print("bench events/s=\(f(median.eventsPerSecond, 0)) redis_us_per_event=\(f(median.redisMicrosPerEvent, 2)) p99_ms=\(latency.map { ms($0.p99Micros) } ?? "n/a") bytes_per_customer=\(bytesPerCustomer.map { f($0, 0) } ?? "n/a")")
    }
}
