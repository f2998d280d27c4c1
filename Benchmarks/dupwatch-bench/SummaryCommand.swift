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

    func run() throws {
        func read(_ path: String) throws -> BenchReport {
            do {
                return try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw CommandFailure("cannot read the bench report \(path): \(error)")
            }
        }
        let summary = BenchSummary(main: try read(main), sameInput: try sameInput.map(read), warm: try warm.map(read),
                                   peers: try peer.map(read))
        print(summary.rendered)
    }
}
