/// One field of a stream entry. Names and values are raw bytes (Redis does not require UTF-8).
public struct StreamField: Sendable, Equatable, Hashable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(name: String, value: String) {
        self.name = Array(name.utf8)
        self.value = Array(value.utf8)
    }

    /// Lossy UTF-8 renderings, for logs and tests.
    public var nameString: String { String(decoding: name, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}

/// One stream entry as returned by XRANGE / XREAD / XREADGROUP / XCLAIM / XAUTOCLAIM.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    /// nil when the entry is still pending but its message was deleted (XDEL/XTRIM): XREADGROUP of
    /// pending history returns the ID with a null field list.
    public var fields: [StreamField]?

    public init(id: String, fields: [StreamField]?) {
        self.id = id
        self.fields = fields
    }

    /// The value of the first field named `name`, or nil.
    public func value(of name: String) -> [UInt8]? {
        guard let fields else { return nil }
        let wanted = Array(name.utf8)
        return fields.first(where: { $0.name == wanted })?.value
    }
}

/// A row of `XPENDING key group [IDLE ms] start end count [consumer]`.
public struct PendingEntry: Sendable, Equatable {
    public var id: String
    public var consumer: String
    public var idleMs: Int64
    public var deliveries: Int64

    public init(id: String, consumer: String, idleMs: Int64, deliveries: Int64) {
        self.id = id
        self.consumer = consumer
        self.idleMs = idleMs
        self.deliveries = deliveries
    }
}

/// The summary form `XPENDING key group`.
public struct PendingSummary: Sendable, Equatable {
    public var count: Int64
    public var smallestID: String?
    public var largestID: String?
    public var consumers: [Consumer]

    public struct Consumer: Sendable, Equatable {
        public var name: String
        public var pending: Int64
    }
}

/// Builders for stream commands and decoders for their replies (Redis 7, RESP2).
public enum StreamCommands {
    // MARK: - builders

    /// `XADD stream [MAXLEN ~ n] id field value ...`
    public static func xadd(_ stream: String, id: String = "*", maxLenApprox: Int? = nil, fields: [StreamField]) -> RedisCommand {
        var command = RedisCommand("XADD")
        command.reserveCapacity(fields.reduce(0) { $0 + $1.name.count + $1.value.count + 30 } + stream.utf8.count + 64)
        command.append(stream)
        if let maxLenApprox {
            command.append("MAXLEN")
            command.append("~")
            command.append(maxLenApprox)
        }
        command.append(id)
        for field in fields {
            command.append(bytes: field.name)
            command.append(bytes: field.value)
        }
        return command
    }

    /// `XGROUP CREATE stream group startID [MKSTREAM]` (BUSYGROUP error if it exists).
    public static func xgroupCreate(_ stream: String, group: String, startID: String = "$", mkstream: Bool = true) -> RedisCommand {
        var command = RedisCommand("XGROUP", "CREATE", stream, group, startID)
        if mkstream { command.append("MKSTREAM") }
        return command
    }

    /// Whether a reply to `xgroupCreate` says the group exists already, which a caller creating
    /// its groups at start-up takes as done.
    public static func groupExisted(_ reply: RedisReply) -> Bool {
        if case .error(let message) = reply { return message.hasPrefix("BUSYGROUP") }
        return false
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS stream id`
    /// (`id` ">" = new messages, "0" = this consumer's pending history).
    public static func xreadgroup(group: String, consumer: String, stream: String, id: String = ">",
                                  count: Int? = nil, blockMs: Int? = nil, noAck: Bool = false) -> RedisCommand {
        var command = RedisCommand("XREADGROUP", "GROUP", group, consumer)
        if let count { command.append("COUNT"); command.append(count) }
        if let blockMs { command.append("BLOCK"); command.append(blockMs) }
        if noAck { command.append("NOACK") }
        command.append("STREAMS")
        command.append(stream)
        command.append(id)
        return command
    }

    /// `XACK stream group id ...`
    public static func xack(_ stream: String, group: String, ids: [String]) -> RedisCommand {
        var command = RedisCommand("XACK", stream, group)
        command.reserveCapacity(ids.count * 28)
        for id in ids { command.append(id) }
        return command
    }

    /// `XAUTOCLAIM stream group consumer minIdleMs start [COUNT n] [JUSTID]`
    public static func xautoclaim(_ stream: String, group: String, consumer: String, minIdleMs: Int64,
                                  start: String = "0-0", count: Int? = nil, justID: Bool = false) -> RedisCommand {
        var command = RedisCommand("XAUTOCLAIM", stream, group, consumer)
        command.append(minIdleMs)
        command.append(start)
        if let count { command.append("COUNT"); command.append(count) }
        if justID { command.append("JUSTID") }
        return command
    }

    /// `XPENDING stream group [IDLE ms] start end count [consumer]`
    public static func xpendingRange(_ stream: String, group: String, start: String = "-", end: String = "+",
                                     count: Int, minIdleMs: Int64? = nil, consumer: String? = nil) -> RedisCommand {
        var command = RedisCommand("XPENDING", stream, group)
        if let minIdleMs { command.append("IDLE"); command.append(minIdleMs) }
        command.append(start)
        command.append(end)
        command.append(count)
        if let consumer { command.append(consumer) }
        return command
    }

    // MARK: - decoders

    /// XREAD / XREADGROUP: `.null` (nothing new / BLOCK timed out) gives `[]`.
    public static func decodeXRead(_ reply: RedisReply) throws -> [(stream: String, entries: [StreamEntry])] {
        if case .null = reply { return [] }
        let streams = try reply.array
        var result: [(stream: String, entries: [StreamEntry])] = []
        result.reserveCapacity(streams.count)
        for item in streams {
            let pair = try item.array
            guard pair.count == 2 else {
                throw shapeError("XREAD stream element with 2 items (name, entries)", item)
            }
            result.append((stream: try pair[0].string, entries: try decodeEntries(pair[1])))
        }
        return result
    }

    /// An array of entries as returned by XRANGE / XREVRANGE / XCLAIM (and inside XREAD / XAUTOCLAIM).
    public static func decodeEntries(_ reply: RedisReply) throws -> [StreamEntry] {
        if case .null = reply { return [] }
        let items = try reply.array
        var entries: [StreamEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            // XCLAIM (Redis < 7) may answer a deleted entry with a bare null.
            if case .null = item { continue }
            entries.append(try decodeEntry(item))
        }
        return entries
    }

    /// One `[id, [field, value, ...] | null]` pair.
    public static func decodeEntry(_ reply: RedisReply) throws -> StreamEntry {
        guard case .array(let pair) = reply, pair.count == 2 else {
            throw shapeError("stream entry [id, fields]", reply)
        }
        let id = try pair[0].string
        switch pair[1] {
        case .null:
            return StreamEntry(id: id, fields: nil)
        case .array(let flat):
            guard flat.count % 2 == 0 else {
                throw shapeError("an even number of field names and values", pair[1])
            }
            var fields: [StreamField] = []
            fields.reserveCapacity(flat.count / 2)
            var index = 0
            while index < flat.count {
                fields.append(StreamField(name: try flat[index].bytes, value: try flat[index + 1].bytes))
                index += 2
            }
            return StreamEntry(id: id, fields: fields)
        default:
            throw shapeError("stream entry fields (array or null)", pair[1])
        }
    }

    /// XAUTOCLAIM: Redis 7 returns `[nextID, entries, deletedIDs]`; Redis 6.2 returns the first two
    /// (then `deletedIDs` is empty). With JUSTID the entries are bare IDs (fields nil).
    public static func decodeXAutoClaim(_ reply: RedisReply) throws -> (nextID: String, entries: [StreamEntry], deletedIDs: [String]) {
        let parts = try reply.array
        guard parts.count == 2 || parts.count == 3 else {
            throw shapeError("XAUTOCLAIM reply [next-id, entries, deleted-ids]", reply)
        }
        let nextID = try parts[0].string
        var entries: [StreamEntry] = []
        for item in try parts[1].array {
            switch item {
            case .null: continue
            case .bulk, .status: entries.append(StreamEntry(id: try item.string, fields: nil))  // JUSTID
            default: entries.append(try decodeEntry(item))
            }
        }
        var deleted: [String] = []
        if parts.count == 3 {
            deleted = try parts[2].array.map { try $0.string }
        }
        return (nextID: nextID, entries: entries, deletedIDs: deleted)
    }

    /// XPENDING extended form: rows of `[id, consumer, idle-ms, deliveries]`.
    public static func decodeXPendingRange(_ reply: RedisReply) throws -> [(id: String, consumer: String, idleMs: Int64, deliveries: Int64)] {
        let rows = try reply.array
        var result: [(id: String, consumer: String, idleMs: Int64, deliveries: Int64)] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            let fields = try row.array
            guard fields.count == 4 else { throw shapeError("XPENDING row [id, consumer, idle, deliveries]", row) }
            result.append((id: try fields[0].string, consumer: try fields[1].string,
                           idleMs: try fields[2].int, deliveries: try fields[3].int))
        }
        return result
    }

    /// Same as `decodeXPendingRange` but as `PendingEntry` values (Equatable, easier to store).
    public static func decodePendingEntries(_ reply: RedisReply) throws -> [PendingEntry] {
        try decodeXPendingRange(reply).map {
            PendingEntry(id: $0.id, consumer: $0.consumer, idleMs: $0.idleMs, deliveries: $0.deliveries)
        }
    }

    /// XPENDING summary form: `[count, smallest, largest, [[consumer, count], ...] | null]`.
    public static func decodeXPendingSummary(_ reply: RedisReply) throws -> PendingSummary {
        let parts = try reply.array
        guard parts.count == 4 else { throw shapeError("XPENDING summary [count, smallest, largest, consumers]", reply) }
        var consumers: [PendingSummary.Consumer] = []
        if case .array(let rows) = parts[3] {
            for row in rows {
                let pair = try row.array
                guard pair.count == 2 else { throw shapeError("XPENDING consumer [name, count]", row) }
                consumers.append(PendingSummary.Consumer(name: try pair[0].string, pending: try pair[1].int))
            }
        }
        return PendingSummary(count: try parts[0].int, smallestID: try parts[1].optionalString,
                              largestID: try parts[2].optionalString, consumers: consumers)
    }

    static func shapeError(_ expected: String, _ got: RedisReply) -> RedisError {
        if case .error(let message) = got { return RedisError.server(message) }
        return RedisError(kind: .protocolViolation, message: "expected \(expected), got \(got)")
    }
}
