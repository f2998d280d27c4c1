import DupWatchCore
import DupWatchStore
import DupWatchWorker
import RedisClient

/// Writes batches of partitions, each as the worker commits one: its customers' state read
/// behind `WATCH` + `GET` of the partition's lease, the items applied (`ImportPlanner`), one
/// `MULTI/EXEC` on the master that owns the partition's slot.
///
/// A `WATCH` lasts until the connection's next `EXEC`, so a connection carries one batch at a
/// time. Every master therefore gets `lanes` connections (one per `RedisCluster` given), and a
/// customer always goes through the same one (by a hash of its id), so that what one commit
/// wrote is what the next batch of that connection reads, in the order Redis received them.
/// The lanes take turns, a step each: while Redis reads one lane's state, reads the follow-up
/// orders of another or runs a third's commit, the import decodes or plans a fourth's, so the
/// masters work at the same time, and each while the import does. A batch with cancellations
/// first reads the ids of its customers' orders placed before them from the history index
/// (a cancellation may cancel any earlier order), one step more. A batch's `MULTI/EXEC` and
/// the next batch's reads leave in one write, and its outcome is read just before those reads'
/// replies, the next flush's included.
///
/// The commits do not renew the leases (`ImportLeases` does, with every commit confirmed): a
/// `PEXPIRE` of the lease in one lane's commit would fire the other lanes' `WATCH` of the key.
final class PartitionCommits {
    /// One per lane: each has its own connection to every master.
    private let clusters: [RedisCluster]
    private let keys: [KeySchema]
    private let slots: [HashSlot]
    private let loaders: [StateLoader]
    private let leases: ImportLeases
    private let planner: ImportPlanner
    /// Every lane used so far, by lane index and node: it keeps its connection (and the outcome
    /// it owes) from one flush to the next.
    private var lanes: [[ClusterNode: Lane]]

    init(lanes clusters: [RedisCluster], keys: [KeySchema], slots: [HashSlot], leases: ImportLeases, planner: ImportPlanner,
         historyDepth: Int) {
        precondition(!clusters.isEmpty)
        self.clusters = clusters
        self.keys = keys
        self.slots = slots
        self.leases = leases
        self.planner = planner
        loaders = keys.map { StateLoader(keys: $0, historyDepth: historyDepth) }
        lanes = Array(repeating: [:], count: clusters.count)
    }

    /// Items of one partition: the share of one lane in one flush.
    private struct Batch {
        let partition: Int
        let items: [ImportItem]
    }

    /// One connection's work: its batches of the current flush, where the current one stands,
    /// and the commit whose outcome it owes.
    private final class Lane {
        let connection: RedisConnection
        var queue: [Batch] = []
        var next = 0
        /// What is written for `queue[next]` and not read yet; nil: nothing (the flush is done).
        var stage: Stage?
        var unconfirmed: (written: WrittenTransaction, partition: Int)?

        init(connection: RedisConnection) {
            self.connection = connection
        }
    }

    private enum Stage {
        /// `ZRANGEBYSCORE` of the history index of `asked`, the customers with a cancellation;
        /// their replies add to `named` before the state reads.
        case historyIDs(customers: [String], named: [String: Set<String>], asked: [String])
        /// The state reads.
        case reads(StateRead)
        /// The state reads' first replies are read, and the follow-up reads written.
        case followUp(StateRead)
    }

    /// Commits `batches` (partition, its items in file order); `planned` gets each plan before
    /// its commit is written. When it returns, every batch is written; the outcome of each
    /// lane's last commit is read by the next flush or by `confirmAll`.
    func flush(_ batches: [(partition: Int, items: [ImportItem])], planned: (ImportPlanner.Plan) throws -> Void) throws {
        var active: [Lane] = []
        do {
            for batch in batches where !batch.items.isEmpty {
                for (index, share) in split(batch.items).enumerated() where !share.isEmpty {
                    let lane = try lane(index, serving: slots[batch.partition])
                    if lane.queue.isEmpty { active.append(lane) }
                    lane.queue.append(Batch(partition: batch.partition, items: share))
                }
            }
            for lane in active {
                let (commands, stage) = begin(lane.queue[0])
                try lane.connection.write(commands)
                lane.stage = stage
            }
            while !active.isEmpty {
                for lane in active { try step(lane, planned: planned) }
                active.removeAll { $0.stage == nil }
            }
        } catch {
            // Whatever is left on these connections is out of step: start over on new ones.
            lanes = Array(repeating: [:], count: clusters.count)
            throw error
        }
        for index in lanes.indices {
            for lane in lanes[index].values {
                lane.queue = []
                lane.next = 0
            }
        }
    }

    /// Reads the outcome of every commit still owed, leaving every connection in step (for
    /// the lease renewals, and at the end).
    func confirmAll() throws {
        do {
            for index in lanes.indices {
                for lane in lanes[index].values { try confirm(lane) }
            }
        } catch {
            lanes = Array(repeating: [:], count: clusters.count)
            throw error
        }
    }

    /// Lane `index`'s connection to the master of `slot`: the one it had, while it is in use
    /// (the cluster client would replace a connection that owes replies), else the cluster's.
    private func lane(_ index: Int, serving slot: HashSlot) throws -> Lane {
        let cluster = clusters[index]
        if let node = cluster.topology.master(of: slot), let lane = lanes[index][node], !lane.connection.isBroken {
            return lane
        }
        let connection = try cluster.connection(for: slot)
        let node = ClusterNode(host: connection.url.host, port: connection.url.port)
        let lane = Lane(connection: connection)
        lanes[index][node] = lane
        return lane
    }

    /// A partition's items split among the lanes by customer: a customer's items stay together,
    /// in file order, and in the same lane from one flush to the next.
    private func split(_ items: [ImportItem]) -> [[ImportItem]] {
        guard clusters.count > 1 else { return [items] }
        var shares = [[ImportItem]](repeating: [], count: clusters.count)
        for item in items {
            guard let customer = item.customerID else { continue }
            shares[Int(UInt(bitPattern: customer.hashValue) % UInt(clusters.count))].append(item)
        }
        return shares
    }

    /// What to write first for `batch`: the history reads when it has cancellations, else the
    /// state reads. The history is read before the batch's `WATCH` of the lease, which is safe:
    /// the lease keeps every other writer out meanwhile, and the state reads check it.
    private func begin(_ batch: Batch) -> (commands: [RedisCommand], stage: Stage) {
        let (customers, named, latestCancellation) = ImportPlanner.reads(of: batch.items)
        guard latestCancellation.isEmpty else {
            let asked = latestCancellation.keys.sorted()
            let keys = keys[batch.partition]
            return (asked.map { RedisCommand("ZRANGEBYSCORE", keys.history($0), "-inf", "(\(latestCancellation[$0]!)") },
                    .historyIDs(customers: customers, named: named, asked: asked))
        }
        let read = stateRead(batch, customers: customers, named: named)
        return (read.commands, .reads(read))
    }

    private func stateRead(_ batch: Batch, customers: [String], named: [String: Set<String>]) -> StateRead {
        StateRead(loader: loaders[batch.partition], customers: customers, namedOrders: named, eventIDsOf: [],
                  cached: [:], after: leases.leases[batch.partition].watchCommands)
    }

    /// One step of the lane's current batch: the outcome of the commit before it is read first,
    /// then the history ids (writing the state reads), the state reads' first replies (writing
    /// the follow-up reads), and last the follow-up replies, the lease check, the plan and the
    /// commit, written together with the next batch's first reads.
    private func step(_ lane: Lane, planned: (ImportPlanner.Plan) throws -> Void) throws {
        guard let stage = lane.stage else { return }
        let connection = lane.connection
        let batch = lane.queue[lane.next]
        switch stage {
        case .historyIDs(let customers, var named, let asked):
            try confirm(lane)
            try connection.readReplies(asked.count) { index, reply in
                named[asked[index], default: []].formUnion(try reply.reply.throwIfError().array.map { try $0.string })
            }
            let read = stateRead(batch, customers: customers, named: named)
            try connection.write(read.commands)
            lane.stage = .reads(read)
        case .reads(var read):
            try confirm(lane)
            try connection.readReplies(read.commands.count) { read.decode($0, $1) }
            try read.writeFollowUp(to: connection)
            lane.stage = .followUp(read)
        case .followUp(var read):
            try read.readFollowUp(from: connection)
            let lease = leases.leases[batch.partition]
            guard try lease.isHeld(according: read.leadingReplies) else {
                _ = try? connection.command("UNWATCH")
                throw ImportError.leaseLost(key: lease.key)
            }
            let plan = planner.plan(batch.items, states: read.finish(), keys: keys[batch.partition])
            try planned(plan)
            lane.next += 1
            let next = lane.next < lane.queue.count ? begin(lane.queue[lane.next]) : nil
            let written = try connection.write(transaction: plan.commit.commands.map(\.encoded), followedBy: next?.commands ?? [])
            lane.unconfirmed = (written, batch.partition)
            lane.stage = next?.stage
        }
    }

    /// Reads the outcome of the lane's last commit, if it owes one.
    private func confirm(_ lane: Lane) throws {
        guard let (written, partition) = lane.unconfirmed else { return }
        lane.unconfirmed = nil
        switch try lane.connection.outcome(of: written) {
        case .executed(let errors):
            if let first = errors.first { throw ImportError.commitFailed(first) }
        case .watchFailed:
            throw ImportError.leaseLost(key: leases.leases[partition].key)
        case .aborted(let error):
            throw ImportError.commitFailed("\(error)")
        }
    }
}
