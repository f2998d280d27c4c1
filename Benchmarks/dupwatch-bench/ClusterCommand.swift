import ArgumentParser
import DupWatchCLI
import DupWatchBench
import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient

/// Issue 16's cluster benchmark: M partitioned workers on a Redis Cluster, measured for what
/// a 2-core machine can show (CPU per event, coordination per event, no cross-slot commits,
/// the rebalance time, latency) and turned into the capacity of K masters and K workers.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Measure partitioned workers on a Redis Cluster: drain, CPU per event per process, coordination per node, rebalance, latency, capacity.",
        discussion: """
            FLUSHALLs every master of the cluster at --redis-url (and the Redis at --single-url): \
            point it at throwaway instances (scripts/bench-cluster.sh starts them).
            """)

    // Not ConnectionOptions: its default is a single local Redis, and this needs a cluster named on purpose.
    @Option(name: .customLong("redis-url"), help: "The cluster's seed URLs, comma-separated (redis://[user:password@]host:port,...).")
    var redisURL: String
    @Flag(help: "Confirm that the cluster (and --single-url) may be flushed.") var flush = false
    @Option(help: "A plain redis-server to drain the same workload on with one unpartitioned worker, for the ratios.")
    var singleURL: String?
    @Option(help: "Partitions (a power of two).") var partitions: Int = 8
    @Option(help: "Workers sharing the partitions.") var workers: Int = 3
    @Option(help: "Entries drained.") var events: Int = 500_000
    @Option(help: "Customers in the workload (10 entries each by default, as scripts/bench-scale.sh has them).")
    var customers: Int = 50_000
    @Option(help: "SKUs in the catalogue.") var skus: Int = 20_000
    @Option(help: "Workload seed.") var seed: UInt64 = 42
    @Option(help: "The workers' --lease-ttl.") var leaseTTL: Duration = .seconds(10)
    @Option(help: "Offered rate of the latency window, which goes on during the rebalance (events/s); 0 skips both.")
    var rate: Int = 3_000
    @Option(help: "Seconds of the latency window before a worker is killed.") var latencySeconds: Int = 10
    @Option(help: "Seconds of the idle window (workers running, no input) that measures steady coordination.")
    var idleSeconds: Int = 5
    @Option(help: "A shared library to LD_PRELOAD into dupwatch's processes (jemalloc, as scripts/run.sh uses it).")
    var preload: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func validate() throws {
        guard (try? Partitioning(count: partitions)) != nil, partitions >= 2 else {
            throw ValidationError("--partitions must be a power of two from 2 to 1024 (one partition cannot run on a cluster)")
        }
        guard workers >= 1, workers <= partitions else { throw ValidationError("--workers must be 1 to --partitions (\(partitions))") }
        guard events > 0, customers > 0 else { throw ValidationError("--events and --customers must be positive") }
        guard leaseTTL.inMilliseconds >= 1000 else { throw ValidationError("--lease-ttl must be at least 1s") }
    }

    func run() throws {
        guard flush else {
            throw ValidationError("cluster FLUSHALLs every master at --redis-url (and --single-url); add --flush to confirm they are throwaway instances (scripts/bench-cluster.sh starts them)")
        }
        let seeds: [RedisURL]
        do { seeds = try RedisURL.list(parsing: redisURL) } catch { throw ValidationError("--redis-url: \(error)") }
        let partitioning = try Partitioning(count: partitions)
        let environment = preload.map { ["LD_PRELOAD": $0] } ?? [:]
        var config = WorkloadConfig()
        config.seed = seed
        config.events = events
        config.customers = customers
        config.skus = skus
        let entries = Workload.generate(config)

        let single = try singleURL.map { try drainSingleNode($0, entries: entries, environment: environment) }

        let nodes = try ClusterNodes(seeds: seeds)
        try nodes.flushAll()
        let sender = PartitionedSender(partitioning: partitioning)
        var bar = ProgressBar("cluster: loading \(partitions) partitions", total: entries.count)
        let perPartition = try sender.push(entries, to: nodes.cluster) { bar.update($0) }
        try nodes.settle()
        FileHandle.standardError.write(Data("cluster: draining \(entries.count) entries with \(workers) workers...\n".utf8))
        let run = UInt32.random(in: .min ... .max)
        let drainWorkers = (0..<workers).map { workerCommand(consumer: "bench-\(run)-drain-\($0)", drain: true) }
        let drain = try ClusterDrain(nodes: nodes, partitioning: partitioning)
            .run(entriesPerPartition: perPartition, workers: drainWorkers, environment: environment, leaseTTLMs: leaseTTL.inMilliseconds)
        let (alerts, deadLetters) = try outputs(of: partitioning, on: nodes.cluster)
        // Every key of the drain lives in a partition's slot, but for the deployment-wide two.
        let globalKeys = KeySchema()
        let allowed = Set((0..<partitions).map { partitioning.slot(of: $0) }
            + [HashSlot(key: globalKeys.members(group: "dupwatch")), HashSlot(key: globalKeys.partitionCount)])
        let outside = try nodes.keysOutside(allowed)

        var live: ClusterLiveRun.Result?
        if rate > 0 {
            var trafficConfig = config
            trafficConfig.seed = seed &+ 1
            trafficConfig.malformedShare = 0
            // The window, then the kill (up to a third of a TTL later) and the rebalance (up to a
            // TTL and a third): input must still flow until the last partition commits again.
            trafficConfig.events = rate * (latencySeconds + Int(leaseTTL.inSeconds * 2) + 10)
            let liveWorkers = (0..<workers).map { workerCommand(consumer: "bench-\(run)-live-\($0)", drain: false) }
            live = try ClusterLiveRun(nodes: nodes, partitioning: partitioning)
                .run(workers: liveWorkers, environment: environment, leaseTTLMs: leaseTTL.inMilliseconds,
                     idleSeconds: Double(idleSeconds), traffic: Workload.generate(trafficConfig), rate: rate,
                     latencySeconds: Double(latencySeconds))
        }
        let report = ClusterBenchReport(
            partitioning: partitioning, nodes: nodes, drain: drain, consumers: drainWorkers.map(\.consumer), single: single?.run, singleCalls: single?.calls,
            alerts: alerts, deadLetters: deadLetters, keysOutsidePartitionSlots: outside, live: live,
            leaseTTLMs: leaseTTL.inMilliseconds, capacityMasters: [1, 3, 8, 16])
        // With --json, stdout stays one JSON object; the summary line goes to stderr.
        if json {
            JSONOutput.print(report)
            FileHandle.standardError.write(Data((ClusterReportTable.summaryLine(report) + "\n").utf8))
        } else {
            ClusterReportTable.print(report)
            print(ClusterReportTable.summaryLine(report))
        }
    }

    /// The same workload drained on one Redis by one unpartitioned worker, and the worker's
    /// commands there (`DrainBenchmark.workerCalls`).
    private func drainSingleNode(_ url: String, entries: [GeneratedEntry], environment: [String: String]) throws
        -> (run: DrainBenchmark.Run, calls: [String: Int64]) {
        let redis = try RedisConnection(url: RedisURL(parsing: url))
        // The counters from here on are the drain's: its push, its worker, its checks.
        try redis.command("CONFIG", "RESETSTAT").throwIfError()
        let worker = [BenchCommand.siblingWorker, "worker", "--redis-url", "{url}", "--drain", "--log-level", "error"]
        let run = try DrainBenchmark(urlText: url, workerCommand: worker, workerEnvironment: environment).run(entries, label: "single node")
        return (run, DrainBenchmark.workerCalls(from: try NodeCounters.read(redis, node: url).calls, pushed: entries.count))
    }

    /// Alerts and dead letters over every partition's streams.
    private func outputs(of partitioning: Partitioning, on cluster: RedisCluster) throws -> (alerts: Int64, deadLetters: Int64) {
        var alerts: Int64 = 0, deadLetters: Int64 = 0
        for partition in 0..<partitioning.count {
            let keys = partitioning.keys(of: partition)
            alerts += try cluster.command("XLEN", keys.alertStream).int
            deadLetters += try cluster.command("XLEN", keys.deadLetterStream).int
        }
        return (alerts, deadLetters)
    }

    /// `dupwatch worker` as the benchmark runs it: quiet, under a fixed consumer name.
    private func workerCommand(consumer: String, drain: Bool) -> (arguments: [String], consumer: String) {
        ([BenchCommand.siblingWorker, "worker", "--redis-url", redisURL, "--partitions", String(partitions),
          "--consumer", consumer, "--lease-ttl", String(leaseTTL.inMilliseconds), "--log-level", "error"]
            + (drain ? ["--drain"] : []), consumer)
    }
}
