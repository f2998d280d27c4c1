import DupWatchCore
import DupWatchStore
import RedisClient

extension DeliveredEntry {
    /// An XREAD reply straight into entries. Field names and values are copied once, as the
    /// bytes the parser validates.
    static func decodeXRead(_ reply: RedisReplyView, keys: KeySchema) throws -> [(EventSource, [DeliveredEntry])] {
        var known: (stream: String, source: EventSource)?
        let streams = try StreamCommands.decodeXRead(reply) { stream, idReply, body -> DeliveredEntry in
            if known?.stream != stream {
                guard let source = keys.source(ofStream: stream) else {
                    throw RedisError(kind: .protocolViolation, message: "XREAD answered for stream \(stream), which was not asked for")
                }
                known = (stream, source)
            }
            let source = known!.source
            guard let id = idReply.withBytes({ EntryID(utf8: $0) }) else {
                throw RedisError(kind: .protocolViolation, message: "XREAD entry id \(idReply.text) is not <ms>-<seq>")
            }
            guard let body else { return DeliveredEntry(source: source, id: id, entry: nil) }
            var fields: [RawEntry.Field] = []
            fields.reserveCapacity(body.count / 2)
            var k = 0
            while k < body.count {
                fields.append(RawEntry.Field(name: body[k].withBytes(RawEntry.Field.name), value: body[k + 1].withBytes { Array($0) }))
                k += 2
            }
            return DeliveredEntry(source: source, id: id, entry: RawEntry(source: source, id: id, fields: fields))
        }
        return streams.compactMap { stream in stream.entries.first.map { ($0.source, stream.entries) } }
    }
}
