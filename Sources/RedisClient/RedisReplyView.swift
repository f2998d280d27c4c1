internal import CHiredis

/// A reply as hiredis holds it, read in place: for hot paths that decode replies straight into
/// their own types instead of building a `RedisReply` tree of byte arrays first.
///
/// Valid only inside the closure that receives it (hiredis frees the reply right after): never
/// store it or let it escape.
public struct RedisReplyView {
    public enum Kind: Sendable, Equatable {
        case string, status, error, integer, null, array, other
    }

    let pointer: UnsafePointer<redisReply>

    init(_ pointer: UnsafePointer<redisReply>) {
        self.pointer = pointer
    }

    public var kind: Kind {
        switch pointer.pointee.type {
        case REDIS_REPLY_STRING: .string
        case REDIS_REPLY_STATUS: .status
        case REDIS_REPLY_ERROR: .error
        case REDIS_REPLY_INTEGER: .integer
        case REDIS_REPLY_NIL: .null
        case REDIS_REPLY_ARRAY: .array
        default: .other
        }
    }

    /// Elements of an array reply (0 for anything else).
    public var count: Int {
        pointer.pointee.type == REDIS_REPLY_ARRAY ? pointer.pointee.elements : 0
    }

    /// Element `index` of an array reply (`index < count`).
    public subscript(index: Int) -> RedisReplyView {
        RedisReplyView(UnsafePointer(pointer.pointee.element![index]!))
    }

    /// The elements of a flat `[name, value, name, value, ...]` array (HGETALL, XINFO) as pairs;
    /// an odd last element is left out.
    public var pairs: Pairs { Pairs(reply: self) }

    /// A concrete sequence, not a lazy map: the map's closure context costs heap allocations
    /// per hash read, and a batch reads thousands.
    public struct Pairs: Sequence, IteratorProtocol {
        let reply: RedisReplyView
        var index = 0

        public mutating func next() -> (name: RedisReplyView, value: RedisReplyView)? {
            guard index + 1 < reply.count else { return nil }
            defer { index += 2 }
            return (reply[index], reply[index + 1])
        }
    }

    /// The bytes of a string, status or error reply (empty for other kinds).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let r = pointer.pointee
        guard r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS || r.type == REDIS_REPLY_ERROR,
              let str = r.str, r.len > 0 else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: str, count: r.len))
    }

    /// The text of a string, status or error reply (invalid UTF-8 is replaced).
    public var text: String {
        withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// True when this is a string reply equal to `ascii` (compares bytes, builds nothing).
    public func equals(_ ascii: StaticString) -> Bool {
        withBytes { bytes in
            guard bytes.count == ascii.utf8CodeUnitCount else { return false }
            let expected = UnsafeBufferPointer(start: ascii.utf8Start, count: bytes.count)
            return bytes.elementsEqual(expected)
        }
    }

    /// The value of an integer reply.
    public var integer: Int64 {
        pointer.pointee.type == REDIS_REPLY_INTEGER ? pointer.pointee.integer : 0
    }

    /// A copy as a `RedisReply` (for error paths and anything that must outlive the closure).
    public var reply: RedisReply {
        RedisConnection.convert(pointer)
    }
}

extension RedisConnection {
    /// Sends one command and hands its reply to `decode` as a view that is only valid during
    /// that call.
    public func send<T>(_ command: RedisCommand, decode: (RedisReplyView) throws -> T) throws -> T {
        var result: T?
        try sendAndInspect([command]) { _, reply in result = try decode(RedisReplyView(reply)) }
        return result!
    }

    /// Pipelines `commands` and hands each reply, in order, to `decode` as a view that is only
    /// valid during that call; nothing is copied unless `decode` copies it.
    public func pipeline(_ commands: [RedisCommand], decode: (Int, RedisReplyView) throws -> Void) throws {
        try sendAndInspect(commands) { index, reply in try decode(index, RedisReplyView(reply)) }
    }
}
