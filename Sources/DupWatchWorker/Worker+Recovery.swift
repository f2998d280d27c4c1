import Foundation
import DupWatchCore
import RedisClient

/// Recovery: what a worker does with pending entries before it reads new ones (on start, after
/// an error, after taking the lease over), and how it tidies the group afterwards.
extension Worker {
    /// Pending entries first: this consumer's own (a restart), then those of consumers that are
    /// gone (a dead process on this host at once, any other after `claimIdleMs`). An entry that
    /// was already delivered before is retried alone, so a poison entry cannot drag its batch
    /// to the dead-letter stream; past `maxDeliveries` it is dead-lettered.
    func recoverPending(_ connection: RedisConnection) throws {
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
    func forgetGoneConsumers(_ connection: RedisConnection) throws {
        let streams = EventSource.allCases.map { config.keys.stream(for: $0) }
        let infos = try connection.pipeline(streams.map { RedisCommand("XINFO", "CONSUMERS", $0, config.group) })
        var deletions: [RedisCommand] = []
        for (stream, info) in zip(streams, infos) {
            guard case .array(let consumers) = info else { continue }
            for consumer in consumers {
                let fields = try consumer.fieldMap
                guard let name = try fields["name"]?.string, try fields["pending"]?.int == 0, name != config.consumer,
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
    func isClaimable(_ pending: PendingEntry) -> Bool {
        pending.consumer == config.consumer || pending.idleMs >= config.claimIdleMs
            || releasedConsumers.contains(pending.consumer) || ConsumerName.isDeadLocalProcess(pending.consumer)
    }

    /// Every claimable pending entry of the three streams, page by page.
    func allClaimablePending(_ connection: RedisConnection) throws -> [(source: EventSource, entry: PendingEntry)] {
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
    func firstUndelivered(_ connection: RedisConnection) throws -> ProcessingKey? {
        let infos = try connection.pipeline(EventSource.allCases.map {
            RedisCommand("XINFO", "GROUPS", config.keys.stream(for: $0))
        })
        var ranges: [RedisCommand] = []
        for (index, source) in EventSource.allCases.enumerated() {
            var last = "0-0"
            for group in try infos[index].throwIfError().array {
                let fields = try group.fieldMap
                if try fields["name"]?.string == config.group {
                    last = try fields["last-delivered-id"]?.string ?? "0-0"
                }
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

    func claim(_ entries: [(source: EventSource, entry: PendingEntry)], _ connection: RedisConnection) throws -> [DeliveredEntry] {
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

    func fetchForDeadLetter(_ entries: [(source: EventSource, entry: PendingEntry)], _ connection: RedisConnection) throws -> [DeliveredEntry] {
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
}
