import Foundation
public import Logging
public import Metrics
import DupWatchCore
import DupWatchStore
import RedisClient

/// What retrying cannot fix (a wrong password, a missing permission, a deployment set up
/// otherwise): the worker or the router stops and says this.
public struct UnrecoverableError: Error, CustomStringConvertible {
    public var description: String
}

/// The consumer-group runtime. Runs on its own thread (it makes blocking hiredis calls) until
/// stopped or, with `drain`, until nothing is left to read.
///
/// One batch: XREAD the three streams from the worker's read position -> validate -> WATCH +
/// check the lease -> load the customers' state (cache, else two pipelined round trips) ->
/// apply the rules -> one MULTI/EXEC with the state changes, alerts, dead letters, the consumer
/// group's new position (`GroupCursor`) and the lease renewal. The group never moves past an
/// entry unless its effects commit in the same transaction.
public final class Worker {
    let config: WorkerConfig
    let logger: Logger
    let stop: StopSignal
    private let planner: BatchPlanner
    private let loader: StateLoader
    let lease: Lease
    /// Read by another thread for `/readyz`.
    public let status: WorkerStatus
    private let metrics: WorkerMetrics
    /// Partition `0`'s `dupwatch_lease_owned` and `dupwatch_consumer_lag`.
    private let gauges: PartitionGauges
    var connection: RedisConnection?
    /// The last connection broke: the next one made counts as a reconnect.
    private var connectionLost = false
    private var cache: StateCache
    private var ownsLease = false
    private var needsResume = true
    private var standbyLogged = false
    var lastErrors: [ProcessingKey: String] = [:]
    /// Reads, decodes and validates the next batches on its own thread while this one works.
    let prefetcher: Prefetcher
    var cursor = GroupCursor()
    /// Which attempt at the committed position this is (1 = the first); 0 once a batch committed.
    var resumeAttempts = 0
    /// This attempt is not in `KeySchema.resumeAttempts` yet: the next batch's reads add it.
    var attemptUncounted = false
    /// The first batch after this resume starts with an entry to dead-letter (max_deliveries).
    var giveUpHead = false
    /// The batch whose commit Redis refused (OOM, BUSY, ...) over a healthy connection: it is
    /// retried as it is, so a full Redis does not count as an attempt towards max-deliveries.
    private var inFlight: ParsedBatch?
    /// The batches read ahead behind `inFlight`, processed right after its retry, in order.
    private var pendingAhead: [ParsedBatch] = []
    public private(set) var stats = WorkerStats()
    /// Reset by every commit: a backlog is processed as one chain of commits (`process`), and
    /// the first commit after an outage is the moment Redis is back.
    private var backoff: Backoff
    private var health: HealthLog

    /// - Parameters:
    ///   - status: what the worker tells `/readyz`; hand the same instance to the HTTP layer.
    ///   - metricsFactory: where the metrics go; nil: the bootstrapped `MetricsSystem` (no-ops
    ///     without one). Tests pass their own instead of bootstrapping anything global.
    public init(config: WorkerConfig, logger: Logger, stop: StopSignal, status: WorkerStatus = WorkerStatus(),
                metricsFactory: (any MetricsFactory)? = nil) {
        self.config = config
        self.logger = logger
        self.stop = stop
        self.status = status
        let metrics = WorkerMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        self.metrics = metrics
        self.gauges = metrics.partition(0)
        self.planner = BatchPlanner(rules: DuplicateRules(config: config.rules), keys: config.keys,
                                    limits: config.limits, stats: config.stats)
        self.loader = StateLoader(keys: config.keys, historyDepth: config.rules.historyDepth)
        self.lease = Lease(key: config.keys.lease(group: config.group), owner: config.consumer, ttl: config.leaseTTL)
        self.cache = StateCache(capacity: config.cacheCapacity)
        let sampler = LagSampler(group: config.group, metrics: metrics, status: status, logger: logger)
        self.prefetcher = Prefetcher(config: config, planner: planner, metrics: metrics, lag: (sampler, gauges))
        self.backoff = Backoff(capMs: Int(config.maxBackoff.inMilliseconds))
        self.health = HealthLog(logger: logger, url: config.redisURL)
    }

    deinit {
        prefetcher.stop()
    }

    /// Returns when stopped, or drained in `drain` mode. Throws only for what retrying cannot
    /// fix (wrong password, missing permission).
    public func run() throws -> WorkerStats {
        status.started(leaseTTL: config.leaseTTL)
        defer {
            status.setRole(.stopped)
            gauges.setOwned(false)
        }
        while !stop.isStopped {
            do {
                let connection = try connected()
                health.connected()
                guard try holdsLease(connection) else {
                    answered()
                    sleep(ms: Int(min(1000, config.leaseTTL.inMilliseconds / 3)))
                    continue
                }
                if let batch = inFlight {
                    try process(batch, on: connection)
                }
                while !pendingAhead.isEmpty {
                    try process(pendingAhead.removeFirst(), on: connection)
                }
                if needsResume {
                    try resume(connection)
                    needsResume = false
                }
                guard let batch = try prefetcher.next(timeoutMs: 100, maxEntries: 3 * config.batchSize) else { continue }
                if batch.idle {
                    if !(try lease.renew(on: connection)) { throw LeaseLost() }
                    answered()
                    backoff.reset()
                    if config.drain { break }
                    continue
                }
                var parsed = (consume batch).parsed
                markGiveUp(&parsed)
                try process(parsed, on: connection)
            } catch let error as RedisError {
                if case .server = error.kind, inFlight != nil, connection?.isBroken == false {
                    cache.removeAll() // the refused commit's states never landed
                } else {
                    reset()
                }
                status.redisFailed("\(error)")
                if case .server(let code) = error.kind, ["NOAUTH", "WRONGPASS", "NOPERM"].contains(code) {
                    throw UnrecoverableError(description: "\(error)")
                }
                let delay = backoff.nextDelayMs()
                health.down(error, retryInMs: delay)
                metrics.redisErrors.increment()
                sleep(ms: delay)
            } catch is LeaseLost {
                logger.warning("lost the lease of group \(config.group) to another worker; standing by")
                reset()
                status.setRole(.standby(holder: nil))
            }
        }
        prefetcher.stop()
        if let connection, ownsLease, !connection.isBroken {
            // Hand over at once instead of making a standby wait for the TTL; entries read ahead
            // were not committed, so the successor reads them again.
            try? lease.release(on: connection)
            setOwnsLease(false)
        }
        return stats
    }

    // MARK: Connection and set-up

    private func connected() throws -> RedisConnection {
        if let connection, !connection.isBroken { return connection }
        reset()
        let connection = try RedisConnection(url: config.redisURL, connectTimeoutMs: 2000,
                                             commandTimeoutMs: Int(config.blockTime.inMilliseconds) + 5000)
        if connectionLost {
            connectionLost = false
            metrics.reconnects.increment()
        }
        try ConsumerGroup(keys: config.keys, name: config.group).create(on: connection)
        self.connection = connection
        return connection
    }

    /// Redis answered: the health log and `/readyz` hear of it.
    private func answered() {
        health.up()
        status.redisAnswered()
    }

    private func setOwnsLease(_ owns: Bool) {
        ownsLease = owns
        gauges.setOwned(owns)
    }

    /// Anything uncertain (an error, a reconnect, a lost lease) drops what memory says about
    /// Redis: the cache, the lease, and the entries read but not committed.
    private func reset() {
        if let connection, connection.isBroken {
            self.connection = nil
            connectionLost = true
        }
        cache.removeAll()
        prefetcher.halt()
        inFlight = nil
        pendingAhead = []
        setOwnsLease(false)
        needsResume = true
    }

    private func holdsLease(_ connection: RedisConnection) throws -> Bool {
        if ownsLease { return true }
        switch try lease.acquire(on: connection) {
        case .acquired:
            setOwnsLease(true)
            status.setRole(.owner(partitions: [0]))
            needsResume = true
            standbyLogged = false
            cache.removeAll()
            logger.info("consumer \(config.consumer) owns the streams of group \(config.group)")
            return true
        case .heldBy(let holder, _):
            status.setRole(.standby(holder: holder))
            if !standbyLogged {
                logger.notice("standby: group \(config.group) is owned by \(holder); taking over when its lease (\(config.leaseTTL.text)) lapses")
                standbyLogged = true
            }
            return false
        }
    }

    // MARK: One batch

    /// Processes `parsed` and, while the reader has more ready, the batches after it, as a
    /// pipeline: the next batch's state is read while this one is planned (`ReadAhead`), and
    /// the next batch is planned while Redis executes this one's commit. Its outcome is read
    /// before the next commit is written, so at most one commit is unconfirmed, and each still
    /// carries its own group move. Hands every batch back to the reader.
    func process(_ parsed: ParsedBatch, on connection: RedisConnection) throws {
        var current = parsed
        var (states, cacheHits) = try loadStates(current, on: connection)
        var unconfirmed: WrittenCommit?
        while true {
            var ahead: ReadAhead?
            if readAheadAllowed, let next = takeAhead() {
                ahead = try ReadAhead.write(next, after: current, unsettled: Set(unconfirmed?.batch.customers ?? []),
                                            cache: &cache, loader: loader, on: connection)
            }
            let (plan, moved) = planCommit(current, states: states, after: unconfirmed?.moved)
            if let written = unconfirmed {
                unconfirmed = nil
                do {
                    try confirm(written, on: connection)
                } catch let error as RedisError where !connection.isBroken {
                    // Refused (OOM): the batches behind it are retried after it, in order.
                    pendingAhead = [current] + (ahead.map { [$0.batch] } ?? []) + pendingAhead
                    try? connection.discardUnreadReplies()
                    throw error
                }
            }
            guard var ahead else {
                inFlight = current
                let written = ContinuousClock.now
                try settle(connection.transaction(plan.commit.commands.map(\.encoded)), of: current)
                metrics.commitTime.recordInterval(since: written)
                didCommit(current, plan, moved, cacheHits: cacheHits)
                prefetcher.recycle(current)
                return
            }
            try ahead.readFirst(on: connection)
            inFlight = current
            // The lease check for the next commit travels with this one.
            let written = ContinuousClock.now
            let transaction = try connection.write(transaction: plan.commit.commands.map(\.encoded), followedBy: lease.watchCommands)
            try ahead.readFollowUp(on: connection)
            unconfirmed = WrittenCommit(batch: current, plan: plan, moved: moved, transaction: transaction,
                                        written: written, cacheHits: cacheHits)
            states = ahead.states(after: plan, loaded: states)
            cacheHits = ahead.cacheHits
            current = ahead.batch
        }
    }

    /// A commit written to Redis whose outcome is not read yet.
    private struct WrittenCommit {
        var batch: ParsedBatch
        var plan: BatchPlan
        var moved: [EventSource: GroupCursor.Position]
        var transaction: WrittenTransaction
        /// When the MULTI/EXEC was written: `dupwatch_batch_commit_seconds` runs from here to
        /// its reply, which includes planning the next batch meanwhile.
        var written: ContinuousClock.Instant
        var cacheHits: Int
    }

    /// Reads the outcome of a written commit and the lease check written behind it.
    private func confirm(_ written: WrittenCommit, on connection: RedisConnection) throws {
        try settle(connection.outcome(of: written.transaction), of: written.batch)
        metrics.commitTime.recordInterval(since: written.written)
        didCommit(written.batch, written.plan, written.moved, cacheHits: written.cacheHits)
        prefetcher.recycle(written.batch)
        var check: [RedisReply] = []
        try connection.readReplies(2) { _, reply in check.append(reply.reply) }
        guard try lease.isHeld(according: check) else {
            _ = try? connection.discardUnreadReplies()
            _ = try? connection.command("UNWATCH")
            throw LeaseLost()
        }
    }

    /// Reading ahead needs the batches to be independent commits: not while a resume's attempt
    /// is uncounted or its head entry is processed alone (see Worker.resume), nor once stopping.
    private var readAheadAllowed: Bool {
        !attemptUncounted && resumeAttempts <= 1 && !giveUpHead && !stop.isStopped
    }

    /// The batch after the current one: one whose commit Redis refused comes first.
    private func takeAhead() -> ParsedBatch? {
        if !pendingAhead.isEmpty {
            return pendingAhead.removeFirst()
        }
        return prefetcher.poll(maxEntries: 3 * config.batchSize)
    }

    /// State of the batch's customers, from the cache or Redis, with the lease check (WATCH +
    /// GET) and the count of this attempt (before anything is applied; see Worker.resume) in the
    /// first pipeline.
    private func loadStates(_ parsed: ParsedBatch, on connection: RedisConnection) throws -> ([String: LoadedState], Int) {
        var cached: [String: CustomerState] = [:]
        for customer in parsed.customers {
            if let state = cache.get(customer) { cached[customer] = state }
        }
        var leading = lease.watchCommands
        if attemptUncounted { leading.append(RedisCommand("INCR", config.keys.resumeAttempts(group: config.group))) }
        let (states, check) = try loader.load(customers: parsed.customers, namedOrders: parsed.namedOrders,
                                              eventIDsOf: parsed.eventIDCustomers, cached: cached,
                                              after: leading, from: connection)
        // Refused under OOM: it is counted with the next try, once Redis takes writes again.
        if attemptUncounted, case .integer = check[2] { attemptUncounted = false }
        guard try lease.isHeld(according: check) else {
            _ = try? connection.command("UNWATCH")
            throw LeaseLost()
        }
        return (states, cached.count)
    }

    /// The rules applied, and the commit: state changes, alerts, dead letters, the group's new
    /// position, the attempt count cleared and the lease renewed.
    /// `unconfirmed`: the group moves of a commit written before this one, not confirmed yet.
    private func planCommit(_ parsed: ParsedBatch, states: [String: LoadedState],
                            after unconfirmed: [EventSource: GroupCursor.Position]?) -> (BatchPlan, [EventSource: GroupCursor.Position]) {
        let detectedAt = Int64(Date().timeIntervalSince1970 * 1000)
        var plan = planner.plan(parsed, states: states, detectedAt: detectedAt)
        var base = cursor
        if let unconfirmed { base.didCommit(unconfirmed) }
        let moved = base.advance(plan.processed)
        for (source, position) in moved.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            plan.commit.advanceGroup(source: source, group: config.group, to: position.id.description,
                                     entriesRead: position.entriesRead)
        }
        if resumeAttempts > 0 { plan.commit.clearResumeAttempts(group: config.group) }
        plan.commit.renewLease(group: config.group, ttl: config.leaseTTL)
        return (plan, moved)
    }

    /// Throws unless the commit ran.
    private func settle(_ outcome: TransactionOutcome, of parsed: ParsedBatch) throws {
        switch outcome {
        case .watchFailed:
            throw LeaseLost()
        case .aborted(let error):
            // A queued command was refused (OOM under maxmemory, a permission): nothing ran,
            // the group did not move. The refusal itself says why.
            recordFailure(parsed, error.description)
            throw error
        case .executed(let errors):
            for message in errors {
                logger.error("a command of a committed batch failed: \(message) (a key was changed outside DupWatch?)")
            }
        }
    }

    private func didCommit(_ parsed: ParsedBatch, _ plan: BatchPlan, _ moved: [EventSource: GroupCursor.Position],
                           cacheHits: Int) {
        inFlight = nil
        cursor.didCommit(moved)
        resumeAttempts = 0
        answered()
        backoff.reset()
        for (customer, state) in plan.states { cache.put(customer, state) }
        for alert in plan.alerts {
            // The ids are metadata, so that `--log-format json` gives them as fields.
            var metadata: Logger.Metadata = [
                "alert.id": "\(alert.alertID)", "customer.id": "\(alert.customerID)", "sku": "\(alert.sku)",
                "trigger": "\(alert.trigger.rawValue)", "trigger.id": "\(alert.triggerID)", "match": "\(alert.match.kind.rawValue)",
            ]
            if let orderID = alert.orderID { metadata["order.id"] = "\(orderID)" }
            logger.info("duplicate: \(alert.message)", metadata: metadata)
        }
        for (id, reason) in plan.deadLetters {
            logger.warning("dead-lettered: \(reason)", metadata: ["entry.id": "\(id)"])
        }
        if !lastErrors.isEmpty {
            for item in parsed.items { lastErrors[item.delivered.key] = nil }
        }

        stats.add(batchOf: parsed.items.count, plan)
        metrics.committed(plan)
        logger.debug("batch committed", metadata: [
            "batch.entries": "\(parsed.items.count)", "batch.customers": "\(parsed.customers.count)",
            "batch.alerts": "\(plan.alerts.count)", "batch.deadletters": "\(plan.deadLetters.count)",
            "batch.commands": "\(plan.commit.commands.count)", "batch.cache_hits": "\(cacheHits)",
        ])
    }

    private func recordFailure(_ parsed: ParsedBatch, _ message: String) {
        for item in parsed.items { lastErrors[item.delivered.key] = message }
    }

    func sleep(ms: Int) {
        stop.sleep(ms: ms)
    }
}

struct LeaseLost: Error {}
