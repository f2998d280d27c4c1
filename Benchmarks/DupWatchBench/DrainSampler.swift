import Foundation
import DupWatchStore
import RedisClient

/// Samples every partition's lag every 100 ms on a thread of its own until each is drained.
final class DrainSampler: @unchecked Sendable {
    /// Made and connected to every partition's node by `init`, then used by the thread alone.
    private let cluster: RedisCluster
    private let partitioning: Partitioning
    private let group: String
    private let stopped = StopBox()
    /// Written by the sampler thread, read after `stop` joined it.
    private var drainedAt: [Double?]
    private var calls: [Int64]
    private var failure: String?

    init(seeds: [RedisURL], partitioning: Partitioning, group: String) throws {
        cluster = try RedisCluster(seeds: seeds)
        for partition in 0..<partitioning.count { _ = try cluster.connection(for: partitioning.slot(of: partition)) }
        self.partitioning = partitioning
        self.group = group
        drainedAt = Array(repeating: nil, count: partitioning.count)
        calls = Array(repeating: 0, count: partitioning.count)
    }

    func start(from start: ContinuousClock.Instant) {
        Thread { [self] in
            do {
                let keys = (0..<partitioning.count).map { partitioning.keys(of: $0) }
                while !stopped.value, drainedAt.contains(where: { $0 == nil }) {
                    for partition in 0..<partitioning.count where drainedAt[partition] == nil {
                        let connection = try cluster.connection(for: partitioning.slot(of: partition))
                        let position = try PartitionPosition.read(keys[partition], group: group, on: connection)
                        calls[partition] += Int64(keys[partition].inputStreams.count)
                        if position.lag == 0 { drainedAt[partition] = start.duration(to: .now).inSeconds }
                    }
                    usleep(100_000)
                }
            } catch {
                failure = "drain sampler: \(error)"
            }
            stopped.samplerDone.signal()
        }.start()
    }

    /// Stops and joins the thread: when each partition was drained, and the calls made to each.
    @discardableResult
    func stop() -> (drainedAt: [Double?], calls: [Int64]) {
        stopped.value = true
        stopped.samplerDone.wait()
        if let failure { FileHandle.standardError.write(Data("\(failure)\n".utf8)) }
        return (drainedAt, calls)
    }
}
