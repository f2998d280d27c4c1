import ArgumentParser
import DupWatchCLI
import DupWatchStore
import DupWatchWorker
import Logging
import RedisClient

struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Move entries from stream:cart:events, stream:order:placed and stream:order:status into the partitions' streams.",
        discussion: """
            For partitioned deployments (dupwatch worker --partitions N). Entries \
            keep their ids and their order across the three streams; a restart routes nothing twice. \
            Producers then write to the unpartitioned streams only: a partition stream takes one \
            ingress, direct XADD or the router, never both. It also copies every partition's \
            alerts into stream:alerts:duplicate, exactly once, so that stream can be tailed \
            with XREAD as on a single worker.
            """)

    @OptionGroup var connection: ConnectionOptions

    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("The deployment's partition count: a power of two, 2 to 1024 (fixed when the deployment is created). Required.",
                                "partitions"))
    var partitions: Int?

    @Option(help: Settings.help("Entries read per stream per batch (1-100000).", "batch", default: "1000"))
    var batch: Int?

    @Flag(inversion: .prefixedNo, help: Settings.help("Route everything available, then exit 0.", "drain", default: "off"))
    var drain: Bool?

    @Flag(inversion: .prefixedNo, help: Settings.help("Copy the partitions' alerts into stream:alerts:duplicate.", "copy-alerts", default: "on"))
    var copyAlerts: Bool?

    @Option(help: Settings.help("Approximate cap of stream:alerts:duplicate (XADD MAXLEN ~).", "alert-stream-max-length", default: "1000000"))
    var alertStreamMaxLength: Int?

    /// The options resolved (command line, DUPWATCH_* variable, default) and checked.
    struct Resolved {
        var partitioning: Partitioning
        var batch: Int
        var drain: Bool
        var copyAlerts: Bool
        var alertStreamMaxLength: Int
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let partitions = try settings.required(self.partitions, "partitions")
        guard partitions >= 2 else {
            throw settings.invalid("partitions", "must be at least 2: a single partition is read where producers write it, with no router")
        }
        guard let partitioning = try? Partitioning(count: partitions) else {
            throw settings.invalid("partitions", "must be a power of two, 2 to \(Partitioning.maxCount)")
        }
        let options = Resolved(
            partitioning: partitioning,
            batch: try settings.value(batch, "batch", default: 1000),
            drain: try settings.flag(drain, "drain"),
            copyAlerts: try settings.flag(copyAlerts, "copy-alerts", default: true),
            alertStreamMaxLength: try settings.value(alertStreamMaxLength, "alert-stream-max-length", default: 1_000_000))
        guard (1...100_000).contains(options.batch) else { throw settings.invalid("batch", "must be 1...100000") }
        guard options.alertStreamMaxLength >= 1 else { throw settings.invalid("alert-stream-max-length", "must be at least 1") }
        return options
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() async throws {
        let options = try resolved()
        try connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.route")
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        let service = BlockingService.router(
            config: RouterConfig(seeds: seeds, partitioning: options.partitioning, batchSize: options.batch, drain: options.drain,
                                 copyAlerts: options.copyAlerts, alertStreamMaxLength: options.alertStreamMaxLength), logger: logger)
        try await runUntilStopped([service], what: "router", logger: logger)
    }
}
