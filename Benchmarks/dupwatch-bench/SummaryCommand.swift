import ArgumentParser
import DupWatchBench
import DupWatchCLI
import Foundation

/// scripts/bench.sh's last step: the reports of one run side by side.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print the summary of `bench --json` reports: DupWatch's, the warm store's and the peers'.")

    @Option(help: "DupWatch's main report.") var main: String
    @Option(help: "DupWatch on the peers' input size.") var sameInput: String?
    @Option(help: "DupWatch's latency in a warm store.") var warm: String?
    @Option(help: "A peer's report (repeatable); none when the peers were not run.") var peer: [String] = []
    @Option(help: "A run of DupWatch drained with its analytics (repeatable; pair with --analytics-off).") var analyticsOn: [String] = []
    @Option(help: "A run of DupWatch drained with --no-stats, the same input (repeatable).") var analyticsOff: [String] = []

    func run() throws {
        func read(_ path: String) throws -> BenchReport {
            do {
                return try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw CommandFailure("cannot read the bench report \(path): \(error)")
            }
        }
        var analytics: (on: [BenchReport], off: [BenchReport])?
        if !analyticsOn.isEmpty, !analyticsOff.isEmpty { analytics = (try analyticsOn.map(read), try analyticsOff.map(read)) }
        let summary = BenchSummary(main: try read(main), sameInput: try sameInput.map(read), warm: try warm.map(read),
                                   peers: try peer.map(read), analytics: analytics)
        print(summary.rendered)
    }
}
