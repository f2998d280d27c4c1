import ArgumentParser
import DupWatchCLI
import DupWatchBench

/// Run by `dupwatch bench --floor` in the worker's place; not for users.
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Benchmark aid: copy input entries to the alert stream with no rules (the latency floor).",
        shouldDisplay: false)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Pipelined round trips reading the entries' carts before each commit.") var stateReads: Int = 0
    @Option(help: "Raise an alert for every N-th entry read.") var alertEvery: Int = 64
    @Flag(help: "Read on a second thread and connection, handing each read to the committing thread.") var handOver = false
    @Flag(help: "Make DupWatch's state reads and commit instead of --state-reads (no rules).") var dupwatchShaped = false

    func run() throws {
        let redis = try connection.connect()
        redis.setCommandTimeout(ms: 10_000)
        try LatencyFloorRelay(stateReads: stateReads, dupwatchShaped: dupwatchShaped, alertEvery: alertEvery)
            .run(on: redis, readerURL: handOver ? connection.url() : nil)
    }
}
