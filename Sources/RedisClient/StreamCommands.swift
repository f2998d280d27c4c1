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

/// One stream entry as returned by XRANGE / XREVRANGE / XREAD.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    /// nil when the reply had no field list for it (Redis sends that only for a deleted entry
    /// still referenced by a consumer group's pending list).
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

    // MARK: - decoders

    /// XREAD: `[[stream, entries], ...]`, or null (nothing new, BLOCK timed out) for `[]`. The
    /// one XREAD decoder: `makeEntry` builds each entry from its id and its flat field list
    /// (nil for an entry whose fields are gone) in place, without copying the reply first.
    @inlinable
    public static func decodeXRead<Entry>(
        _ reply: RedisReplyView,
        makeEntry: (_ stream: String, _ id: RedisReplyView, _ fields: RedisReplyView?) throws -> Entry
    ) throws -> [(stream: String, entries: [Entry])] {
        switch reply.kind {
        case .null: return []
        case .error: throw RedisError.server(reply.text, context: "XREAD")
        case .array: break
        default: throw shapeError("XREAD reply: an array of [stream, entries]", reply.reply)
        }
        var result: [(stream: String, entries: [Entry])] = []
        result.reserveCapacity(reply.count)
        for index in 0..<reply.count {
            let pair = reply[index]
            guard pair.kind == .array, pair.count == 2 else {
                throw shapeError("XREAD stream element with 2 items (name, entries)", pair.reply)
            }
            let stream = pair[0].text
            result.append((stream: stream, entries: try decodeEntries(pair[1]) { try makeEntry(stream, $0, $1) }))
        }
        return result
    }

    /// An array of `[id, [field, value, ...] | null]` entries (XRANGE, XREVRANGE, inside XREAD).
    @inlinable
    public static func decodeEntries<Entry>(
        _ reply: RedisReplyView,
        makeEntry: (_ id: RedisReplyView, _ fields: RedisReplyView?) throws -> Entry
    ) throws -> [Entry] {
        switch reply.kind {
        case .null: return []
        case .error: throw RedisError.server(reply.text)
        case .array: break
        default: throw shapeError("an array of stream entries", reply.reply)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(reply.count)
        for index in 0..<reply.count {
            let item = reply[index]
            guard item.kind == .array, item.count == 2, item[0].kind == .string || item[0].kind == .status else {
                throw shapeError("stream entry [id, fields]", item.reply)
            }
            let body = item[1]
            switch body.kind {
            case .null:
                entries.append(try makeEntry(item[0], nil))
            case .array where body.count % 2 == 0:
                entries.append(try makeEntry(item[0], body))
            default:
                throw shapeError("stream entry fields: an even number of names and values, or null", body.reply)
            }
        }
        return entries
    }

    /// XREAD into `StreamEntry` values (for tools and tests; the worker builds its own entries).
    public static func decodeXRead(_ reply: RedisReplyView) throws -> [(stream: String, entries: [StreamEntry])] {
        try decodeXRead(reply) { _, id, fields in streamEntry(id, fields) }
    }

    /// XRANGE / XREVRANGE into `StreamEntry` values.
    public static func decodeEntries(_ reply: RedisReplyView) throws -> [StreamEntry] {
        try decodeEntries(reply, makeEntry: streamEntry)
    }

    private static func streamEntry(_ id: RedisReplyView, _ fields: RedisReplyView?) -> StreamEntry {
        StreamEntry(id: id.text, fields: fields.map { flat in
            stride(from: 0, to: flat.count, by: 2).map { index in
                StreamField(name: flat[index].withBytes { Array($0) }, value: flat[index + 1].withBytes { Array($0) })
            }
        })
    }

    @usableFromInline
    static func shapeError(_ expected: String, _ got: RedisReply) -> RedisError {
        if case .error(let message) = got { return RedisError.server(message) }
        return RedisError(kind: .protocolViolation, message: "expected \(expected), got \(got)")
    }
}
