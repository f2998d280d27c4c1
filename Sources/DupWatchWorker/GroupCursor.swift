public import DupWatchCore
public import RedisClient

/// Where the worker stands in each input stream.
///
/// The consumer group's `last-delivered-id` is the committed position: it moves only inside a
/// batch's MULTI/EXEC (`XGROUP SETID`), together with the batch's effects. Entries are read
/// with plain XREAD from `readFrom`, which runs ahead of it by the entries in hand. Reading
/// therefore writes nothing: no pending-entries list, no XCLAIM per entry in the AOF, no XACK
/// (docs/DESIGN.md, "Performance"). A crash or a lost connection resumes at the committed
/// position; a worker that lost the lease can read but never move it.
public struct GroupCursor: Sendable {
    public struct Position: Sendable, Equatable {
        public var id: EntryID
        /// The group's `entries-read` (drives `XINFO GROUPS` lag); nil when Redis does not know it.
        public var entriesRead: Int64?

        public init(id: EntryID, entriesRead: Int64?) {
            self.id = id
            self.entriesRead = entriesRead
        }
    }

    public private(set) var committed: [EventSource: Position] = [:]
    public private(set) var readFrom: [EventSource: EntryID] = [:]

    public init() {}

    /// Starts over from the group's positions (`XINFO GROUPS` of each input stream).
    public mutating func resume(at positions: [EventSource: Position]) {
        committed = positions
        readFrom = positions.mapValues(\.id)
    }

    /// The id to XREAD `source` after.
    public func readPosition(_ source: EventSource) -> EntryID {
        readFrom[source] ?? EntryID(milliseconds: 0, sequence: 0)
    }

    /// Records what a read returned (entries of one stream arrive in id order).
    public mutating func didRead(_ source: EventSource, upTo last: EntryID) {
        readFrom[source] = max(readPosition(source), last)
    }

    /// The group moves of a batch that processed `processed` (last id and count per stream).
    public func advance(_ processed: [EventSource: (last: EntryID, count: Int)]) -> [EventSource: Position] {
        var moved: [EventSource: Position] = [:]
        for (source, done) in processed {
            let entriesRead = committed[source]?.entriesRead.map { $0 + Int64(done.count) }
            moved[source] = Position(id: done.last, entriesRead: entriesRead)
        }
        return moved
    }

    /// After the commit carrying `moved` landed.
    public mutating func didCommit(_ moved: [EventSource: Position]) {
        for (source, position) in moved { committed[source] = position }
    }

    /// Reads the group's position in each input stream from `XINFO GROUPS` replies.
    public static func positions(group: String, infos: [(EventSource, RedisReply)]) throws -> [EventSource: Position] {
        var positions: [EventSource: Position] = [:]
        for (source, reply) in infos {
            for row in try reply.throwIfError().array {
                let fields = try row.fieldMap
                guard try fields["name"]?.string == group else { continue }
                let text = try fields["last-delivered-id"]?.string ?? "0-0"
                guard let id = EntryID(text) else {
                    throw RedisError(kind: .protocolViolation, message: "group \(group) has last-delivered-id \(text)",
                                     hint: "XINFO GROUPS should give an entry id")
                }
                // A group created at 0 reports no entries-read until something sets it.
                let entriesRead = (try? fields["entries-read"]?.int) ?? (id == EntryID(milliseconds: 0, sequence: 0) ? 0 : nil)
                positions[source] = Position(id: id, entriesRead: entriesRead)
            }
        }
        return positions
    }
}
