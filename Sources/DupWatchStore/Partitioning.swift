public import RedisClient

/// How a deployment splits its customers into partitions: the unit of order, of parallelism
/// and of exactly-once. Every key of one partition carries that partition's hash tag, so they
/// share one Redis Cluster slot and a batch of the partition stays one MULTI/EXEC.
///
/// The partition of customer `C` is `CRC16(C) mod 16384 mod N` (Redis Cluster's CRC16, over
/// the id's bytes): the Redis key slot of `C`, which any Redis client's key-slot function and
/// `redis-cli CLUSTER KEYSLOT C` compute, modulo N.
public struct Partitioning: Sendable, Equatable {
    public static let maxCount = 1024

    /// N: a power of two, 1...1024.
    public let count: Int

    public init(count: Int) throws(PartitioningError) {
        guard count >= 1, count <= Self.maxCount, count & (count - 1) == 0 else {
            throw PartitioningError("\(count) partitions: the count must be a power of two from 1 to \(Self.maxCount)")
        }
        self.count = count
    }

    /// The partition of `customer`, 0..<count.
    public func partition(of customer: String) -> Int {
        Int(HashSlot.crc16(customer.utf8) % UInt16(HashSlot.count)) % count
    }

    /// The slot partition `p` lives in: `p × 16384 / N`, so that partitions spread evenly over
    /// the slot range and a cluster with evenly split slots gets an even share per master.
    public func slot(of partition: Int) -> HashSlot {
        HashSlot(partition * HashSlot.count / count)!
    }

    /// The hash tag of partition `p`'s keys: the first of `p<p>-0`, `p<p>-1`, ... whose slot is
    /// `slot(of: p)`. Deterministic, so every process names the same keys.
    public func tag(of partition: Int) -> String {
        let target = slot(of: partition)
        var candidate = 0
        while true {
            let tag = "p\(partition)-\(candidate)"
            if HashSlot(key: tag) == target { return tag }
            candidate += 1
        }
    }

    /// The key schema of partition `p`: today's names for a single partition, tagged names for more.
    public func keys(of partition: Int, prefix: String = "") -> KeySchema {
        count == 1 ? KeySchema(prefix: prefix) : KeySchema(prefix: prefix, partitionTag: tag(of: partition))
    }
}

public struct PartitioningError: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
