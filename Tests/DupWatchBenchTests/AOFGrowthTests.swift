import Testing
import DupWatchBench

@Suite("AOF growth during a drain")
struct AOFGrowthTests {
    @Test func addsUpTheGrowthBetweenSamples() {
        var growth = AOFGrowth()
        growth.sample(size: 1_000, rewrites: 4)
        growth.sample(size: 1_500, rewrites: 4)
        growth.sample(size: 1_500, rewrites: 4)
        growth.sample(size: 2_300, rewrites: 4)
        #expect(growth.bytes == 1_300)
        #expect(growth.rewrites == 0)
    }

    @Test func anIntervalInWhichARewriteCompletedCountsAsNothing() {
        var growth = AOFGrowth()
        growth.sample(size: 10_000, rewrites: 0)
        growth.sample(size: 12_000, rewrites: 0) // +2,000
        growth.sample(size: 3_000, rewrites: 1)  // replaced by a compact file: unknown
        growth.sample(size: 3_700, rewrites: 1)  // +700
        growth.sample(size: 14_000, rewrites: 2) // the new base can even be larger: still unknown
        growth.sample(size: 14_100, rewrites: 2) // +100
        #expect(growth.bytes == 2_800)
        #expect(growth.rewrites == 2)
    }

    @Test func aSingleSampleIsNoGrowth() {
        var growth = AOFGrowth()
        growth.sample(size: 5_000, rewrites: 3)
        #expect(growth.bytes == 0)
        #expect(growth.rewrites == 0)
    }
}
