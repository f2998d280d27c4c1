public import DupWatchStore
public import RedisClient

/// Sends workload entries the way a producer that routes by itself does: each into its
/// customer's partition stream (`Partitioning.partition(of:)`), one pipeline per node. An entry
/// without a customer id (a malformed one) goes to partition 0, whose worker dead-letters it.
public struct PartitionedSender {
    public let partitioning: Partitioning
    public let keys: [KeySchema]

    public init(partitioning: Partitioning) {
        self.partitioning = partitioning
        keys = (0..<partitioning.count).map { partitioning.keys(of: $0) }
    }

    public func partition(of entry: GeneratedEntry) -> Int {
        entry.fields.first { $0.0 == "customer_id" }.map { partitioning.partition(of: $0.1) } ?? 0
    }

    /// XADDs `entries`, grouped by node; returns each entry's partition and reply, in order.
    /// Throws on an error reply.
    @discardableResult
    public func send(_ entries: ArraySlice<GeneratedEntry>, to cluster: RedisCluster) throws -> [(partition: Int, reply: RedisReply)] {
        var byNode: [ObjectIdentifier: (connection: RedisConnection, indexes: [Int], commands: [RedisCommand])] = [:]
        var partitions: [Int] = []
        partitions.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() {
            let partition = partition(of: entry)
            partitions.append(partition)
            let connection = try cluster.connection(for: partitioning.slot(of: partition))
            byNode[ObjectIdentifier(connection), default: (connection, [], [])].indexes.append(offset)
            byNode[ObjectIdentifier(connection)]!.commands.append(entry.xadd(keys: keys[partition]))
        }
        var replies = [RedisReply?](repeating: nil, count: entries.count)
        for (_, batch) in byNode {
            for (index, reply) in zip(batch.indexes, try batch.connection.pipeline(batch.commands)) {
                replies[index] = try reply.throwIfError()
            }
        }
        return zip(partitions, replies).map { ($0, $1!) }
    }

    /// Pushes every entry, `chunk` at a time; returns how many went to each partition.
    public func push(_ entries: [GeneratedEntry], to cluster: RedisCluster, chunk: Int = 5_000,
                     progress: (Int) -> Void = { _ in }) throws -> [Int] {
        var perPartition = [Int](repeating: 0, count: partitioning.count)
        var start = 0
        while start < entries.count {
            let end = min(entries.count, start + chunk)
            for sent in try send(entries[start..<end], to: cluster) { perPartition[sent.partition] += 1 }
            start = end
            progress(start)
        }
        return perPartition
    }
}
