import DupWatchCore
import DupWatchStore
import DupWatchWorker
import RedisClient

/// Writes batches of partitions, each as the worker commits one: its customers' state read
/// behind `WATCH` + `GET` of the partition's lease, the items applied (`ImportPlanner`), one
/// `MULTI/EXEC` on the master that owns the partition's slot.
///
/// Work overlaps three ways. A `WATCH` lasts until the connection's next `EXEC`, so one
/// connection carries one batch at a time; every master therefore gets `lanes` connections
/// (one per `RedisCluster` given), and each partition's customers are split among them.
/// The lanes take turns: while Redis reads one lane's state or runs its commit, the import
/// plans another lane's batch, so the masters work at the same time and each of them while the
/// import plans. On a lane, a batch's `MULTI/EXEC` and its next batch's reads leave in one
/// write. And the last commit of a flush is confirmed only at the next flush, so Redis runs it
/// while the import reads the file on.
///
/// The commits do not renew the leases (`ImportLeases` does between flushes): a `PEXPIRE` of
/// the lease in one lane's commit would fire the other lanes' `WATCH` of the same key.
final class PartitionCommits {
    /// One per lane: each has its own connection to every master.
    private let lanes: [RedisCluster]
    private let keys: [KeySchema]
    private let slots: [HashSlot]
    private let loaders: [StateLoader]
    private let leases: ImportLeases
    private let planner: ImportPlanner
    /// Commits written and not yet confirmed: at most one per connection, the last it was sent.
    private var unconfirmed: [Unconfirmed] = []

    private struct Unconfirmed {
        let connection: RedisConnection
        let written: WrittenTransaction
        let partition: Int
    }

    init(lanes: [RedisCluster], keys: [KeySchema], slots: [HashSlot], leases: ImportLeases, planner: ImportPlanner,
         historyDepth: Int) {
        precondition(!lanes.isEmpty)
        self.lanes = lanes
        self.keys = keys
        self.slots = slots
        self.leases = leases
        self.planner = planner
        loaders = keys.map { StateLoader(keys: $0, historyDepth: historyDepth) }
    }

    /// Items of one partition (all of its customers' in the flush, or the share of one lane).
    private struct Batch {
        let partition: Int
        let items: [ImportItem]
    }

    /// A connection's queue of batches for one flush.
    private final class Lane {
        let connection: RedisConnection
        var queue: [Batch] = []
        var next = 0
        /// The reads of `queue[next]`, written and unread.
        var read: StateRead?
        var unconfirmed: Unconfirmed?

        init(connection: RedisConnection) {
            self.connection = connection
        }
    }

    /// Commits `batches` (partition, its items in file order); `planned` gets each plan before
    /// its commit is written. When it returns, every batch is written; the last commit of each
    /// node is confirmed by the next `flush` or by `confirmAll`.
    func flush(_ batches: [(partition: Int, items: [ImportItem])], planned: (ImportPlanner.Plan) throws -> Void) throws {
        try confirmAll()
        if leases.renewalDue { try leases.renewIdle() }
        var lanes: [Lane] = []
        var laneOf: [ObjectIdentifier: Lane] = [:]
        for batch in batches where !batch.items.isEmpty {
            for (index, share) in split(batch.items).enumerated() where !share.isEmpty {
                let connection = try self.lanes[index].connection(for: slots[batch.partition])
                let lane = laneOf[ObjectIdentifier(connection)] ?? {
                    let lane = Lane(connection: connection)
                    laneOf[ObjectIdentifier(connection)] = lane
                    lanes.append(lane)
                    return lane
                }()
                lane.queue.append(Batch(partition: batch.partition, items: share))
            }
        }
        do {
            for lane in lanes {
                let read = stateRead(lane.queue[0])
                try lane.connection.write(read.commands)
                lane.read = read
            }
            var active = lanes
            while !active.isEmpty {
                for lane in active { try step(lane, planned: planned) }
                active.removeAll { $0.read == nil }
            }
        } catch {
            unconfirmed = []
            throw error
        }
        unconfirmed = lanes.compactMap(\.unconfirmed)
    }

    /// Reads the outcome of every commit still unconfirmed.
    func confirmAll() throws {
        let pending = unconfirmed
        unconfirmed = []
        for commit in pending { try confirm(commit) }
    }

    /// A partition's items split among the lanes by customer (a customer's items stay together,
    /// in file order), so that each lane's share is a batch of its own. Customers of one flush
    /// in different lanes touch different keys; the next flush reads what this one committed,
    /// because it confirms every commit first.
    private func split(_ items: [ImportItem]) -> [[ImportItem]] {
        guard lanes.count > 1 else { return [items] }
        var shares = [[ImportItem]](repeating: [], count: lanes.count)
        var laneOf: [String: Int] = [:]
        for item in items {
            guard let customer = item.customerID else { continue }
            let lane = laneOf[customer] ?? {
                // Round robin over the customers as they come: even shares whatever the ids.
                let lane = laneOf.count % lanes.count
                laneOf[customer] = lane
                return lane
            }()
            shares[lane].append(item)
        }
        return shares
    }

    private func stateRead(_ batch: Batch) -> StateRead {
        let (customers, named) = ImportPlanner.reads(of: batch.items)
        return StateRead(loader: loaders[batch.partition], customers: customers, namedOrders: named, eventIDsOf: [],
                         cached: [:], after: leases.leases[batch.partition].watchCommands)
    }

    /// The lane's current batch: its commit before (if any) confirmed, its reads finished, the
    /// lease checked, its plan committed together with the next batch's reads.
    private func step(_ lane: Lane, planned: (ImportPlanner.Plan) throws -> Void) throws {
        guard var read = lane.read else { return }
        let batch = lane.queue[lane.next]
        if let previous = lane.unconfirmed {
            lane.unconfirmed = nil
            try confirm(previous)
        }
        let connection = lane.connection
        try connection.readReplies(read.commands.count) { read.decode($0, $1) }
        try read.writeFollowUp(to: connection)
        try read.readFollowUp(from: connection)
        let lease = leases.leases[batch.partition]
        guard try lease.isHeld(according: read.leadingReplies) else {
            _ = try? connection.command("UNWATCH")
            throw ImportError.leaseLost(key: lease.key)
        }
        let plan = planner.plan(batch.items, states: read.finish(), keys: keys[batch.partition])
        try planned(plan)
        lane.next += 1
        let nextRead = lane.next < lane.queue.count ? stateRead(lane.queue[lane.next]) : nil
        let written = try connection.write(transaction: plan.commit.commands.map(\.encoded), followedBy: nextRead?.commands ?? [])
        lane.unconfirmed = Unconfirmed(connection: connection, written: written, partition: batch.partition)
        lane.read = nextRead
    }

    private func confirm(_ commit: Unconfirmed) throws {
        switch try commit.connection.outcome(of: commit.written) {
        case .executed(let errors):
            if let first = errors.first { throw ImportError.commitFailed(first) }
        case .watchFailed:
            throw ImportError.leaseLost(key: leases.leases[commit.partition].key)
        case .aborted(let error):
            throw ImportError.commitFailed("\(error)")
        }
    }
}
