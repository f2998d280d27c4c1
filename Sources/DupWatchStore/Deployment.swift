public import RedisClient

/// A deployment as the read and operator commands see it: one Redis or a cluster, and its
/// partitions (the stored count; 1 when none is stored).
public final class Deployment {
    public let redis: RedisCluster
    public let partitioning: Partitioning
    /// Every partition's keys, in partition order.
    public let partitions: [KeySchema]
    /// The keys outside any partition: the unpartitioned input streams and the router's
    /// dead letters (the only keys of a single-partition deployment).
    public let shared: KeySchema

    public init(seeds: [RedisURL], prefix: String = "") throws {
        redis = try RedisCluster(seeds: seeds)
        shared = KeySchema(prefix: prefix)
        partitioning = try Partitioning(count: DeploymentPartitions.stored(on: redis, keys: shared) ?? 1)
        let partitioning = self.partitioning
        partitions = (0..<partitioning.count).map { partitioning.keys(of: $0, prefix: prefix) }
    }

    /// The keys of the partition that holds `customer`.
    public func keys(ofCustomer customer: String) -> KeySchema {
        partitions[partitioning.partition(of: customer)]
    }

    /// The connection to the node that holds the keys of `keys` (a partition, or the shared keys
    /// of a single partition).
    public func connection(for keys: KeySchema) throws -> RedisConnection {
        try redis.connection(for: HashSlot(key: keys.cartStream))
    }

    /// The connection to the node that holds `key`.
    public func connection(forKey key: String) throws -> RedisConnection {
        try redis.connection(for: HashSlot(key: key))
    }
}
