import Testing
import DupWatchWorker

/// The jitter's whole range, deterministically: 0, the largest value and 15 evenly spaced values
/// between, over and over.
private struct Sweep: RandomNumberGenerator {
    private var index = 0

    init(start: Int = 0) { index = start }

    mutating func next() -> UInt64 {
        defer { index = (index + 1) % 17 }
        return index == 16 ? .max : UInt64.max / 16 * UInt64(index)
    }
}

/// Always the largest value: the jitter then takes the top of its range.
private struct Highest: RandomNumberGenerator {
    mutating func next() -> UInt64 { .max }
}

@Suite("Backoff")
struct BackoffTests {
    @Test func delaysDoubleUpToTheCapWithMaximalJitter() {
        var backoff = Backoff(baseMs: 100, capMs: 1_000)
        var generator = Highest()
        let delays = (0..<8).map { _ in backoff.nextDelayMs(using: &generator) }
        #expect(delays == [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000])
    }

    @Test func eachDelayIsBetweenHalfAndAllOfItsCeiling() {
        var generator = Sweep()
        for _ in 0..<200 {
            var backoff = Backoff(baseMs: 100, capMs: 5_000)
            for attempt in 0..<12 {
                let ceiling = min(5_000, 100 << attempt)
                let delay = backoff.nextDelayMs(using: &generator)
                #expect(delay >= ceiling / 2 && delay <= ceiling, "attempt \(attempt): \(delay)")
            }
        }
    }

    @Test func delaysGrowAttemptOverAttemptUntilTheCap() {
        // The lowest possible delay of attempt k+1 is the highest possible of attempt k, so the
        // delays never shrink on the way up, whatever the jitter.
        var generator = Sweep(start: 7)
        for _ in 0..<200 {
            var backoff = Backoff(baseMs: 100, capMs: 100 << 6)
            var previous = 0
            for _ in 0..<7 {
                let delay = backoff.nextDelayMs(using: &generator)
                #expect(delay >= previous)
                previous = delay
            }
        }
    }

    @Test func neverExceedsTheCapEvenAfterManyAttempts() {
        for cap in [1, 30, 999, 1_000, 30_000] {
            var backoff = Backoff(baseMs: 100, capMs: cap)
            var generator = Sweep(start: cap % 17)
            var highest = Highest()
            for k in 0..<200 {
                let delay = k.isMultiple(of: 2) ? backoff.nextDelayMs(using: &generator) : backoff.nextDelayMs(using: &highest)
                #expect(delay <= cap, "cap \(cap), attempt \(k): \(delay)")
                #expect(delay >= 0)
            }
        }
    }

    @Test func systemRandomVariantStaysWithinBounds() {
        var backoff = Backoff(capMs: 2_000)
        for attempt in 0..<40 {
            let ceiling = min(2_000, 100 << min(attempt, 20))
            let delay = backoff.nextDelayMs()
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
    }

    @Test func attemptsAreCounted() {
        var backoff = Backoff(capMs: 1_000)
        #expect(backoff.attempt == 0)
        _ = backoff.nextDelayMs()
        _ = backoff.nextDelayMs()
        #expect(backoff.attempt == 2)
    }

    @Test func resetStartsOverFromTheBase() {
        var backoff = Backoff(baseMs: 100, capMs: 10_000)
        var generator = Highest()
        for _ in 0..<10 { _ = backoff.nextDelayMs(using: &generator) }
        #expect(backoff.nextDelayMs(using: &generator) == 10_000)
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.nextDelayMs(using: &generator) == 100)
        #expect(backoff.nextDelayMs(using: &generator) == 200)
    }

    @Test func defaultBaseIs100ms() {
        #expect(Backoff(capMs: 1).baseMs == 100)
    }
}
