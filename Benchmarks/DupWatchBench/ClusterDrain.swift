import Foundation
public import DupWatchStore
import RedisClient

/// Drains a workload already pushed into the partition streams with M partitioned workers
/// (`dupwatch worker --partitions N --drain`), and measures it: the wall time, when each
/// partition was drained, every worker's CPU (`wait4`'s rusage) and every node's counters.
public struct ClusterDrain {
    public struct Result: Sendable {
        public var events: Int
        public var wallSeconds: Double
        public var entriesPerPartition: [Int]
        /// Seconds from the workers' start until the partition's lag was 0 (sampled every 100 ms).
        public var partitionSeconds: [Double]
        public var workers: [WorkerProcess.Result]
        /// Each node's counters over the drain, in `ClusterNodes.all`'s order.
        public var nodes: [NodeCounters]
        /// The calls the benchmark itself made on each node during the drain (its lag samples,
        /// the replication wait at the end), left out of the command counts.
        public var ownCalls: [String: [String: Int64]]
    }

    public let nodes: ClusterNodes
    public let partitioning: Partitioning
    public let group: String

    public init(nodes: ClusterNodes, partitioning: Partitioning, group: String = "dupwatch") {
        self.nodes = nodes
        self.partitioning = partitioning
        self.group = group
    }

    /// - Parameter workers: each worker's command line and consumer name (announced as members
    ///   first, so that every worker's first assignment is already the final one).
    public func run(entriesPerPartition: [Int], workers: [(arguments: [String], consumer: String)],
                    environment: [String: String], leaseTTLMs: Int64) throws -> Result {
        try Membership.announce(workers.map(\.consumer), group: group, ttlMs: leaseTTLMs, on: nodes.cluster)
        // Connected before the first reading, so that its CLUSTER SLOTS is not in the drain.
        let sampler = try DrainSampler(seeds: nodes.seeds, partitioning: partitioning, group: group)
        let before = try nodes.counters()
        let start = ContinuousClock.now
        sampler.start(from: start)
        var pids: [pid_t] = []
        do {
            for worker in workers { pids.append(try WorkerProcess(arguments: worker.arguments, environment: environment).start()) }
        } catch {
            for pid in pids { kill(pid, SIGTERM); _ = WorkerProcess.wait(pid, startedAt: start) }
            sampler.stop()
            throw error
        }
        let results = WorkerProcess.waitAll(pids, startedAt: start)
        let wall = start.duration(to: .now).inSeconds
        let (seconds, ownCalls) = sampler.stop()
        let settling = try nodes.settle()
        let after = try nodes.counters()
        if let failed = results.firstIndex(where: { $0.status != 0 }) {
            throw BenchError("worker \(workers[failed].consumer) exited with status \(results[failed].status) (its log is above)")
        }
        let undrained = try (0..<partitioning.count).filter { partition in
            let keys = partitioning.keys(of: partition)
            let position = try PartitionPosition.read(keys, group: group, on: nodes.cluster.connection(for: partitioning.slot(of: partition)))
            return position.lag != 0
        }
        guard undrained.isEmpty else {
            throw BenchError("the workers exited with partitions \(undrained) not drained: a partitioned worker's --drain stopped early")
        }
        var own = settling
        for (partition, calls) in ownCalls.enumerated() where calls > 0 {
            guard let node = nodes.master(of: partitioning.slot(of: partition)) else { continue }
            own[node.description, default: [:]]["xinfo|groups", default: 0] += calls
        }
        return Result(events: entriesPerPartition.reduce(0, +), wallSeconds: wall, entriesPerPartition: entriesPerPartition,
                      partitionSeconds: seconds.map { $0 ?? wall }, workers: results,
                      nodes: zip(after, before).map { $0 - $1 }, ownCalls: own)
    }
}
