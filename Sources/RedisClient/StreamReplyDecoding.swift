internal import CHiredis

extension StreamCommands {
    /// `decodeXRead` over hiredis's reply tree itself (see `RedisConnection.readStreams`):
    /// the same shapes and errors, without the intermediate `RedisReply` values.
    static func decodeXRead(raw reply: UnsafePointer<redisReply>) throws -> [(stream: String, entries: [StreamEntry])] {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_NIL:
            return []
        case REDIS_REPLY_ERROR:
            throw RedisError.server(String(decoding: RedisConnection.bytes(r.str, r.len), as: UTF8.self), context: "XREADGROUP")
        case REDIS_REPLY_ARRAY:
            break
        default:
            return try decodeXRead(RedisConnection.convert(reply))
        }
        var result: [(stream: String, entries: [StreamEntry])] = []
        result.reserveCapacity(r.elements)
        for i in 0..<r.elements {
            guard let pair = child(r, i), pair.pointee.type == REDIS_REPLY_ARRAY, pair.pointee.elements == 2,
                  let name = child(pair.pointee, 0), name.pointee.type == REDIS_REPLY_STRING,
                  let list = child(pair.pointee, 1)
            else { return try decodeXRead(RedisConnection.convert(reply)) }
            let stream = string(name)
            var entries: [StreamEntry] = []
            if list.pointee.type == REDIS_REPLY_ARRAY {
                entries.reserveCapacity(list.pointee.elements)
                for j in 0..<list.pointee.elements {
                    guard let entry = child(list.pointee, j) else { continue }
                    entries.append(try decodeEntry(raw: entry))
                }
            }
            result.append((stream: stream, entries: entries))
        }
        return result
    }

    private static func decodeEntry(raw entry: UnsafePointer<redisReply>) throws -> StreamEntry {
        guard entry.pointee.type == REDIS_REPLY_ARRAY, entry.pointee.elements == 2,
              let idReply = child(entry.pointee, 0), let body = child(entry.pointee, 1)
        else { return try decodeEntry(RedisConnection.convert(entry)) }
        let id = string(idReply)
        guard body.pointee.type == REDIS_REPLY_ARRAY else { return StreamEntry(id: id, fields: nil) }
        let count = body.pointee.elements
        guard count % 2 == 0 else { return try decodeEntry(RedisConnection.convert(entry)) }
        var fields: [StreamField] = []
        fields.reserveCapacity(count / 2)
        var k = 0
        while k < count {
            guard let name = child(body.pointee, k), let value = child(body.pointee, k + 1) else {
                return try decodeEntry(RedisConnection.convert(entry))
            }
            fields.append(StreamField(name: RedisConnection.bytes(name.pointee.str, name.pointee.len),
                                      value: RedisConnection.bytes(value.pointee.str, value.pointee.len)))
            k += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    @inline(__always)
    private static func child(_ parent: redisReply, _ index: Int) -> UnsafePointer<redisReply>? {
        guard let elements = parent.element, let element = elements[index] else { return nil }
        return UnsafePointer(element)
    }

    @inline(__always)
    private static func string(_ reply: UnsafePointer<redisReply>) -> String {
        guard let str = reply.pointee.str, reply.pointee.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.pointee.len), as: UTF8.self)
    }
}
