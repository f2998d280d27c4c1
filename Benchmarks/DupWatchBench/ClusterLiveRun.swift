import Foundation
public import DupWatchStore
import RedisClient

/// M partitioned workers kept running (no `--drain`): an idle window, in which every command is
/// coordination or an idle read; a latency window at a fixed offered rate; then one worker
/// SIGKILLed while the input keeps flowing, and the time until each of its partitions commits
/// again under another worker.
public struct ClusterLiveRun {
    public struct Result: Sendable {
        public var idleSeconds: Double
        /// Each node's counters over the idle window, in `ClusterNodes.all`'s order.
        public var idleNodes: [NodeCounters]
        public var latency: ClusterTraffic.Latency
        public var latencySeconds: Double
        public var offeredRate: Int
        public var killedConsumer: String
        /// The killed worker's partitions and the ms from the kill to their first commit under
        /// another worker (nil: none within the lease TTL + 15 s).
        public var rebalanceMs: [(partition: Int, ms: Double?)]
    }

    public let nodes: ClusterNodes
    public let partitioning: Partitioning
    public let group: String

    public init(nodes: ClusterNodes, partitioning: Partitioning, group: String = "dupwatch") {
        self.nodes = nodes
        self.partitioning = partitioning
        self.group = group
    }

    public func run(workers: [(arguments: [String], consumer: String)], environment: [String: String], leaseTTLMs: Int64,
                    idleSeconds: Double, traffic entries: [GeneratedEntry], rate: Int, latencySeconds: Double) throws -> Result {
        try Membership.announce(workers.map(\.consumer), group: group, ttlMs: leaseTTLMs, on: nodes.cluster)
        var pids: [pid_t?] = []
        defer {
            for case let pid? in pids {
                kill(pid, SIGTERM)
                _ = WorkerProcess.wait(pid, startedAt: .now)
            }
        }
        for worker in workers { pids.append(try WorkerProcess(arguments: worker.arguments, environment: environment).start()) }
        try waitForSteadyAssignment(consumers: workers.map(\.consumer), timeoutMs: 3 * leaseTTLMs + 10_000)

        let idleBefore = try nodes.counters()
        let idleStart = ContinuousClock.now
        usleep(UInt32(idleSeconds * 1e6))
        let idleAfter = try nodes.counters()
        let idleWall = idleStart.duration(to: .now).inSeconds

        FileHandle.standardError.write(Data("cluster: offering \(rate) events/s for \(Int(latencySeconds)) s, then SIGKILL of \(workers[0].consumer)...\n".utf8))
        let traffic = ClusterTraffic(seeds: nodes.seeds, partitioning: partitioning, entries: entries, rate: rate)
        traffic.start()
        usleep(UInt32(latencySeconds * 1e6))
        for (index, pid) in pids.enumerated() where pid.map(WorkerProcess.hasExited) ?? false {
            try? traffic.stop(drainSeconds: 0)
            throw BenchError("worker \(workers[index].consumer) exited during the latency window (its error is above)")
        }

        // The workers started together, so their heartbeats keep one phase; a kill at a fixed
        // time after the start would always meet the same phase and measure one case of the
        // rebalance (which takes from one lease TTL to a TTL and a third). A random delay
        // within one heartbeat period samples the phase instead.
        usleep(UInt32.random(in: 0..<UInt32(leaseTTLMs * 1000 / 3)))
        let victim = workers[0].consumer
        let victimPartitions = try holders().filter { $0.value == victim }.map(\.key).sorted()
        let killedAtSeconds = traffic.elapsedSeconds
        let killedAt = ContinuousClock.now
        kill(pids[0]!, SIGKILL)
        _ = WorkerProcess.wait(pids[0]!, startedAt: killedAt)
        pids[0] = nil
        let rebalance: [(partition: Int, ms: Double?)]
        do {
            rebalance = try timeToCommitAgain(victimPartitions, since: killedAt, timeoutMs: leaseTTLMs + 15_000)
        } catch {
            try? traffic.stop(drainSeconds: 0)
            throw error
        }
        try traffic.stop()
        return Result(idleSeconds: idleWall, idleNodes: zip(idleAfter, idleBefore).map { $0 - $1 },
                      latency: traffic.latency(sentIn: 0..<killedAtSeconds), latencySeconds: killedAtSeconds,
                      offeredRate: rate, killedConsumer: victim, rebalanceMs: rebalance)
    }

    /// Each partition's lease holder (released or absent leases left out).
    private func holders() throws -> [Int: String] {
        var holders: [Int: String] = [:]
        for partition in 0..<partitioning.count {
            let key = partitioning.keys(of: partition).lease(group: group)
            let holder = try nodes.cluster.send(RedisCommand("GET", key), slot: partitioning.slot(of: partition)).throwIfError().optionalString
            if let holder, !holder.hasPrefix("released:") { holders[partition] = holder }
        }
        return holders
    }

    /// Until every partition is held by one of `consumers`, each holding its even share.
    private func waitForSteadyAssignment(consumers: [String], timeoutMs: Int64) throws {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var last: [Int: String] = [:]
        while ContinuousClock.now < deadline {
            last = try holders()
            let load = Dictionary(grouping: last.values, by: { $0 }).mapValues(\.count)
            let floor = partitioning.count / consumers.count
            if last.count == partitioning.count, load.keys.allSatisfy(consumers.contains),
               consumers.allSatisfy({ (floor...floor + 1).contains(load[$0] ?? 0) }) { return }
            usleep(100_000)
        }
        throw BenchError("the workers did not share the \(partitioning.count) partitions evenly within \(timeoutMs) ms (holders: \(last.sorted { $0.key < $1.key }))")
    }

    /// Polls the partitions' committed positions every 20 ms until each has moved.
    private func timeToCommitAgain(_ partitions: [Int], since killedAt: ContinuousClock.Instant,
                                   timeoutMs: Int64) throws -> [(partition: Int, ms: Double?)] {
        func position(_ partition: Int) throws -> PartitionPosition {
            try PartitionPosition.read(partitioning.keys(of: partition), group: group,
                                       on: nodes.cluster.connection(for: partitioning.slot(of: partition)))
        }
        let before = try Dictionary(uniqueKeysWithValues: partitions.map { ($0, try position($0)) })
        var committedAfter: [Int: Double] = [:]
        while committedAfter.count < partitions.count, killedAt.duration(to: .now) < .milliseconds(timeoutMs) {
            for partition in partitions where committedAfter[partition] == nil {
                if try position(partition).lastDelivered != before[partition]!.lastDelivered {
                    committedAfter[partition] = Double(killedAt.duration(to: .now).inMicroseconds) / 1000
                }
            }
            usleep(20_000)
        }
        return partitions.map { ($0, committedAfter[$0]) }
    }
}
