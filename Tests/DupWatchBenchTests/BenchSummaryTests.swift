import DupWatchBench
import Foundation
import Testing

@Suite("scripts/bench.sh's summary and progress output")
struct BenchSummaryTests {
    /// A report as `bench --json` writes it.
    private func report(_ worker: String, eventsPerSecond: Double, events: Int = 50_000) throws -> BenchReport {
        let json = """
            {"worker":"\(worker)","events":\(events),"events_per_s_median":\(eventsPerSecond),"events_per_s_runs":[\(eventsPerSecond)],
             "alerts":10,"deadletters":2,"redis_us_per_event":5.33,"worker_us_per_event":5.68,"worker_peak_rss_mb":46.2,
             "aof_rewrites":0,"redis_memory_delta_per_customer":1991,"bytes_per_customer":1991,"floors":[]}
            """
        return try JSONDecoder().decode(BenchReport.self, from: Data(json.utf8))
    }

    @Test func withoutPeersTheRatioIsSaidToBeSkippedNotNaN() throws {
        let summary = BenchSummary(main: try report("dupwatch", eventsPerSecond: 140_721), sameInput: try report("dupwatch-small", eventsPerSecond: 148_209))
        #expect(summary.ratioToBestPeer == nil)
        #expect(summary.line.contains("vs_best_peer=skipped"), "\(summary.line)")
        #expect(!summary.rendered.lowercased().contains("nan"), "\(summary.rendered)")
        #expect(summary.rendered.contains("skipped (../shared/peers not found)"))
    }

    @Test func theRatioIsAgainstTheFastestPeerOnTheSameInput() throws {
        let summary = BenchSummary(main: try report("dupwatch", eventsPerSecond: 140_721, events: 1_000_000),
                                   sameInput: try report("dupwatch-small", eventsPerSecond: 148_209),
                                   peers: [try report("py_worker-simple", eventsPerSecond: 9_000),
                                           try report("py_worker-lua", eventsPerSecond: 20_795)])
        #expect(summary.bestPeer?.worker == "py_worker-lua")
        #expect(summary.line == "bench events/s=140721 vs_best_peer=7.1x redis_us_per_event=5.33 p99_ms=n/a bytes_per_customer=1991")
    }

    @Test func theAnalyticsCostIsTheRatioOfTheMediansOfRunsTakenInTurn() throws {
        let on = try [120_000.0, 110_000, 118_000].map { try report("dupwatch-stats", eventsPerSecond: $0, events: 300_000) }
        let off = try [125_000.0, 130_000, 100_000].map { try report("dupwatch-no-stats", eventsPerSecond: $0, events: 300_000) }
        let summary = BenchSummary(main: try report("dupwatch", eventsPerSecond: 140_721), analytics: (on, off))
        // Medians 118,000 and 125,000.
        #expect(summary.analyticsRatio == 118_000.0 / 125_000.0)
        #expect(summary.line.hasSuffix(" analytics_ratio=0.944"), "\(summary.line)")
        #expect(summary.rendered.contains("118000 / 125000 = 0.944 (target ≥ 0.90)"), "\(summary.rendered)")
        #expect(summary.rendered.contains("120000, 110000, 118000 / 125000, 130000, 100000"))
        #expect(BenchSummary(main: try report("dupwatch", eventsPerSecond: 1)).analyticsRatio == nil)
    }

    @Test func offATerminalTheProgressIsALinePerPhaseWithNoCarriageReturns() {
        var written: [String] = []
        var bar = ProgressBar("loading", total: 1_000, terminal: false) { written.append($0) }
        for done in stride(from: 0, through: 1_000, by: 7) { bar.update(done) }
        bar.update(1_000)
        #expect(written == ["loading: 1000 to go\n", "loading: done (1000/1000)\n"])
        #expect(!written.joined().contains("\r"))
    }

    @Test func onATerminalTheProgressIsRedrawnInPlace() {
        var written: [String] = []
        var bar = ProgressBar("loading", total: 100, terminal: true) { written.append($0) }
        for done in 0...100 { bar.update(done) }
        #expect(written.filter { $0.hasPrefix("\r") }.count == 101)
        #expect(written.last == "\n")
    }
}
