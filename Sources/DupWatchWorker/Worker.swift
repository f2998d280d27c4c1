import Foundation
public import Logging
import Metrics
import DupWatchCore
import DupWatchStore
import RedisClient

public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
}

/// The consumer-group runtime. Runs on its own thread (it makes blocking hiredis calls) until
/// stopped or, with `drain`, until nothing is left to read.
///
/// One batch: XREADGROUP the three streams -> validate -> WATCH + check the lease -> load the
/// customers' state (cache, else two pipelined round trips) -> apply the rules -> one
/// MULTI/EXEC with the state changes, alerts, dead letters, XACKs and the lease renewal.
/// Nothing is acked unless its effects commit in the same transaction.
public final class Worker {
    let config: WorkerConfig
    let logger: Logger
    let stop: StopSignal
    private let planner: BatchPlanner
    private let loader: StateLoader
    let lease: Lease
    private let metrics = WorkerMetrics()
    var connection: RedisConnection?
    private var cache: StateCache
    private var ownsLease = false
    private var needsRecovery = true
    private var standbyLogged = false
    var lastErrors: [String: String] = [:]
    var frontier = MergeFrontier()
    /// Consumers that stopped cleanly and released the lease: their pending entries are orphans.
    var releasedConsumers: Set<String> = []
    /// The batch whose commit Redis refused (OOM, BUSY, ...) over a healthy connection: it is
    /// retried as it is, so a full Redis does not count as a delivery towards max-deliveries.
    private var inFlight: [DeliveredEntry]?
    public private(set) var stats = WorkerStats()

    public init(config: WorkerConfig, logger: Logger, stop: StopSignal) {
        self.config = config
        self.logger = logger
        self.stop = stop
        self.planner = BatchPlanner(rules: DuplicateRules(config: config.rules), keys: config.keys,
                                    limits: config.limits, group: config.group)
        self.loader = StateLoader(keys: config.keys, historyDepth: config.rules.historyDepth)
        self.lease = Lease(key: config.keys.lease(group: config.group), owner: config.consumer, ttlMs: config.leaseTTLMs)
        self.cache = StateCache(capacity: config.cacheCapacity)
    }

    /// Returns when stopped, or drained in `drain` mode. Throws only for what retrying cannot
    /// fix (wrong password, missing permission).
    public func run() throws -> WorkerStats {
        var backoff = Backoff(capMs: config.maxBackoffMs)
        var health = HealthLog(logger: logger, url: config.redisURL)
        while !stop.isStopped {
            do {
                let connection = try connected()
                health.connected()
                guard try holdsLease(connection) else {
                    health.up()
                    sleep(ms: Int(min(1000, config.leaseTTLMs / 3)))
                    continue
                }
                if let batch = inFlight {
                    try process(batch, on: connection)
                    inFlight = nil
                }
                if needsRecovery {
                    try recoverPending(connection)
                    needsRecovery = false
                }
                let read = try readAndProcess(connection)
                health.up()
                backoff.reset()
                if read == 0, config.drain, frontier.isEmpty {
                    // Done only when no entry is left that this worker could claim and apply.
                    if try allClaimablePending(connection).isEmpty { break }
                    needsRecovery = true
                }
            } catch let error as RedisError {
                if case .server = error.kind, inFlight != nil, connection?.isBroken == false {
                    cache.removeAll() // the refused commit's states never landed
                } else {
                    reset()
                }
                if case .server(let code) = error.kind, ["NOAUTH", "WRONGPASS", "NOPERM"].contains(code) {
                    throw WorkerError(description: "\(error)")
                }
                let delay = backoff.nextDelayMs()
                health.down(error, retryInMs: delay)
                metrics.redisErrors.increment()
                sleep(ms: delay)
            } catch is LeaseLost {
                logger.warning("lost the lease of group \(config.group) to another worker; standing by")
                reset()
            }
        }
        if let connection, ownsLease, !connection.isBroken {
            // Hand over at once instead of making a standby wait for the TTL; entries read
            // ahead of the merge frontier stay pending here and the successor takes them at once.
            try? lease.release(on: connection)
        }
        return stats
    }

    // MARK: Connection and set-up

    private func connected() throws -> RedisConnection {
        if let connection, !connection.isBroken { return connection }
        reset()
        let connection = try RedisConnection(url: config.redisURL, connectTimeoutMs: 2000,
                                             commandTimeoutMs: config.blockMs + 5000)
        try createGroups(connection)
        self.connection = connection
        return connection
    }

    /// A new group reads the backlog from the beginning; an existing one is left as it is.
    private func createGroups(_ connection: RedisConnection) throws {
        let replies = try connection.pipeline(EventSource.allCases.map {
            RedisCommand("XGROUP", "CREATE", config.keys.stream(for: $0), config.group, "0", "MKSTREAM")
        })
        for (source, reply) in zip(EventSource.allCases, replies) {
            guard case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") else { continue }
            // Under OOM even an existing group's CREATE is refused; reading still works then.
            if try groupExists(on: config.keys.stream(for: source), connection) { continue }
            try reply.throwIfError()
        }
    }

    private func groupExists(on stream: String, _ connection: RedisConnection) throws -> Bool {
        guard case .array(let groups) = try connection.send(RedisCommand("XINFO", "GROUPS", stream)) else { return false }
        return groups.contains { (try? $0.fieldMap["name"]?.string) == config.group }
    }

    /// Anything uncertain (an error, a reconnect, a lost lease) drops what memory says about
    /// Redis: the cache, the lease, and whether pending entries were dealt with.
    private func reset() {
        if let connection, connection.isBroken { self.connection = nil }
        cache.removeAll()
        frontier.removeAll()
        inFlight = nil
        ownsLease = false
        needsRecovery = true
    }

    private func holdsLease(_ connection: RedisConnection) throws -> Bool {
        if ownsLease { return true }
        switch try lease.acquire(on: connection) {
        case .acquired(let previous):
            if let previous, previous != config.consumer { releasedConsumers.insert(previous) }
            ownsLease = true
            needsRecovery = true
            standbyLogged = false
            cache.removeAll()
            logger.info("consumer \(config.consumer) owns the streams of group \(config.group)")
            return true
        case .heldBy(let holder):
            if !standbyLogged {
                logger.notice("standby: group \(config.group) is owned by \(holder); taking over when its lease (\(config.leaseTTLMs) ms) lapses")
                standbyLogged = true
            }
            return false
        }
    }

    // MARK: Reading

    private func readAndProcess(_ connection: RedisConnection) throws -> Int {
        let sources = EventSource.allCases.filter { frontier.carriedCount($0) < config.batchSize }
        var command = RedisCommand("XREADGROUP")
        for arg in ["GROUP", config.group, config.consumer, "COUNT", String(config.batchSize)] { command.append(arg) }
        if !config.drain, frontier.isEmpty {
            command.append("BLOCK")
            command.append(config.blockMs)
        }
        command.append("STREAMS")
        for source in sources { command.append(config.keys.stream(for: source)) }
        for _ in sources { command.append(">") }
        var read: [EventSource: [DeliveredEntry]] = [:]
        var full: Set<EventSource> = []
        var count = 0
        if !sources.isEmpty {
            for (stream, entries) in try connection.readStreams(command) {
                guard let source = config.keys.source(ofStream: stream) else { continue }
                read[source] = entries.map { delivered(source, $0) }
                if entries.count >= config.batchSize { full.insert(source) }
                count += entries.count
            }
        }
        // A stream not read this round (its carry is full) may hold more entries too.
        for source in EventSource.allCases where !sources.contains(source) { full.insert(source) }
        let ready = frontier.take(read, full: full)
        if ready.isEmpty {
            if count == 0, !(try lease.renew(on: connection)) { throw LeaseLost() }
            return count
        }
        try process(ready, on: connection)
        return count + ready.count
    }

    func delivered(_ source: EventSource, _ entry: StreamEntry) -> DeliveredEntry {
        let id = EntryID(entry.id) ?? EntryID(milliseconds: 0, sequence: 0)
        let raw = entry.fields.map { fields in
            RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field(name: $0.name, value: $0.value) })
        }
        return DeliveredEntry(source: source, id: id, entry: raw)
    }

    // MARK: One batch

    func process(_ entries: [DeliveredEntry], on connection: RedisConnection) throws {
        let started = ContinuousClock.now
        let parsed = planner.parse(entries)

        let check = try connection.pipeline(lease.watchCommands)
        try check[0].throwIfError()
        guard try check[1].throwIfError().optionalString == config.consumer else {
            _ = try? connection.command("UNWATCH")
            throw LeaseLost()
        }

        var cached: [String: CustomerState] = [:]
        for customer in parsed.customers {
            if let state = cache.get(customer) { cached[customer] = state }
        }
        let states = try loader.load(customers: parsed.customers, namedOrders: parsed.namedOrders, cached: cached,
                                     from: connection)
        let detectedAt = Int64(Date().timeIntervalSince1970 * 1000)
        var plan = planner.plan(parsed, states: states, detectedAt: detectedAt)
        plan.commit.append(lease.renewCommand)

        inFlight = entries
        switch try connection.transaction(plan.commit.commands) {
        case .watchFailed:
            throw LeaseLost()
        case .aborted(let error):
            // A queued command was refused (OOM under maxmemory, a permission): nothing ran,
            // nothing was acked. The refusal itself says why.
            recordFailure(entries, error.description)
            throw error
        case .executed(let errors):
            for message in errors {
                logger.error("a command of a committed batch failed: \(message) (a key was changed outside DupWatch?)")
            }
        }

        inFlight = nil
        for (customer, state) in plan.states { cache.put(customer, state) }
        for alert in plan.alerts {
            logger.info("duplicate: customer \(alert.customerID) sku \(alert.sku) (\(alert.trigger.rawValue) \(alert.triggerID) matches \(alert.match.rawValue)\(alert.orderID.map { " " + $0 } ?? "")): \(alert.message)")
        }
        for (id, reason) in plan.deadLetters {
            logger.warning("dead-lettered entry \(id): \(reason)")
        }
        for entry in entries { lastErrors["\(entry.source.rawValue)/\(entry.id)"] = nil }

        stats.batches += 1
        stats.entries += entries.count
        stats.applied += plan.applied
        stats.duplicates += plan.duplicates
        stats.alerts += plan.alerts.count
        stats.deadLetters += plan.deadLetters.count
        stats.trimmed += plan.trimmed
        metrics.entries.increment(by: entries.count)
        metrics.alerts.increment(by: plan.alerts.count)
        metrics.deadLetters.increment(by: plan.deadLetters.count)
        metrics.duplicates.increment(by: plan.duplicates)
        metrics.batchDuration.recordInterval(since: started)
        logger.debug("batch committed", metadata: [
            "batch.entries": "\(entries.count)", "batch.customers": "\(parsed.customers.count)",
            "batch.alerts": "\(plan.alerts.count)", "batch.deadletters": "\(plan.deadLetters.count)",
            "batch.commands": "\(plan.commit.commands.count)", "batch.cache_hits": "\(cached.count)",
        ])
    }

    private func recordFailure(_ entries: [DeliveredEntry], _ message: String) {
        for entry in entries { lastErrors["\(entry.source.rawValue)/\(entry.id)"] = message }
    }

    func sleep(ms: Int) {
        guard ms > 0 else { return }
        var remaining = ms
        while remaining > 0, !stop.isStopped {
            let step = min(remaining, 100)
            usleep(UInt32(step) * 1000)
            remaining -= step
        }
    }
}

struct LeaseLost: Error {}

extension Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now)
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
