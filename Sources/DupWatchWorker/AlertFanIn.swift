import DupWatchCore
import DupWatchStore
import RedisClient

/// Copies every partition's alerts into the one unpartitioned `stream:alerts:duplicate`, so a
/// website or an operator that tails that stream with `XREAD` sees a partitioned deployment
/// (one Redis or a cluster) as it sees a single worker. The router runs it.
///
/// Exactly once, with its bookkeeping kept with the data it describes: the copies, the position
/// read up to in each partition's alert stream (`KeySchema.alertFanInPosition`) and the ids of
/// the alerts copied lately (`KeySchema.alertFanInRecent`) are written in one MULTI/EXEC in the
/// unified stream's slot, under WATCH of the position, so two routers never both copy.
/// - The unified stream's master fails over and loses its last writes: the positions go back
///   with the copies, and they are copied again.
/// - A partition's master fails over and loses alerts already copied: its worker publishes them
///   again (same alert ids, new entry ids); their alert ids are among the recent ones, so they
///   are not copied twice. `recentCapacity` bounds how many are remembered: far more than the
///   writes a failover can lose.
final class AlertFanIn {
    private let partitionKeys: [KeySchema]
    private let unified: KeySchema
    private let batchSize: Int
    private let maxLength: Int
    private let recentCapacity: Int
    /// The last entry read of each partition's alert stream; nil until read from Redis (and
    /// after anything that may have changed it there).
    private var positions: [EntryID]?
    private(set) var copied = 0
    private(set) var skippedAsCopied = 0

    init(partitionKeys: [KeySchema], unified: KeySchema, batchSize: Int, maxLength: Int, recentPerPartition: Int = 10_000) {
        self.partitionKeys = partitionKeys
        self.unified = unified
        self.batchSize = batchSize
        self.maxLength = maxLength
        recentCapacity = recentPerPartition * partitionKeys.count
    }

    /// Reads the positions from Redis again at the next step (after a connection error: a
    /// failover may have taken the last copies back).
    func forgetPositions() {
        positions = nil
    }

    private var unifiedSlot: HashSlot { HashSlot(key: unified.alertStream) }

    /// Copies what the partitions published since the last step. Returns whether any partition
    /// had a full batch (so there is more to copy at once).
    @discardableResult
    func step(on redis: RedisCluster) throws -> Bool {
        let known = try positions ?? storedPositions(on: redis)
        positions = known
        guard let (alerts, full) = try readNew(after: known, on: redis), !alerts.isEmpty else { return false }

        let connection = try redis.connection(for: unifiedSlot)
        let ids = alerts.compactMap(\.alertID)
        let replies = try connection.pipeline([
            RedisCommand("WATCH", unified.alertFanInPosition),
            RedisCommand("HGETALL", unified.alertFanInPosition),
        ] + (ids.isEmpty ? [] : [RedisCommand(["ZMSCORE", unified.alertFanInRecent] + ids)]))
        for reply in replies { _ = try reply.throwIfError() }
        guard try Self.positions(from: replies[1].stringMap, keys: partitionKeys) == known else {
            // Another router moved on meanwhile: start again from what it wrote.
            _ = try connection.send(RedisCommand("UNWATCH"))
            positions = nil
            return true
        }
        var alreadyCopied = try (ids.isEmpty ? [] : replies[2].array.map { !$0.isNull }).makeIterator()
        var next = known
        var commands: [CommitCommand] = []
        var members: [CommitCommand.ScoredMember] = []
        var seen: Set<String> = []
        for alert in alerts {
            next[alert.partition] = max(next[alert.partition], alert.id)
            guard let alertID = alert.alertID else { continue } // not an alert: nothing to copy
            guard alreadyCopied.next() == false, seen.insert(alertID).inserted else {
                skippedAsCopied += 1
                continue
            }
            commands.append(.xadd(stream: unified.alertStream, maxLength: maxLength, fields: alert.fields))
            members.append(.init(Int64(alert.id.milliseconds), alertID))
        }
        commands.append(.hset(key: unified.alertFanInPosition, fields: partitionKeys.indices.map {
            .init(partitionKeys[$0].partitionTag ?? "", next[$0].description)
        }))
        if !members.isEmpty {
            commands.append(.zadd(key: unified.alertFanInRecent, members: members))
        }
        var encoded = commands.map(\.encoded)
        encoded.append(RedisCommand("ZREMRANGEBYRANK", unified.alertFanInRecent, "0", String(-recentCapacity - 1)))
        switch try connection.transaction(encoded) {
        case .executed(let errors) where errors.isEmpty:
            positions = next
            copied += members.count
            return full
        case .executed(let errors):
            throw RedisError.server(errors[0], context: "copying alerts into \(unified.alertStream)")
        case .watchFailed:
            positions = nil
            return true
        case .aborted(let error):
            positions = nil
            if ["MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN"].contains(error.serverCode ?? "") {
                try redis.refreshTopology()
                return true
            }
            throw error
        }
    }

    /// One partition's alert, read.
    struct PartitionAlert {
        var partition: Int
        var id: EntryID
        /// Nil for an entry without one (not written by a worker): read past, not copied.
        var alertID: String?
        var fields: [CommitCommand.Field]
    }

    /// The alerts after `positions`, in entry-id order (partition order for equal ids), and
    /// whether a partition had more than one batch. Nil when the slot map was out of date.
    private func readNew(after positions: [EntryID], on redis: RedisCluster) throws -> ([PartitionAlert], Bool)? {
        var alerts: [PartitionAlert] = []
        var full = false
        var redirected = false
        let byNode = Dictionary(grouping: partitionKeys.indices) { redis.topology.master(of: HashSlot(key: partitionKeys[$0].alertStream)) }
        for partitions in byNode.values {
            let connection = try redis.connection(for: HashSlot(key: partitionKeys[partitions[0]].alertStream))
            try connection.pipeline(partitions.map {
                RedisCommand("XREAD", "COUNT", String(batchSize), "STREAMS", partitionKeys[$0].alertStream, positions[$0].description)
            }) { index, reply in
                if reply.kind == .error, ClusterRedirect(errorReply: reply.text) != nil {
                    redirected = true
                    return
                }
                let entries = try StreamCommands.decodeXRead(reply).flatMap(\.entries)
                full = full || entries.count >= batchSize
                for entry in entries {
                    guard let id = EntryID(entry.id) else { continue }
                    alerts.append(PartitionAlert(partition: partitions[index], id: id,
                                                 alertID: entry.value(of: "alert_id").map { String(decoding: $0, as: UTF8.self) },
                                                 fields: (entry.fields ?? []).map { .init($0.nameString, $0.valueString) }))
                }
            }
        }
        if redirected {
            try redis.refreshTopology()
            return nil
        }
        alerts.sort { ($0.id, $0.partition) < ($1.id, $1.partition) }
        return (alerts, full)
    }

    private func storedPositions(on redis: RedisCluster) throws -> [EntryID] {
        let key = unified.alertFanInPosition
        return try Self.positions(from: redis.send(RedisCommand("HGETALL", key), slot: HashSlot(key: key)).throwIfError().stringMap,
                                  keys: partitionKeys)
    }

    /// The position hash's fields (partition tag -> last entry id read), 0-0 for a partition
    /// not read yet.
    static func positions(from fields: [String: String], keys: [KeySchema]) -> [EntryID] {
        keys.map { fields[$0.partitionTag ?? ""].flatMap(EntryID.init) ?? EntryID(milliseconds: 0, sequence: 0) }
    }
}
