/// An open-loop schedule for offering `rate` entries per second: entry i is due i / rate
/// seconds after the start. The producer sends, in one pipeline, every entry due by now and
/// then sleeps until the next one is due, so the entries go out as evenly as the producer's
/// sleeps allow (a sleep lasts some 50-100 µs on Linux) instead of in one burst per
/// millisecond, which made every thread on the host wake at the same instant (median p99 of 5
/// interleaved pairs 2.51 -> 2.07 ms; docs/DESIGN.md, "Where the time goes now").
public struct Pacer: Sendable {
    public let rate: Int
    public let total: Int
    /// At most this many entries in one pipeline when the producer fell behind.
    public let maxBurst: Int

    public init(rate: Int, total: Int, maxBurst: Int = 1000) {
        self.rate = max(1, rate)
        self.total = max(0, total)
        self.maxBurst = max(1, maxBurst)
    }

    /// How many entries (counting from the first) are due `elapsedNanos` after the start.
    public func dueCount(elapsedNanos: Int64) -> Int {
        guard elapsedNanos >= 0 else { return 0 }
        let due = Int((Double(elapsedNanos) * Double(rate) / 1e9).rounded(.down)) + 1
        return min(total, due)
    }

    /// When entry `index` is due, in nanoseconds after the start.
    public func dueNanos(of index: Int) -> Int64 {
        Int64((Double(index) * 1e9 / Double(rate)).rounded(.up))
    }

    /// The entries to send now, given that `sent` went out already; empty when the next is not
    /// due yet.
    public func next(sent: Int, elapsedNanos: Int64) -> Range<Int> {
        let due = dueCount(elapsedNanos: elapsedNanos)
        guard due > sent else { return sent..<sent }
        return sent..<min(due, sent + maxBurst)
    }
}
