import Foundation
public import Logging
public import Metrics
import DupWatchCore
public import DupWatchStore
public import RedisClient

/// A worker of a partitioned deployment: one thread runs every partition this worker holds, on
/// a single node or a Redis Cluster. Each partition's decisions are a `PartitionRunner`; this
/// class only carries them out. Workers share the partitions through `PartitionAssignment`
/// (the live members are a sorted set renewed by each worker), and each partition's lease,
/// checked inside every commit, fences a worker that lost it.
///
/// A partition's batch is one XREAD of its three streams (one slot, one node), the state
/// reads, and one MULTI/EXEC with the effects, the group moves and the lease renewal, as the
/// single-partition `Worker` does, without its read-ahead.
public final class PartitionedWorker {
    let config: WorkerConfig
    let seeds: [RedisURL]
    let partitioning: Partitioning
    let logger: Logger
    let stop: StopSignal
    private let planner: BatchPlanner
    private var partitions: [Partition]
    private var cluster: RedisCluster?
    private var nextHeartbeat = ContinuousClock.now
    private var assignedOnce = false
    /// Rounds in a row in which no partition made progress (see `pauseIdle`).
    private var idleRounds = 0
    public private(set) var stats = WorkerStats()
    /// Read by another thread for `/readyz`.
    public let status: WorkerStatus
    private let metrics: WorkerMetrics
    private let lagSampler: LagSampler
    /// The connection last used per node (`host:port`), to count reconnects: a partition that
    /// gets a new connection where the node's last one broke.
    private var nodeConnections: [String: RedisConnection] = [:]

    /// One partition's state in this worker.
    final class Partition {
        var runner: PartitionRunner
        let keys: KeySchema
        let slot: HashSlot
        let lease: Lease
        let loader: StateLoader
        var cursor = GroupCursor()
        var frontier = MergeFrontier()
        var batch: ParsedBatch?
        var caughtUp = false
        var groupsCreated = false
        /// Resumes at the committed position without a commit since (see `Worker.resume`).
        var attempt = 0
        var attemptUncounted = false
        var giveUpHead = false
        var headAlone = false
        let gauges: PartitionGauges
        /// What `gauges` and the status say about the lease (`runner.holdsLease` when last synced).
        var reportedOwned = false
        /// The connection of the last step (see `nodeConnections`).
        weak var connection: RedisConnection?

        init(_ index: Int, keys: KeySchema, slot: HashSlot, config: WorkerConfig, gauges: PartitionGauges) {
            runner = PartitionRunner(partition: index, leaseTTLMs: config.leaseTTL.inMilliseconds,
                                     maxBackoffMs: Int(config.maxBackoff.inMilliseconds))
            self.keys = keys
            self.slot = slot
            self.gauges = gauges
            lease = Lease(key: keys.lease(group: config.group), owner: config.consumer, ttl: config.leaseTTL)
            loader = StateLoader(keys: keys, historyDepth: config.rules.historyDepth)
        }
    }

    /// - Parameters:
    ///   - status: what the worker tells `/readyz`; hand the same instance to the HTTP layer.
    ///   - metricsFactory: where the metrics go; nil: the bootstrapped `MetricsSystem` (no-ops
    ///     without one).
    public init(config: WorkerConfig, seeds: [RedisURL], partitioning: Partitioning, logger: Logger, stop: StopSignal,
                status: WorkerStatus = WorkerStatus(), metricsFactory: (any MetricsFactory)? = nil) {
        self.config = config
        self.seeds = seeds
        self.partitioning = partitioning
        self.logger = logger
        self.stop = stop
        self.status = status
        let metrics = WorkerMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        self.metrics = metrics
        lagSampler = LagSampler(group: config.group, metrics: metrics, status: status, logger: logger)
        planner = BatchPlanner(rules: DuplicateRules(config: config.rules), keys: config.keys, limits: config.limits,
                               stats: config.stats)
        partitions = (0..<partitioning.count).map {
            Partition($0, keys: partitioning.keys(of: $0, prefix: config.keys.prefix), slot: partitioning.slot(of: $0), config: config,
                      gauges: metrics.partition($0))
        }
    }

    /// Returns when stopped, or in `drain` mode once every partition assigned to this worker is
    /// held and caught up.
    public func run() throws -> WorkerStats {
        status.started(leaseTTL: config.leaseTTL)
        defer {
            status.setRole(.stopped)
            for partition in partitions { partition.gauges.setOwned(false) }
        }
        while !stop.isStopped {
            do {
                let redis = try cluster ?? RedisCluster(seeds: seeds, commandTimeoutMs: 10_000)
                cluster = redis
                if ContinuousClock.now >= nextHeartbeat { try heartbeat(redis) }
                var worked = false
                for partition in partitions {
                    worked = try step(partition, on: redis) || worked
                }
                if config.drain, assignedOnce, partitions.allSatisfy({ !$0.runner.assigned || ($0.runner.state == .running && $0.caughtUp) }) {
                    break
                }
                if worked {
                    idleRounds = 0
                } else {
                    idleRounds += 1
                    pauseIdle(after: idleRounds)
                }
            } catch let error as RedisError {
                metrics.redisErrors.increment()
                status.redisFailed("\(error)")
                if case .server(let code) = error.kind, ["NOAUTH", "WRONGPASS", "NOPERM"].contains(code) {
                    throw UnrecoverableError(description: "\(error)")
                }
                logger.warning("redis unavailable (\(error)); the partitions resume at their committed positions")
                try? cluster?.refreshTopology()
                pause(ms: 200)
            }
        }
        leaveGroup()
        return stats
    }

    // MARK: Membership and assignment

    /// Renews this worker's membership, reads the live members and the leases' holders, and
    /// tells every runner whether its partition is this worker's.
    private func heartbeat(_ redis: RedisCluster) throws {
        let ttl = config.leaseTTL.inMilliseconds
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let key = config.keys.members(group: config.group)
        let slot = HashSlot(key: key)
        _ = try redis.send(RedisCommand("ZADD", key, String(now + ttl), config.consumer), slot: slot).throwIfError()
        _ = try redis.send(RedisCommand("ZREMRANGEBYSCORE", key, "-inf", String(now)), slot: slot).throwIfError()
        let listed = try redis.send(RedisCommand("ZRANGE", key, "0", "-1", "WITHSCORES"), slot: slot).throwIfError().array
        var expiries: [String: Int64] = [:]
        for index in stride(from: 0, to: listed.count - 1, by: 2) {
            expiries[try listed[index].string] = Int64(try listed[index + 1].string) ?? 0
        }
        let members = Set(expiries.keys)
        var holders: [Int: String] = [:]
        for partition in partitions {
            let holder = try redis.send(RedisCommand("GET", partition.lease.key), slot: partition.slot).throwIfError().optionalString
            if let holder, !holder.hasPrefix(Lease.releasedPrefix) { holders[partition.runner.partition] = holder }
        }
        let assignment = PartitionAssignment.assign(count: partitioning.count, members: members.union([config.consumer]), holders: holders)
        for partition in partitions {
            partition.runner.assignment(mine: assignment[partition.runner.partition] == config.consumer)
        }
        status.redisAnswered()
        if !assignedOnce {
            assignedOnce = true
            updateRole()
        }
        let next = PartitionAssignment.nextHeartbeatMs(nowMs: now, ttlMs: ttl, memberExpiries: expiries, me: config.consumer)
        nextHeartbeat = ContinuousClock.now + .milliseconds(max(0, next - now))
        sampleLag(redis)
    }

    /// `dupwatch_consumer_lag` of the partitions this worker holds: one pipeline per node.
    private func sampleLag(_ redis: RedisCluster) {
        var byConnection: [ObjectIdentifier: (connection: RedisConnection, partitions: [(keys: KeySchema, gauges: PartitionGauges)])] = [:]
        var order: [ObjectIdentifier] = []
        for partition in partitions where partition.runner.holdsLease {
            let connection: RedisConnection
            do {
                connection = try redis.connection(for: partition.slot)
            } catch {
                logger.debug("sampling the consumer lag of partition \(partition.runner.partition) failed: \(error)")
                metrics.redisErrors.increment()
                continue
            }
            let id = ObjectIdentifier(connection)
            if byConnection[id] == nil {
                byConnection[id] = (connection, [])
                order.append(id)
            }
            byConnection[id]!.partitions.append((partition.keys, partition.gauges))
        }
        for id in order {
            let node = byConnection[id]!
            guard !node.connection.isBroken else { continue }
            lagSampler.sample(node.partitions, on: node.connection)
        }
    }

    /// The status's role: the partitions held, or standby (holding none) once assigned.
    private func updateRole() {
        guard assignedOnce else { return }
        let held = partitions.filter(\.runner.holdsLease).map(\.runner.partition)
        status.setRole(held.isEmpty ? .standby(holder: nil) : .owner(partitions: held))
    }

    /// After a step: `dupwatch_lease_owned` and the role follow the runner's lease.
    private func syncOwnership(_ partition: Partition) {
        guard partition.reportedOwned != partition.runner.holdsLease else { return }
        partition.reportedOwned = partition.runner.holdsLease
        partition.gauges.setOwned(partition.reportedOwned)
        updateRole()
    }

    /// Counts a reconnect when a partition's step gets a new connection to a node whose last
    /// connection broke. Only called when the partition's connection changed.
    private func noteConnection(_ connection: RedisConnection) {
        let node = "\(connection.url.host):\(connection.url.port)"
        if let known = nodeConnections[node], known !== connection, known.isBroken {
            metrics.reconnects.increment()
        }
        nodeConnections[node] = connection
    }

    /// On a clean stop: out of the members, and every held lease handed over at once.
    private func leaveGroup() {
        guard let redis = cluster else { return }
        let key = config.keys.members(group: config.group)
        _ = try? redis.send(RedisCommand("ZREM", key, config.consumer), slot: HashSlot(key: key))
        for partition in partitions where partition.runner.holdsLease {
            try? partition.lease.release(on: redis.connection(for: partition.slot))
        }
    }

    // MARK: One step of one partition

    /// Carries out what the partition's runner decides now; true when it did something.
    private func step(_ partition: Partition, on redis: RedisCluster) throws -> Bool {
        let now = Self.nowMs()
        let action = partition.runner.next(nowMs: now)
        if case .wait = action { return false }
        defer { syncOwnership(partition) }
        do {
            let connection = try redis.connection(for: partition.slot)
            if partition.connection !== connection {
                noteConnection(connection)
                partition.connection = connection
            }
            switch action {
            case .wait:
                return false
            case .acquireLease:
                try createGroups(partition, on: connection)
                switch try partition.lease.acquire(on: connection) {
                case .acquired:
                    logger.info("consumer \(config.consumer) holds partition \(partition.runner.partition)")
                    partition.runner.leaseAcquired(nowMs: now)
                case .heldBy(_, let lapsesInMs):
                    partition.runner.leaseHeldElsewhere(nowMs: now, lapsesInMs: lapsesInMs)
                }
            case .resume:
                try resume(partition, on: connection)
            case .read:
                return try read(partition, on: connection)
            case .commit:
                try commit(partition, on: connection)
            case .renewLease:
                if try partition.lease.renew(on: connection) {
                    partition.runner.renewed(nowMs: now)
                } else {
                    partition.runner.leaseLost(nowMs: now)
                }
            case .releaseLease:
                try partition.lease.release(on: connection)
                logger.info("consumer \(config.consumer) hands partition \(partition.runner.partition) over")
                partition.runner.released()
            }
            status.redisAnswered()
            return true
        } catch let error as RedisError {
            if case .server(let code) = error.kind, ["NOAUTH", "WRONGPASS", "NOPERM"].contains(code) { throw error }
            partition.batch = nil
            partition.runner.failed(nowMs: now)
            // Counted by `run`, which these reach.
            if error.kind == .connection || error.kind == .timeout { throw error }
            metrics.redisErrors.increment()
            status.redisFailed("\(error)")
            logger.warning("partition \(partition.runner.partition): \(error); resuming at its committed position")
            return true
        } catch is LeaseLost {
            status.redisAnswered()
            partition.batch = nil
            partition.runner.leaseLost(nowMs: now)
            logger.warning("partition \(partition.runner.partition) was taken over by another worker")
            return true
        }
    }

    private func createGroups(_ partition: Partition, on connection: RedisConnection) throws {
        guard !partition.groupsCreated else { return }
        try ConsumerGroup(keys: partition.keys, name: config.group).create(on: connection)
        partition.groupsCreated = true
    }

    /// The lease is still ours, then the committed position and the attempts since (see
    /// `Worker.resume`: from the second attempt the head entry is processed alone, at
    /// `--max-deliveries` it is dead-lettered).
    private func resume(_ partition: Partition, on connection: RedisConnection) throws {
        let check = try connection.pipeline(partition.lease.watchCommands)
        _ = try connection.command("UNWATCH")
        guard try partition.lease.isHeld(according: check) else { throw LeaseLost() }
        let (positions, attempt) = try ConsumerGroup(keys: partition.keys, name: config.group).resume(on: connection)
        partition.cursor.resume(at: positions)
        partition.frontier.removeAll()
        partition.attempt = attempt
        partition.attemptUncounted = true
        partition.headAlone = partition.attempt >= 2
        partition.giveUpHead = partition.attempt >= config.maxDeliveries
        partition.caughtUp = false
        partition.runner.resumed()
    }

    /// One XREAD of the partition's three streams, through the merge frontier. True when it
    /// read something.
    @discardableResult
    private func read(_ partition: Partition, on connection: RedisConnection) throws -> Bool {
        let count = partition.headAlone ? 1 : config.batchSize
        var command = RedisCommand("XREAD")
        command.append("COUNT")
        command.append(count)
        command.append("STREAMS")
        for stream in partition.keys.inputStreams { command.append(stream) }
        for source in EventSource.allCases { command.append(partition.cursor.readPosition(source).description) }
        var read: [EventSource: [DeliveredEntry]] = [:]
        var full: Set<EventSource> = []
        for (source, entries) in try connection.send(command, decode: { try DeliveredEntry.decodeXRead($0, keys: partition.keys) }) {
            if let last = entries.last { partition.cursor.didRead(source, upTo: last.id) }
            read[source] = entries
            if entries.count >= count { full.insert(source) }
        }
        var ready = partition.frontier.take(read, full: full)
        if partition.headAlone, ready.count > 1 {
            partition.frontier.putBack(Array(ready.dropFirst()))
            ready = [ready[0]]
        }
        partition.caughtUp = ready.isEmpty && full.isEmpty && partition.frontier.isEmpty
        guard !ready.isEmpty else {
            partition.runner.read(entries: 0)
            return !read.values.allSatisfy(\.isEmpty)
        }
        var parsed = planner.parse(ready)
        if partition.giveUpHead, let head = parsed.items.first?.delivered, head.entry != nil {
            partition.giveUpHead = false
            parsed.items[0].delivered.giveUp = (Int64(partition.attempt),
                                                "none recorded: the worker handling it stopped (killed or crashed) before committing")
        }
        partition.headAlone = false
        partition.batch = parsed
        partition.runner.read(entries: parsed.items.count)
        return true
    }

    /// The batch in hand: state reads behind the lease check, the rules, one MULTI/EXEC.
    private func commit(_ partition: Partition, on connection: RedisConnection) throws {
        guard let batch = partition.batch else {
            partition.runner.committed(nowMs: Self.nowMs())
            return
        }
        var leading = partition.lease.watchCommands
        if partition.attemptUncounted { leading.append(RedisCommand("INCR", partition.keys.resumeAttempts(group: config.group))) }
        let (states, check) = try partition.loader.load(customers: batch.customers, namedOrders: batch.namedOrders,
                                                        eventIDsOf: batch.eventIDCustomers, cached: [:],
                                                        after: leading, from: connection)
        if partition.attemptUncounted, case .integer = check[2] { partition.attemptUncounted = false }
        guard try partition.lease.isHeld(according: check) else {
            _ = try? connection.command("UNWATCH")
            throw LeaseLost()
        }
        let planner = BatchPlanner(rules: self.planner.rules, keys: partition.keys, limits: config.limits, stats: config.stats)
        var plan = planner.plan(batch, states: states, detectedAt: Int64(Date().timeIntervalSince1970 * 1000))
        let moved = partition.cursor.advance(plan.processed)
        for (source, position) in moved.sorted(by: { $0.key.rank < $1.key.rank }) {
            plan.commit.advanceGroup(source: source, group: config.group, to: position.id.description, entriesRead: position.entriesRead)
        }
        if partition.attempt > 0 { plan.commit.clearResumeAttempts(group: config.group) }
        plan.commit.renewLease(group: config.group, ttl: config.leaseTTL)
        let written = ContinuousClock.now
        switch try connection.transaction(plan.commit.commands.map(\.encoded)) {
        case .watchFailed:
            throw LeaseLost()
        case .aborted(let error):
            throw error
        case .executed(let errors):
            for message in errors { logger.error("a command of a committed batch failed: \(message)") }
        }
        metrics.commitTime.recordInterval(since: written)
        partition.cursor.didCommit(moved)
        partition.attempt = 0
        partition.batch = nil
        partition.runner.committed(nowMs: Self.nowMs())
        stats.add(batchOf: batch.items.count, plan)
        metrics.committed(plan)
    }

    /// Monotonic milliseconds, for the runners' timers.
    private static func nowMs() -> Int64 {
        clockOrigin.duration(to: .now).inMilliseconds
    }

    private static let clockOrigin = ContinuousClock.now

    /// The partitions are read without BLOCK (a cluster refuses one XREAD over several slots):
    /// when nothing came, wait 0.25 ms, then twice as long each idle round, up to 5 ms. A busy
    /// stream is read again at once; an idle worker costs a few hundred reads a second.
    private func pauseIdle(after rounds: Int) {
        let micros = min(5_000, 250 << min(rounds - 1, 5))
        usleep(UInt32(micros))
    }

    private func pause(ms: Int) {
        stop.sleep(ms: ms)
    }
}
