import Foundation
public import Logging
import DupWatchCore
public import DupWatchStore
public import RedisClient

/// Everything `dupwatch route` can be told.
public struct RouterConfig: Sendable {
    public var seeds: [RedisURL]
    public var partitioning: Partitioning
    /// Prepended to every key (tests).
    public var prefix: String
    /// Entries read per stream per XREAD.
    public var batchSize: Int
    /// Route everything available, then return.
    public var drain: Bool
    /// How long to wait before reading again when nothing arrived.
    public var idlePause: Duration
    /// How often partitions that got no entry have their position brought up to date.
    public var positionRefresh: Duration
    public var deadLetterMaxLength: Int
    public var maxBackoff: Duration
    /// Copy the partitions' alerts into the unpartitioned alert stream (`AlertFanIn`).
    public var copyAlerts: Bool
    /// How often, at the longest, the partitions' alert streams are read for new alerts (sooner
    /// after alerts came; at once after a full batch).
    public var alertCopyInterval: Duration
    /// `XADD ... MAXLEN ~` of the unpartitioned alert stream.
    public var alertStreamMaxLength: Int

    public init(seeds: [RedisURL], partitioning: Partitioning, prefix: String = "", batchSize: Int = 1000,
                drain: Bool = false, idlePause: Duration = .milliseconds(5), positionRefresh: Duration = .seconds(1),
                deadLetterMaxLength: Int = 100_000, maxBackoff: Duration = .seconds(5), copyAlerts: Bool = true,
                alertCopyInterval: Duration = .milliseconds(10), alertStreamMaxLength: Int = 1_000_000) {
        self.seeds = seeds
        self.partitioning = partitioning
        self.prefix = prefix
        self.batchSize = batchSize
        self.drain = drain
        self.idlePause = idlePause
        self.positionRefresh = positionRefresh
        self.deadLetterMaxLength = deadLetterMaxLength
        self.maxBackoff = maxBackoff
        self.copyAlerts = copyAlerts
        self.alertCopyInterval = alertCopyInterval
        self.alertStreamMaxLength = alertStreamMaxLength
    }
}

public struct RouterStats: Sendable {
    public var routed = 0
    public var deadLetters = 0
    /// Entries found already routed (after a restart): re-adding them was refused.
    public var alreadyRouted = 0
    public var batches = 0
    /// Alerts copied into the unpartitioned alert stream.
    public var alertsCopied = 0
}

/// Moves entries from the three unpartitioned input streams into the partitions' streams, in
/// entry-id order across the three, each under its own entry id: a partition's worker sees its
/// customers' events in the very order a single worker would apply them.
///
/// Exactly once across crashes, with nothing kept away from the data it describes:
/// - An entry is re-added under its source id, so adding it a second time is refused by Redis
///   (an id not above the stream's last one); the router checks the refused entry is there.
/// - Each partition's slot holds the router's position (`KeySchema.routerPosition`), written in
///   the same MULTI/EXEC as the entries it covers. A restart resumes from the lowest position
///   over all partitions: a partition that failed over and lost its last writes lost their
///   position with them, and gets them again.
/// An entry without a valid `customer_id` cannot be placed: it goes to the unpartitioned
/// `stream:deadletter` (with its own position) with the usual reason.
///
/// It also copies the partitions' alerts back into the unpartitioned `stream:alerts:duplicate`
/// (`AlertFanIn`), so the alert stream users tail is the same on every deployment.
public final class Router {
    let config: RouterConfig
    let logger: Logger
    let stop: StopSignal
    private let sourceKeys: KeySchema
    private let partitionKeys: [KeySchema]
    private let alertFanIn: AlertFanIn?
    public private(set) var stats = RouterStats()

    /// Where a routed entry goes.
    enum Destination: Hashable, Comparable {
        case partition(Int)
        case deadLetters
    }

    public init(config: RouterConfig, logger: Logger, stop: StopSignal) {
        self.config = config
        self.logger = logger
        self.stop = stop
        sourceKeys = KeySchema(prefix: config.prefix)
        partitionKeys = (0..<config.partitioning.count).map { config.partitioning.keys(of: $0, prefix: config.prefix) }
        alertFanIn = config.copyAlerts
            ? AlertFanIn(partitionKeys: partitionKeys, unified: sourceKeys, batchSize: config.batchSize,
                         maxLength: config.alertStreamMaxLength)
            : nil
    }

    /// Returns when stopped, or caught up in `drain` mode. Throws for what retrying cannot fix:
    /// another partition count, a partition stream written by someone else, a wrong password.
    public func run() throws -> RouterStats {
        var backoff = Backoff(capMs: Int(config.maxBackoff.inMilliseconds))
        var cluster: RedisCluster?
        while !stop.isStopped {
            do {
                let redis = try cluster ?? RedisCluster(seeds: config.seeds, commandTimeoutMs: 10_000)
                cluster = redis
                do {
                    _ = try DeploymentPartitions.check(requested: config.partitioning.count, on: redis, keys: sourceKeys)
                } catch let error as PartitioningError {
                    throw UnrecoverableError(description: error.description)
                }
                try route(on: redis, backoff: &backoff)
                return stats
            } catch let error as UnrecoverableError {
                throw error
            } catch let error as RedisError {
                if case .server(let code) = error.kind, ["NOAUTH", "WRONGPASS", "NOPERM"].contains(code) {
                    throw UnrecoverableError(description: "\(error)")
                }
                let delay = backoff.nextDelayMs()
                logger.warning("router: \(error); resuming from the partitions' positions in \(delay) ms")
                pause(ms: delay)
                // New connections: one that failed mid-pipeline may still owe replies.
                cluster = nil
            }
        }
        return stats
    }

    private func route(on redis: RedisCluster, backoff: inout Backoff) throws {
        alertFanIn?.forgetPositions()
        var positions = try resumePositions(redis)
        var routedThrough = positions
        var marks = StreamWatermarks()
        var lastRefresh = ContinuousClock.now
        var stale: Set<Destination> = []
        var idleRounds = 0
        var lastAlertCopy = ContinuousClock.now - config.alertCopyInterval
        var moreAlerts = false
        // While alerts come, read again soon, at a pace that keeps the reads (one XREAD per
        // partition) near 8,000 per second at most; 20 ms without one, at `alertCopyInterval`.
        let busyAlertPause = min(config.alertCopyInterval, max(.milliseconds(1), .microseconds(125) * config.partitioning.count))
        var lastAlertCopied = ContinuousClock.now - .seconds(1)
        while !stop.isStopped {
            var readAny = false
            // A stream that is ahead of the others waits: what it read is carried until the
            // others catch up, and carrying more would only cost memory.
            for source in EventSource.allCases where marks.carriedCount(source) < config.batchSize {
                let (entries, full, time) = try read(source, after: positions[source]!, on: redis)
                if let last = entries.last { positions[source] = last.id }
                marks.add(source, entries: entries, full: full, nodeTimeMs: time)
                readAny = readAny || !entries.isEmpty
            }
            let ready = marks.take()
            for entry in ready { routedThrough[entry.source] = max(routedThrough[entry.source]!, entry.id) }
            if !ready.isEmpty {
                let touched = try write(ready, through: routedThrough, on: redis)
                stale = Set(allDestinations).subtracting(touched)
                stats.batches += 1
                backoff.reset()
            }
            let carried = EventSource.allCases.reduce(0) { $0 + marks.carriedCount($1) }
            let idle = !readAny && ready.isEmpty && carried == 0
            if !stale.isEmpty, idle || ContinuousClock.now - lastRefresh >= config.positionRefresh {
                try writePositions(routedThrough, to: Array(stale), on: redis)
                stale = []
                lastRefresh = .now
            }
            let alertPause = ContinuousClock.now - lastAlertCopied < .milliseconds(20) ? busyAlertPause : config.alertCopyInterval
            if let alertFanIn, moreAlerts || idle && config.drain || ContinuousClock.now - lastAlertCopy >= alertPause {
                let before = alertFanIn.copied
                moreAlerts = try alertFanIn.step(on: redis)
                lastAlertCopy = .now
                if alertFanIn.copied > before { lastAlertCopied = .now }
                stats.alertsCopied = alertFanIn.copied
            }
            if idle, !moreAlerts {
                if config.drain { return }
                idleRounds += 1
                // Read again soon after activity, less often the longer nothing comes (0.25 ms
                // doubling up to `idlePause`): the streams are read without BLOCK.
                usleep(UInt32(min(config.idlePause.inMicroseconds, Int64(250 << min(idleRounds - 1, 5)))))
            } else {
                idleRounds = 0
            }
        }
        if !stale.isEmpty { try? writePositions(routedThrough, to: Array(stale), on: redis) }
    }

    private var allDestinations: [Destination] {
        (0..<config.partitioning.count).map(Destination.partition) + [.deadLetters]
    }

    private func keys(of destination: Destination) -> KeySchema {
        switch destination {
        case .partition(let p): partitionKeys[p]
        case .deadLetters: sourceKeys
        }
    }

    // MARK: Positions

    /// Per input stream, the lowest position over every destination: nothing below it can be
    /// missing anywhere.
    private func resumePositions(_ redis: RedisCluster) throws -> [EventSource: EntryID] {
        var lowest: [EventSource: EntryID] = [:]
        for destination in allDestinations {
            let key = keys(of: destination).routerPosition
            let fields = try redis.send(RedisCommand("HGETALL", key), slot: HashSlot(key: key)).throwIfError().stringMap
            for source in EventSource.allCases {
                let position = fields[source.rawValue].flatMap(EntryID.init) ?? EntryID(milliseconds: 0, sequence: 0)
                lowest[source] = min(lowest[source] ?? position, position)
            }
        }
        logger.info("router: resuming after \(EventSource.allCases.map { "\($0.rawValue) \(lowest[$0]!)" }.joined(separator: ", "))")
        return lowest
    }

    private func positionCommand(_ through: [EventSource: EntryID], _ destination: Destination) -> CommitCommand {
        .hset(key: keys(of: destination).routerPosition,
              fields: EventSource.allCases.map { .init($0.rawValue, through[$0]!.description) })
    }

    /// Brings the position of destinations that got no entry up to date. Safe without the
    /// entries: everything below it was routed, and none of it went there.
    private func writePositions(_ through: [EventSource: EntryID], to destinations: [Destination], on redis: RedisCluster) throws {
        for destination in destinations {
            let command = positionCommand(through, destination)
            _ = try redis.send(command.encoded, slot: HashSlot(key: command.keys[0])).throwIfError()
        }
    }

    // MARK: Reading

    /// `TIME`, then `XREAD` of one stream, on the node of its slot.
    private func read(_ source: EventSource, after position: EntryID, on redis: RedisCluster)
        throws -> (entries: [DeliveredEntry], full: Bool, nodeTimeMs: UInt64) {
        let stream = sourceKeys.stream(for: source)
        let slot = HashSlot(key: stream)
        for _ in 0..<8 {
            let connection = try redis.connection(for: slot)
            var time: UInt64 = 0
            var entries: [DeliveredEntry] = []
            var redirect: String?
            try connection.pipeline([
                RedisCommand("TIME"),
                RedisCommand("XREAD", "COUNT", String(config.batchSize), "STREAMS", stream, position.description),
            ]) { index, reply in
                if index == 0 {
                    let parts = reply.reply
                    let values = try parts.array
                    guard values.count == 2, let seconds = UInt64(try values[0].string), let micros = UInt64(try values[1].string) else {
                        throw RedisError(kind: .protocolViolation, message: "TIME answered \(parts)")
                    }
                    time = seconds * 1000 + micros / 1000
                    return
                }
                if reply.kind == .error, ClusterRedirect(errorReply: reply.text) != nil {
                    redirect = reply.text
                    return
                }
                for (_, list) in try DeliveredEntry.decodeXRead(reply, keys: sourceKeys) {
                    entries += list
                }
            }
            guard let redirect else { return (entries, entries.count >= config.batchSize, time) }
            logger.debug("router: \(stream) \(redirect); reading the slot map again")
            try redis.refreshTopology()
        }
        throw RedisError(kind: .server(code: "TRYAGAIN"), message: "reading \(stream): still redirected after 8 attempts")
    }

    // MARK: Writing

    /// One MULTI/EXEC per destination with its entries and the router's new position,
    /// pipelined per node. Returns the destinations written.
    private func write(_ ready: [DeliveredEntry], through: [EventSource: EntryID], on redis: RedisCluster) throws -> Set<Destination> {
        var batches: [Destination: [CommitCommand]] = [:]
        var ids: [Destination: [(stream: String, id: EntryID, fields: [RawEntry.Field])]] = [:]
        for delivered in ready {
            guard let entry = delivered.entry else { continue } // trimmed before it was read: nothing to move
            let destination: Destination
            let command: CommitCommand
            switch placement(of: entry) {
            case .success(let partition):
                destination = .partition(partition)
                let stream = partitionKeys[partition].stream(for: delivered.source)
                command = .xaddEntry(stream: stream, id: delivered.id, fields: entry.fields)
                ids[destination, default: []].append((stream, delivered.id, entry.fields))
                stats.routed += 1
            case .failure(let rejection):
                destination = .deadLetters
                // Under an id of its own, ordered like the entries (ms, stream, sequence), so
                // that a repeat is refused here too.
                let id = EntryID(milliseconds: delivered.id.milliseconds,
                                 sequence: UInt64(delivered.source.rank) << 48 | delivered.id.sequence)
                let fields = [
                    RawEntry.Field("source_stream", sourceKeys.stream(for: delivered.source)),
                    RawEntry.Field("source_id", delivered.id.description),
                    RawEntry.Field("reason", rejection.reason),
                    RawEntry.Field("payload", BatchPlanner.payload(entry.fields)),
                ]
                command = .xaddEntry(stream: sourceKeys.deadLetterStream, id: id, fields: fields)
                ids[destination, default: []].append((sourceKeys.deadLetterStream, id, fields))
                stats.deadLetters += 1
            }
            batches[destination, default: []].append(command)
        }
        for destination in batches.keys { batches[destination]!.append(positionCommand(through, destination)) }

        var pending = batches.keys.sorted()
        for _ in 0..<8 where !pending.isEmpty {
            var retry: [Destination] = []
            let byNode = Dictionary(grouping: pending) { redis.topology.master(of: HashSlot(key: keys(of: $0).routerPosition)) }
            for (_, destinations) in byNode.sorted(by: { $0.value[0] < $1.value[0] }) {
                let connection = try redis.connection(for: HashSlot(key: keys(of: destinations[0]).routerPosition))
                var written: [(Destination, WrittenTransaction)] = []
                for destination in destinations {
                    written.append((destination, try connection.write(transaction: batches[destination]!.map(\.encoded))))
                }
                // Every transaction's replies are read before the refused entries are looked up
                // on the same connection.
                var refused: [(Destination, [String])] = []
                for (destination, transaction) in written {
                    switch try connection.outcome(of: transaction) {
                    case .executed(let errors) where errors.isEmpty:
                        break
                    case .executed(let errors):
                        refused.append((destination, errors))
                    case .aborted(let error) where error.serverCode == "MOVED" || error.serverCode == "ASK"
                        || error.serverCode == "TRYAGAIN" || error.serverCode == "CLUSTERDOWN":
                        retry.append(destination)
                    case .aborted(let error):
                        throw error
                    case .watchFailed:
                        retry.append(destination)
                    }
                }
                for (destination, errors) in refused {
                    try checkAlreadyRouted(ids[destination] ?? [], errors: errors, on: connection)
                    if destination == .deadLetters {
                        stats.deadLetters -= errors.count
                    } else {
                        stats.routed -= errors.count
                    }
                    stats.alreadyRouted += errors.count
                }
            }
            if !retry.isEmpty { try redis.refreshTopology() }
            pending = retry
        }
        guard pending.isEmpty else {
            throw RedisError(kind: .server(code: "TRYAGAIN"), message: "routing to \(pending.count) partitions: still redirected after 8 attempts")
        }
        return Set(batches.keys)
    }

    /// A refused XADD of a routed entry means it is there already (a restart routing again
    /// what it had routed). Anything else, or a refused entry that is not there as routed, is
    /// fatal: a partition stream that others write to (a direct XADD) cannot be routed into.
    private func checkAlreadyRouted(_ entries: [(stream: String, id: EntryID, fields: [RawEntry.Field])], errors: [String],
                                    on connection: RedisConnection) throws {
        for error in errors where !error.contains("equal or smaller than the target stream top item") {
            throw RedisError.server(error, context: "routing")
        }
        var found: [[StreamEntry]] = []
        try connection.pipeline(entries.map { RedisCommand("XRANGE", $0.stream, $0.id.description, $0.id.description) }) { _, reply in
            found.append(try StreamCommands.decodeEntries(reply))
        }
        for (entry, existing) in zip(entries, found)
        where existing.first?.fields?.map({ RawEntry.Field(name: $0.name, value: $0.value) }) != entry.fields {
            throw UnrecoverableError(description: "\(entry.stream) has entries after \(entry.id) that the router did not write: partition streams take one ingress, direct XADD or dupwatch route, never both (the router re-adds entries under their own ids, so it cannot add an entry older than one written directly)")
        }
    }

    /// The partition of the entry's customer, or why it has none.
    private func placement(of entry: RawEntry) -> Result<Int, Rejection> {
        guard let bytes = entry.value(of: "customer_id") else {
            return .failure(Rejection("missing_customer_id", "customer_id is missing"))
        }
        do {
            let customer = try FieldValidation.identifier(bytes, field: "customer_id", allowBraces: false)
            return .success(config.partitioning.partition(of: customer))
        } catch {
            return .failure(error)
        }
    }

    private func pause(ms: Int) {
        stop.sleep(ms: ms)
    }
}
