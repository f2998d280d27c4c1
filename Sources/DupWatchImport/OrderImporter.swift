import DupWatchCore
public import DupWatchStore
import DupWatchWorker
import Foundation
public import RedisClient

/// Writes an order file's orders into customer state exactly as a worker would have, through the
/// worker's own pieces: `StateLoader` reads the customers of a batch, `DuplicateRules.apply`
/// applies their orders in file order (`ImportPlanner`), `BatchCommit.writeChanges` writes the
/// difference. No alert is published and no stream or group is touched.
///
/// Each customer's orders go to the keys of the customer's partition (one partition on a
/// single Redis keeps today's names), and every commit is a MULTI/EXEC on the master of that
/// partition's slot, under WATCH of the partition's lease, which the import holds for the
/// duration (`ImportLeases`), as a worker's commit is. Memory stays the same whatever the
/// file's size: the file is read as a stream, and at most `batch` orders wait, spread over
/// the partitions, before they are written (`PartitionCommits`).
public final class OrderImporter {
    private let partitioning: Partitioning
    private let options: ImportOptions
    private let leases: ImportLeases
    private let commits: PartitionCommits
    private let rejects: RejectWriter
    private var summary = ImportSummary()
    /// Hashes of the customers seen, to count them in little memory.
    private var customersSeen = Set<Int>()

    /// Connections per master (see `PartitionCommits`). On the 2-core development host the
    /// Online Retail file took as long with 1, 2 or 4 (the cores are the limit there); with 2 a
    /// commit is half the size, and the importer's peak RSS was 43 MB instead of 50 (measured
    /// before cancellations read whole histories).
    static let lanes = 2

    /// `redis` is also used to take and renew the leases; the other lanes connect to the same
    /// nodes.
    public init(redis: RedisCluster, partitioning: Partitioning, options: ImportOptions, rejects: RejectWriter) throws {
        self.partitioning = partitioning
        self.options = options
        self.rejects = rejects
        let keys = (0..<partitioning.count).map { partitioning.keys(of: $0, prefix: options.keys.prefix) }
        let slots = keys.map { HashSlot(key: $0.lease(group: options.group)) }
        leases = ImportLeases(redis: redis, partitions: keys, slots: slots, group: options.group, owner: options.consumer,
                              ttl: options.leaseTTL)
        var lanes = [redis]
        for _ in 1..<Self.lanes { lanes.append(try RedisCluster(seeds: redis.seeds)) }
        commits = PartitionCommits(lanes: lanes, keys: keys, slots: slots, leases: leases,
                                   planner: ImportPlanner(rules: DuplicateRules(config: options.rules), limits: options.limits),
                                   historyDepth: options.rules.historyDepth)
    }

    /// Takes every partition's lease, or waits for them with `wait` (calling `waiting` once
    /// per holder).
    public func acquireLeases(waiting: (String) -> Void = { _ in }) throws {
        try leases.acquireAll(wait: options.wait, waiting: waiting)
    }

    /// Hands the leases over, after reading what the last commits came to (best effort: a
    /// lease that cannot be released lapses after its TTL).
    public func releaseLeases() {
        try? commits.confirmAll()
        leases.releaseAll()
    }

    /// Imports every item of `reader` (read ahead on a thread of its own, `FileReadAhead`);
    /// `progress` is called after each flush.
    public func run(_ reader: OrderFileReader, progress: (ImportProgress) -> Void = { _ in }) throws -> ImportSummary {
        let started = ContinuousClock.now
        func elapsed() -> Double {
            let d = ContinuousClock.now - started
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let fileSize = reader.input.fileSize
        let feed = FileReadAhead(reader: reader, aheadOrders: options.batch)
        defer { feed.stop() }
        var pending = [[ImportItem]](repeating: [], count: partitioning.count)
        var pendingCount = 0
        var last = false
        while !last {
            let chunk = try feed.next()
            last = chunk.last
            for item in chunk.items {
                if case .rejected(let line, let rows, let reason) = item {
                    summary.rejected += rows
                    try rejects.write(line: line, reason: reason)
                } else if let customer = item.customerID {
                    customersSeen.insert(customer.hashValue)
                    pending[partitioning.partition(of: customer)].append(item)
                    pendingCount += 1
                }
            }
            summary.rows = chunk.rows
            // Asked at every chunk, so that neither the flushes nor a long run of rows that
            // commit nothing (rejects) let a lease lapse.
            if leases.renewalDue {
                try commits.confirmAll()
                try leases.renewIdle()
            }
            if pendingCount >= options.batch || (last && pendingCount > 0) {
                var batches: [(partition: Int, items: [ImportItem])] = []
                for partition in pending.indices where !pending[partition].isEmpty {
                    batches.append((partition, pending[partition]))
                    pending[partition] = []
                }
                pendingCount = 0
                try commits.flush(batches, planned: account)
                for batch in batches { feed.recycle(batch.items) }
                progress(ImportProgress(rows: chunk.rows, fileBytesRead: chunk.fileBytesRead, fileSize: fileSize, seconds: elapsed()))
            }
        }
        try commits.confirmAll()
        summary.customers = customersSeen.count
        summary.seconds = elapsed()
        try rejects.flush()
        return summary
    }

    /// Counts what a planned batch did and writes its rejects.
    private func account(_ plan: ImportPlanner.Plan) throws {
        summary.orders += plan.orders
        summary.alreadyStored += plan.alreadyStored
        summary.cancellations += plan.cancellations
        for rejected in plan.rejected {
            summary.rejected += rejected.rows
            try rejects.write(line: rejected.line, reason: rejected.reason)
        }
    }
}
