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
    private let config: WorkerConfig
    private let logger: Logger
    private let stop: StopSignal
    private let planner: BatchPlanner
    private let loader: StateLoader
    private let lease: Lease
    private let metrics = WorkerMetrics()
    private var connection: RedisConnection?
    private var cache: StateCache
    private var ownsLease = false
    private var needsRecovery = true
    private var standbyLogged = false
    private var lastErrors: [String: String] = [:]
    private var frontier = MergeFrontier()
    /// Consumers that stopped cleanly and released the lease: their pending entries are orphans.
    private var releasedConsumers: Set<String> = []
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
                guard try holdsLease(connection) else {
                    health.up()
                    if config.drain, stop.isStopped { break }
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
                metrics.commitFailures.increment()
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
        return groups.contains { group in
            guard case .array(let fields) = group, fields.count >= 2 else { return false }
            return (try? fields[1].string) == config.group
        }
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

    private func delivered(_ source: EventSource, _ entry: StreamEntry) -> DeliveredEntry {
        let id = EntryID(entry.id) ?? EntryID(milliseconds: 0, sequence: 0)
        let raw = entry.fields.map { fields in
            RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field(name: $0.name, value: $0.value) })
        }
        return DeliveredEntry(source: source, id: id, entry: raw)
    }

    // MARK: Recovery

    /// Pending entries first: this consumer's own (a restart), then those of consumers that are
    /// gone (a dead process on this host at once, any other after `claimIdleMs`). An entry that
    /// was already delivered before is retried alone, so a poison entry cannot drag its batch
    /// to the dead-letter stream; past `maxDeliveries` it is dead-lettered.
    private func recoverPending(_ connection: RedisConnection) throws {
        var waitingLogged = false
        while !stop.isStopped {
            let replies = try connection.pipeline(EventSource.allCases.map {
                RedisCommand("XPENDING", config.keys.stream(for: $0), config.group, "-", "+", String(config.batchSize))
            })
            var claimable: [(source: EventSource, entry: PendingEntry)] = []
            var waiting: Set<String> = []
            var lists: [[PendingEntry]] = []
            var cut: ProcessingKey?
            for (index, reply) in replies.enumerated() {
                let list = try StreamCommands.decodePendingEntries(reply.throwIfError())
                // Same merge rule as new entries: a full page may continue past its last id.
                if list.count >= config.batchSize, let last = list.last.flatMap({ EntryID($0.id) }) {
                    let key = ProcessingKey(last, EventSource.allCases[index])
                    cut = cut.map { min($0, key) } ?? key
                }
                lists.append(list)
            }
            for (index, source) in EventSource.allCases.enumerated() {
                for pending in lists[index] {
                    if let cut, let id = EntryID(pending.id), ProcessingKey(id, source) > cut { continue }
                    if isClaimable(pending) {
                        claimable.append((source, pending))
                    } else {
                        waiting.insert(pending.consumer)
                    }
                }
            }
            if claimable.isEmpty {
                guard !waiting.isEmpty else {
                    try forgetGoneConsumers(connection)
                    return
                }
                if !waitingLogged {
                    logger.notice("waiting for entries pending at \(waiting.sorted().joined(separator: ", ")) to be idle \(config.claimIdleMs) ms before claiming them")
                    waitingLogged = true
                }
                if !(try lease.renew(on: connection)) { throw LeaseLost() }
                sleep(ms: 200)
                continue
            }
            claimable.sort {
                EntryID.processingOrder((EntryID($0.entry.id) ?? .init(milliseconds: 0, sequence: 0), $0.source),
                                        (EntryID($1.entry.id) ?? .init(milliseconds: 0, sequence: 0), $1.source))
            }
            // A pending entry may only go ahead of what no consumer has been delivered yet if
            // its id is smaller: otherwise it waits in the merge frontier for the normal reads.
            if let limit = try firstUndelivered(connection) {
                func waits(_ item: (source: EventSource, entry: PendingEntry)) -> Bool {
                    EntryID(item.entry.id).map { ProcessingKey($0, item.source) >= limit } ?? false
                }
                claimable.removeAll(where: waits)
                if claimable.isEmpty {
                    // Everything claimable now waits for undelivered entries: carry all of it,
                    // every page, not just this one, or the rest would stay at a dead consumer.
                    frontier.carry(try claim(allClaimablePending(connection), connection))
                    try forgetGoneConsumers(connection)
                    return
                }
            }
            let exhausted = claimable.filter { $0.entry.deliveries >= Int64(config.maxDeliveries) }
            var retry = claimable.filter { $0.entry.deliveries < Int64(config.maxDeliveries) }
            if retry.contains(where: { $0.entry.deliveries >= 2 }) {
                retry = Array(retry.prefix(1))
            }
            var batch: [DeliveredEntry] = []
            batch += try fetchForDeadLetter(exhausted, connection)
            batch += try claim(retry, connection)
            if !batch.isEmpty {
                logger.info("recovering \(batch.count) pending entries (\(exhausted.count) given up after \(config.maxDeliveries) deliveries)")
                try process(batch, on: connection)
            }
        }
    }

    /// Consumers that are gone (stopped cleanly, or a dead process of this host) and hold no
    /// pending entry are removed, so restarts do not pile up consumers in the group.
    private func forgetGoneConsumers(_ connection: RedisConnection) throws {
        let streams = EventSource.allCases.map { config.keys.stream(for: $0) }
        let infos = try connection.pipeline(streams.map { RedisCommand("XINFO", "CONSUMERS", $0, config.group) })
        var deletions: [RedisCommand] = []
        for (stream, info) in zip(streams, infos) {
            guard case .array(let consumers) = info else { continue }
            for consumer in consumers {
                guard case .array(let fields) = consumer else { continue }
                var name = "", pending: Int64 = -1
                var index = 0
                while index + 1 < fields.count {
                    switch try fields[index].string {
                    case "name": name = try fields[index + 1].string
                    case "pending": pending = try fields[index + 1].int
                    default: break
                    }
                    index += 2
                }
                guard pending == 0, name != config.consumer,
                      releasedConsumers.contains(name) || ConsumerName.isDeadLocalProcess(name) else { continue }
                deletions.append(RedisCommand("XGROUP", "DELCONSUMER", stream, config.group, name))
            }
        }
        guard !deletions.isEmpty else { return }
        for reply in try connection.pipeline(deletions) { try reply.throwIfError() }
        logger.debug("removed \(deletions.count) gone consumers from group \(config.group)")
    }

    /// Entries of this consumer, of one that released the lease or whose process is gone, or idle
    /// past --claim-idle: no live worker will commit them.
    private func isClaimable(_ pending: PendingEntry) -> Bool {
        pending.consumer == config.consumer || pending.idleMs >= config.claimIdleMs
            || releasedConsumers.contains(pending.consumer) || ConsumerName.isDeadLocalProcess(pending.consumer)
    }

    /// Every claimable pending entry of the three streams, page by page.
    private func allClaimablePending(_ connection: RedisConnection) throws -> [(source: EventSource, entry: PendingEntry)] {
        var all: [(source: EventSource, entry: PendingEntry)] = []
        for source in EventSource.allCases {
            var start = "-"
            while true {
                let page = try StreamCommands.decodePendingEntries(connection.send(
                    RedisCommand("XPENDING", config.keys.stream(for: source), config.group, start, "+", "1000")).throwIfError())
                all += page.filter(isClaimable).map { (source, $0) }
                guard page.count == 1000, let last = page.last else { break }
                start = "(" + last.id
            }
        }
        return all
    }

    /// The smallest id, over the three streams, of an entry the group has not delivered yet.
    private func firstUndelivered(_ connection: RedisConnection) throws -> ProcessingKey? {
        let infos = try connection.pipeline(EventSource.allCases.map {
            RedisCommand("XINFO", "GROUPS", config.keys.stream(for: $0))
        })
        var ranges: [RedisCommand] = []
        for (index, source) in EventSource.allCases.enumerated() {
            var last = "0-0"
            for group in try infos[index].throwIfError().array {
                let fields = try group.array
                var i = 0
                var name = ""
                var delivered = "0-0"
                while i + 1 < fields.count {
                    let key = try fields[i].string
                    if key == "name" { name = try fields[i + 1].string }
                    if key == "last-delivered-id" { delivered = try fields[i + 1].string }
                    i += 2
                }
                if name == config.group { last = delivered }
            }
            ranges.append(RedisCommand("XRANGE", config.keys.stream(for: source), "(" + last, "+", "COUNT", "1"))
        }
        var first: ProcessingKey?
        for (index, reply) in try connection.pipeline(ranges).enumerated() {
            guard let entry = try StreamCommands.decodeEntries(reply.throwIfError()).first, let id = EntryID(entry.id) else { continue }
            let key = ProcessingKey(id, EventSource.allCases[index])
            first = first.map { min($0, key) } ?? key
        }
        return first
    }

    private func claim(_ entries: [(source: EventSource, entry: PendingEntry)], _ connection: RedisConnection) throws -> [DeliveredEntry] {
        var out: [DeliveredEntry] = []
        for source in EventSource.allCases {
            let ids = entries.filter { $0.source == source }.map(\.entry.id)
            guard !ids.isEmpty else { continue }
            var command = RedisCommand("XCLAIM")
            for arg in [config.keys.stream(for: source), config.group, config.consumer, "0"] + ids { command.append(arg) }
            let claimed = try StreamCommands.decodeEntries(connection.send(command).throwIfError())
            var byID: [String: StreamEntry] = [:]
            for entry in claimed { byID[entry.id] = entry }
            for id in ids {
                // Redis drops a claimed entry whose message was deleted; it counts as trimmed.
                out.append(delivered(source, byID[id] ?? StreamEntry(id: id, fields: nil)))
            }
        }
        return out
    }

    private func fetchForDeadLetter(_ entries: [(source: EventSource, entry: PendingEntry)], _ connection: RedisConnection) throws -> [DeliveredEntry] {
        guard !entries.isEmpty else { return [] }
        let replies = try connection.pipeline(entries.map {
            RedisCommand("XRANGE", config.keys.stream(for: $0.source), $0.entry.id, $0.entry.id)
        })
        return try zip(entries, replies).map { item, reply in
            let found = try StreamCommands.decodeEntries(reply.throwIfError()).first
            var entry = delivered(item.source, found ?? StreamEntry(id: item.entry.id, fields: nil))
            let key = "\(item.source.rawValue)/\(item.entry.id)"
            let lastError = lastErrors[key] ?? "none recorded: the worker handling it stopped (killed or crashed) before committing"
            if entry.entry != nil { entry.giveUp = (item.entry.deliveries, lastError) }
            return entry
        }
    }

    // MARK: One batch

    private func process(_ entries: [DeliveredEntry], on connection: RedisConnection) throws {
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

    private func sleep(ms: Int) {
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
