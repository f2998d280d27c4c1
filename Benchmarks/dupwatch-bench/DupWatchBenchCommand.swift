import ArgumentParser

@main
struct DupWatchBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dupwatch-bench",
        abstract: "DupWatch's benchmarks: seeded workloads, drain and latency measurements, the host's latency floor.",
        discussion: "Not part of the product: scripts/bench.sh builds and runs it.",
        subcommands: [BenchCommand.self, ClusterCommand.self, GenerateCommand.self, RelayCommand.self, SummaryCommand.self]
    )
}
