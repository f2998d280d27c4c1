extension DrainBenchmark {
    /// The worker's commands in one `run`, from the node's `INFO commandstats` counted since a
    /// `CONFIG RESETSTAT` just before it: all of them but the `pushed` entries' `XADD`s and what
    /// the benchmark itself sends (`FLUSHALL`, `INFO`, the `XLEN`s and `XPENDING`s of its checks).
    public static func workerCalls(from calls: [String: Int64], pushed: Int) -> [String: Int64] {
        var worker = calls
        for own in ["flushall", "info", "xlen", "xpending", "config|resetstat"] { worker[own] = nil }
        worker["xadd"] = max(0, (worker["xadd"] ?? 0) - Int64(pushed))
        return worker.filter { $0.value > 0 }
    }
}
