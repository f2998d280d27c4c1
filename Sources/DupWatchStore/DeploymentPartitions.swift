public import RedisClient

/// The deployment's partition count, kept in Redis (`KeySchema.partitionCount`): fixed when the
/// deployment is created, and every command refuses to run against another count.
public enum DeploymentPartitions {
    /// The stored count; nil when none is stored (a single-partition deployment).
    public static func stored(on redis: RedisCluster, keys: KeySchema) throws -> Int? {
        let key = keys.partitionCount
        let text = try redis.send(RedisCommand("GET", key), slot: HashSlot(key: key)).throwIfError().optionalString
        guard let text else { return nil }
        guard let count = Int(text) else {
            throw PartitioningError("\(key) holds \(text), not a partition count: set it to the count the deployment was created with")
        }
        return count
    }

    /// The count to run with: `requested` when given (stored if nothing is yet), else the
    /// stored one, else 1. A count of 1 is never stored, so a single-partition deployment's
    /// data stays exactly as it was; a cluster needs at least 2.
    public static func check(requested: Int?, on redis: RedisCluster, keys: KeySchema) throws -> Partitioning {
        let key = keys.partitionCount
        if let requested, requested > 1 {
            _ = try redis.send(RedisCommand("SET", key, String(requested), "NX"), slot: HashSlot(key: key)).throwIfError()
        }
        let stored = try stored(on: redis, keys: keys)
        let count = requested ?? stored ?? 1
        if let stored, stored != count {
            throw PartitioningError("this deployment has \(stored) partitions (\(key)), not \(count): start every worker and the router with --partitions \(stored); the count is fixed when a deployment is created")
        }
        let partitioning = try Partitioning(count: count)
        if count == 1, redis.topology.masters.count > 1 {
            throw PartitioningError("a Redis Cluster needs --partitions 2 or more (a power of two): one partition's keys must share one slot")
        }
        return partitioning
    }

    public static func check(requested: Int?, seeds: [RedisURL], keys: KeySchema) throws -> Partitioning {
        try check(requested: requested, on: RedisCluster(seeds: seeds), keys: keys)
    }
}
