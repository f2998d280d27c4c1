public import DupWatchStore
public import RedisClient

/// Where one partition's consumer group stands in its three input streams. DupWatch moves a
/// group's last-delivered-id only inside a commit (`XGROUP SETID`), so a changed position is a
/// commit, and a lag of 0 in every stream is a drained partition.
public struct PartitionPosition: Sendable, Equatable {
    /// Per input stream: the group's last-delivered-id ("" before the group exists).
    public var lastDelivered: [String]
    /// Entries the group is behind, over the three streams; nil when Redis cannot tell (a
    /// stream without the group yet, or `lag` unknown).
    public var lag: Int64?

    public init(lastDelivered: [String], lag: Int64?) {
        self.lastDelivered = lastDelivered
        self.lag = lag
    }

    /// `XINFO GROUPS` of each input stream, in one pipeline (the streams share the partition's slot).
    public static func read(_ keys: KeySchema, group: String, on connection: RedisConnection) throws -> PartitionPosition {
        let replies = try connection.pipeline(keys.inputStreams.map { RedisCommand("XINFO", "GROUPS", $0) })
        var delivered: [String] = []
        var lag: Int64? = 0
        for reply in replies {
            // "no such key": nothing was ever added to that stream and no worker made the group.
            guard case .array(let groups) = reply,
                  let fields = try groups.lazy.map({ try $0.fieldMap }).first(where: { (try? $0["name"]?.string) == group }) else {
                delivered.append("")
                lag = nil
                continue
            }
            delivered.append((try? fields["last-delivered-id"]?.string) ?? "")
            if let streamLag = try? fields["lag"]?.int { lag = lag.map { $0 + streamLag } } else { lag = nil }
        }
        return PartitionPosition(lastDelivered: delivered, lag: lag)
    }
}
