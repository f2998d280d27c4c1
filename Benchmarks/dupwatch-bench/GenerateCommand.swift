import ArgumentParser
import DupWatchCLI
import DupWatchBench
import DupWatchStore

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Push a seeded synthetic workload (carts, orders, statuses, some malformed) into the input streams.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Random seed: the same seed gives the same entries.") var seed: UInt64 = 42
    @Option(help: "How many entries.") var events: Int = 100_000
    @Option(help: "How many customers.") var customers: Int = 10_000
    @Option(help: "How many SKUs (Zipf-like popularity).") var skus: Int = 20_000
    @Option(help: "Share of malformed entries.") var malformed: Double = 0.005

    func run() throws {
        var config = WorkloadConfig()
        config.seed = seed
        config.events = events
        config.customers = customers
        config.skus = skus
        config.malformedShare = malformed
        let entries = Workload.generate(config)
        let redis = try connection.connect()
        try Workload.push(entries, keys: KeySchema(), to: redis)
        print("pushed \(entries.count) entries (\(entries.filter(\.malformed).count) malformed on purpose)")
    }
}
