import Foundation
import RedisClient

/// How much the AOF grew, added up from samples of `INFO persistence` taken while a drain runs.
///
/// A completed rewrite replaces the file with a compact one (`aof_rewrites` counts up and
/// `aof_current_size` starts again from the new base), so the growth of the interval a rewrite
/// completed in is unknown. It counts as nothing: with rewrites the total is short by at most
/// one sampling interval of writes per rewrite. Comparing only the first and the last size,
/// as the drain did before, gave no figure at all as soon as one rewrite ran, and a 1M drain
/// with `redis.conf`'s defaults runs two or three.
public struct AOFGrowth: Sendable {
    public private(set) var bytes: Int64 = 0
    /// Rewrites completed between the first and the last sample.
    public private(set) var rewrites: Int64 = 0
    private var last: (size: Int64, rewrites: Int64)?

    public init() {}

    /// `size`: `aof_current_size`; `rewrites`: `aof_rewrites` (completed rewrites since start).
    public mutating func sample(size: Int64, rewrites completed: Int64) {
        if let last {
            if completed != last.rewrites {
                rewrites += max(0, completed - last.rewrites)
            } else if size > last.size {
                bytes += size - last.size
            }
        }
        last = (size, completed)
    }
}

/// Samples the AOF's size every 50 ms on a thread and connection of its own while the worker
/// drains, so that the growth is known even when rewrites replace the file (`AOFGrowth`).
final class AOFSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var growth = AOFGrowth()
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)

    init(url: RedisURL, first: (size: Int64, rewrites: Int64)) {
        growth.sample(size: first.size, rewrites: first.rewrites)
        Thread { [self] in
            do {
                let redis = try RedisConnection(url: url)
                while !lock.withLock({ stopped }) {
                    usleep(50_000)
                    let sample = try RedisInfo.aofSample(redis)
                    lock.withLock { growth.sample(size: sample.size, rewrites: sample.rewrites) }
                }
            } catch {
                lock.withLock { failure = error }
            }
            done.signal()
        }.start()
    }

    /// Ends the sampling, with `last` as the final sample (nil when the run failed).
    func stop(last: (size: Int64, rewrites: Int64)?) throws -> AOFGrowth {
        lock.withLock { stopped = true }
        done.wait()
        return try lock.withLock {
            if let failure { throw BenchError("AOF sampler: \(failure)") }
            if let last { growth.sample(size: last.size, rewrites: last.rewrites) }
            return growth
        }
    }
}
