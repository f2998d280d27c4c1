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
