import Foundation
public import DupWatchStore
import RedisClient

/// One `dupwatch-bench cluster` run, as figures: what `--json` prints and the table is read
/// from. Every ratio and rate is computed here, from the phases' raw results.
public struct ClusterBenchReport: Encodable {
    public struct Node: Encodable {
        public var node: String
        public var role: String
        public var partitions: [Int]
        /// Entries of the partitions it serves.
        public var events: Int
        public var main_thread_cpu_ms: Double
        public var process_cpu_ms: Double
        /// Its whole process's CPU per event of the run (all partitions'), so that the nodes add up.
        public var process_us_per_event: Double
        public var commands: Int64
        public var coordination: Int64
        public var fencing: Int64
        /// Coordination commands per 1,000 of its events over the whole drain (start-up included).
        public var coordination_per_1000: Double?
        public var fencing_per_1000: Double?
        /// Commands per second in the idle window other than the idle reads (`XREAD`):
        /// membership, lease renewals, slot-map refreshes.
        public var idle_coordination_per_s: Double?
        /// `idle_coordination_per_s` per 1,000 of its events at the drain's rate: the
        /// time-driven coordination at steady state (an upper bound: under load the renewals
        /// ride in the commits).
        public var steady_coordination_per_1000: Double?
        public var crossslot_errors: Int64
    }

    public struct Partition: Encodable {
        public var partition: Int
        public var slot: Int
        public var node: String
        public var events: Int
        public var drained_s: Double
        public var events_per_s: Double
    }

    public struct Worker: Encodable {
        public var consumer: String
        /// From the start of the drain to its exit (`--drain`: its partitions caught up).
        public var wall_s: Double
        public var cpu_s: Double
        public var us_per_event: Double
        public var peak_rss_mb: Double
    }

    public struct Single: Encodable {
        public var events_per_s: Double
        public var redis_us_per_event: Double
        public var redis_process_us_per_event: Double
        public var worker_us_per_event: Double
        /// The worker's Redis commands per event and its commits (`EXEC`) per 1,000 events.
        public var commands_per_event: Double?
        public var commits_per_1000: Double?
        public var alerts: Int64
        public var deadletters: Int64
    }

    public struct Rebalance: Encodable {
        public var killed: String
        public var partitions: [Int]
        /// Per partition, ms from the SIGKILL to its first commit under another worker (nil: none in time).
        public var ms: [Double?]
        public var max_ms: Double?
        public var lease_ttl_ms: Int64
        /// Lease TTL + 2 s, the bound.
        public var limit_ms: Int64
    }

    public struct Latency: Encodable {
        public var rate: Int
        public var seconds: Double
        public var alerts: Int
        public var p50_ms: Double
        public var p99_ms: Double
        public var p999_ms: Double
        public var max_ms: Double
    }

    public struct Capacity: Encodable {
        public var masters: Int
        public var workers: Int
        public var cores: Int
        public var events_per_s: Double
    }

    public var partitions: Int
    public var workers: Int
    public var masters: Int
    public var replicas: Int
    public var events: Int
    public var wall_s: Double
    public var events_per_s: Double
    /// The masters' command threads, summed, per event: comparable with a single Redis's.
    public var redis_us_per_event: Double
    /// The masters' whole processes (AOF fsync thread included) per event.
    public var redis_process_us_per_event: Double
    /// The replicas' whole processes per event (a single Redis has none to compare with).
    public var replica_us_per_event: Double
    public var worker_us_per_event: Double
    /// The workers' commands on the masters per event (the benchmark's own left out), and
    /// their commits (`EXEC`) per 1,000 events: what the Redis CPU per event is made of.
    public var commands_per_event: Double
    public var commits_per_1000: Double
    public var single: Single?
    public var redis_ratio: Double?
    public var redis_process_ratio: Double?
    public var worker_ratio: Double?
    public var alerts: Int64
    public var deadletters: Int64
    public var coordination_per_1000_max: Double?
    public var steady_coordination_per_1000_max: Double?
    public var fencing_per_1000: Double
    public var crossslot_errors: Int64
    public var keys_outside_partition_slots: Int64
    public var node_stats: [Node]
    public var partition_stats: [Partition]
    public var worker_stats: [Worker]
    public var rebalance: Rebalance?
    public var latency: Latency?
    public var capacity_bottleneck: String
    public var capacity: [Capacity]

    /// - Parameter singleCalls: the single node's commands of the worker in its drain
    ///   (`DrainBenchmark.workerCalls`), when known.
    public init(partitioning: Partitioning, nodes: ClusterNodes, drain: ClusterDrain.Result, consumers: [String],
                single: DrainBenchmark.Run?, singleCalls: [String: Int64]?, alerts: Int64, deadLetters: Int64, keysOutsidePartitionSlots: Int64,
                live: ClusterLiveRun.Result?, leaseTTLMs: Int64, capacityMasters: [Int]) {
        let n = Double(max(1, drain.events))
        partitions = partitioning.count
        workers = consumers.count
        masters = nodes.masters.count
        replicas = nodes.replicas.count
        events = drain.events
        wall_s = drain.wallSeconds
        events_per_s = n / drain.wallSeconds
        let masterCounters = drain.nodes.filter { !$0.isReplica }
        let redisMicros = masterCounters.map(\.mainThreadCPUMicros).reduce(0, +) / n
        let redisProcessMicros = masterCounters.map(\.processCPUMicros).reduce(0, +) / n
        let workerMicros = drain.workers.map(\.cpuSeconds).reduce(0, +) * 1e6 / n
        redis_us_per_event = redisMicros
        redis_process_us_per_event = redisProcessMicros
        replica_us_per_event = drain.nodes.filter(\.isReplica).map(\.processCPUMicros).reduce(0, +) / n
        worker_us_per_event = workerMicros
        self.single = single.map {
            Single(events_per_s: $0.eventsPerSecond, redis_us_per_event: $0.redisMicrosPerEvent,
                   redis_process_us_per_event: $0.redisProcessMicrosPerEvent, worker_us_per_event: $0.workerMicrosPerEvent,
                   commands_per_event: singleCalls.map { Double($0.values.reduce(0, +)) / n },
                   commits_per_1000: singleCalls.map { Double($0["exec"] ?? 0) * 1000 / n },
                   alerts: $0.alerts, deadletters: $0.deadLetters)
        }
        let masterMixes = masterCounters.map { CommandMix(calls: $0.calls, own: drain.ownCalls[$0.node] ?? [:]) }
        commands_per_event = Double(masterMixes.map(\.total).reduce(0, +)) / n
        commits_per_1000 = Double(masterCounters.map { $0.calls["exec"] ?? 0 }.reduce(0, +)) * 1000 / n
        redis_ratio = single.map { redisMicros / $0.redisMicrosPerEvent }
        redis_process_ratio = single.map { redisProcessMicros / $0.redisProcessMicrosPerEvent }
        worker_ratio = single.map { workerMicros / $0.workerMicrosPerEvent }
        self.alerts = alerts
        deadletters = deadLetters
        keys_outside_partition_slots = keysOutsidePartitionSlots

        let partitionsOf = Dictionary(grouping: 0..<partitioning.count) {
            nodes.master(of: partitioning.slot(of: $0))?.description ?? "?"
        }
        let idle = live.map { Dictionary(uniqueKeysWithValues: $0.idleNodes.map { ($0.node, $0) }) } ?? [:]
        var fencing: Int64 = 0
        node_stats = drain.nodes.map { counters in
            let served = counters.isReplica ? [] : partitionsOf[counters.node] ?? []
            let events = served.map { drain.entriesPerPartition[$0] }.reduce(0, +)
            let mix = CommandMix(calls: counters.calls, own: drain.ownCalls[counters.node] ?? [:])
            fencing += counters.isReplica ? 0 : mix.fencing
            let perThousand = { (count: Int64) in events > 0 && !counters.isReplica ? Double(count) * 1000 / Double(events) : nil }
            let idleRate = idle[counters.node].map { idle in
                Double(idle.calls.filter { $0.key != "xread" && $0.key != "info" }.values.reduce(0, +)) / live!.idleSeconds
            }
            let eventsPerSecond = Double(events) / drain.wallSeconds
            return Node(node: counters.node, role: counters.isReplica ? "replica" : "master", partitions: served, events: events,
                        main_thread_cpu_ms: counters.mainThreadCPUMicros / 1000, process_cpu_ms: counters.processCPUMicros / 1000,
                        process_us_per_event: counters.processCPUMicros / n,
                        commands: mix.total, coordination: mix.coordination, fencing: mix.fencing,
                        coordination_per_1000: perThousand(mix.coordination), fencing_per_1000: perThousand(mix.fencing),
                        idle_coordination_per_s: idleRate,
                        steady_coordination_per_1000: counters.isReplica || events == 0 ? nil : idleRate.map { $0 * 1000 / eventsPerSecond },
                        crossslot_errors: counters.errors["CROSSSLOT"] ?? 0)
        }
        coordination_per_1000_max = node_stats.compactMap(\.coordination_per_1000).max()
        steady_coordination_per_1000_max = node_stats.compactMap(\.steady_coordination_per_1000).max()
        fencing_per_1000 = Double(fencing) * 1000 / n
        crossslot_errors = node_stats.map(\.crossslot_errors).reduce(0, +)
        partition_stats = (0..<partitioning.count).map { partition in
            let seconds = drain.partitionSeconds[partition]
            return Partition(partition: partition, slot: Int(partitioning.slot(of: partition).value),
                             node: nodes.master(of: partitioning.slot(of: partition))?.description ?? "?",
                             events: drain.entriesPerPartition[partition], drained_s: seconds,
                             events_per_s: Double(drain.entriesPerPartition[partition]) / seconds)
        }
        worker_stats = zip(consumers, drain.workers).map {
            Worker(consumer: $0, wall_s: $1.wallSeconds, cpu_s: $1.cpuSeconds, us_per_event: $1.cpuSeconds * 1e6 / n,
                   peak_rss_mb: Double($1.maxRSSBytes) / 1_048_576)
        }
        rebalance = live.map { live in
            let times = live.rebalanceMs.map(\.ms)
            return Rebalance(killed: live.killedConsumer, partitions: live.rebalanceMs.map(\.partition), ms: times,
                             max_ms: times.contains(where: { $0 == nil }) ? nil : times.compactMap { $0 }.max(),
                             lease_ttl_ms: leaseTTLMs, limit_ms: leaseTTLMs + 2000)
        }
        latency = live.map {
            Latency(rate: $0.offeredRate, seconds: $0.latencySeconds, alerts: $0.latency.alerts,
                    p50_ms: Double($0.latency.p50Micros) / 1000, p99_ms: Double($0.latency.p99Micros) / 1000,
                    p999_ms: Double($0.latency.p999Micros) / 1000, max_ms: Double($0.latency.maxMicros) / 1000)
        }
        let model = CapacityModel(partitions: partitioning.count, redisMicrosPerEvent: redisMicros,
                                  workerMicrosPerEvent: workerMicros)
        capacity_bottleneck = model.bottleneck
        capacity = capacityMasters.map {
            Capacity(masters: $0, workers: $0, cores: 2 * $0, events_per_s: model.eventsPerSecond(masters: $0))
        }
    }
}
