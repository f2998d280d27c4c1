import DupWatchCore
import DupWatchStore
import RedisClient

/// The consumer group of one set of input streams (a deployment's, or one partition's): made
/// at start-up, and read back as the committed position on every resume.
struct ConsumerGroup {
    let keys: KeySchema
    let name: String

    /// Creates the group on each input stream (a new group reads the backlog from the
    /// beginning); an existing one is left as it is.
    func create(on connection: RedisConnection) throws {
        let replies = try connection.pipeline(keys.inputStreams.map {
            StreamCommands.xgroupCreate($0, group: name, startID: "0")
        })
        for (stream, reply) in zip(keys.inputStreams, replies) {
            guard case .error = reply, !StreamCommands.groupExisted(reply) else { continue }
            // Under OOM even an existing group's CREATE is refused; reading still works then.
            if try exists(on: stream, connection) { continue }
            try reply.throwIfError()
        }
    }

    private func exists(on stream: String, _ connection: RedisConnection) throws -> Bool {
        guard case .array(let groups) = try connection.send(RedisCommand("XINFO", "GROUPS", stream)) else { return false }
        return groups.contains { (try? $0.fieldMap["name"]?.string) == name }
    }

    /// The committed position in each input stream, and which attempt at it this resume is
    /// (1 = the first since the last commit; see `Worker.resume`).
    func resume(on connection: RedisConnection) throws -> (positions: [EventSource: GroupCursor.Position], attempt: Int) {
        let infos = try connection.pipeline(keys.inputStreams.map { RedisCommand("XINFO", "GROUPS", $0) })
        let positions = try GroupCursor.positions(group: name, infos: Array(zip(EventSource.allCases, infos)))
        let earlier = try connection.send(RedisCommand("GET", keys.resumeAttempts(group: name))).throwIfError()
        return (positions, Int(try earlier.optionalString.flatMap { Int64($0) } ?? 0) + 1)
    }
}
