import Foundation
import DupWatchStore
import RedisClient

/// The workers' membership sorted set (`dupwatch:members:<group>`, score: expiry in epoch ms).
enum Membership {
    /// Adds `consumers` as live members for one TTL, as their own heartbeats would, just before
    /// they start: otherwise the first to start sees itself alone, takes every partition and
    /// hands most of them over only at its next heartbeat (a third of a TTL later), and the
    /// measurement would include that start.
    static func announce(_ consumers: [String], group: String, ttlMs: Int64, on cluster: RedisCluster) throws {
        let key = KeySchema().members(group: group)
        let expiry = String(Int64(Date().timeIntervalSince1970 * 1000) + ttlMs)
        var command = RedisCommand("ZADD")
        command.append(key)
        for consumer in consumers {
            command.append(expiry)
            command.append(consumer)
        }
        _ = try cluster.send(command, slot: HashSlot(key: key)).throwIfError()
    }
}
