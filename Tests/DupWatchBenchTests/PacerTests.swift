import DupWatchBench
import Testing

@Suite("Latency producer pacing")
struct PacerTests {
    @Test func entriesFallDueEvenlyAtTheRate() {
        let pacer = Pacer(rate: 20_000, total: 1_000)
        #expect(pacer.dueCount(elapsedNanos: 0) == 1)         // the first goes at once
        #expect(pacer.dueCount(elapsedNanos: 49_999) == 1)
        #expect(pacer.dueCount(elapsedNanos: 50_000) == 2)    // one every 50 µs
        #expect(pacer.dueCount(elapsedNanos: 1_000_000) == 21)
        #expect(pacer.dueNanos(of: 20) == 1_000_000)
    }

    @Test func anEntryIsDueAtItsOwnDueTime() {
        let pacer = Pacer(rate: 7, total: 100) // 1e9 / 7 is not a whole number of nanoseconds
        for index in 0..<100 {
            #expect(pacer.dueCount(elapsedNanos: pacer.dueNanos(of: index)) > index)
            #expect(pacer.dueCount(elapsedNanos: pacer.dueNanos(of: index) - 1) <= index)
        }
    }

    @Test func aLateProducerCatchesUpInBoundedPipelines() {
        let pacer = Pacer(rate: 1_000, total: 5_000, maxBurst: 100)
        #expect(pacer.next(sent: 0, elapsedNanos: 2_000_000_000) == 0..<100) // 2,001 due: capped
        #expect(pacer.next(sent: 4_950, elapsedNanos: 60_000_000_000) == 4_950..<5_000) // never past the end
        #expect(pacer.next(sent: 10, elapsedNanos: 5_000_000).isEmpty) // 6 due, 10 sent: wait
    }
}
