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

    @Option(help: "The deployment's partition count: a power of two, 2 to 1024 (fixed when the deployment is created).")
    var partitions: Int

    @Option(help: "Entries read per stream per batch.")
    var batch: Int = 1000

    @Flag(help: "Route everything available, then exit 0.")
    var drain = false

    @Flag(inversion: .prefixedNo, help: "Copy the partitions' alerts into stream:alerts:duplicate.")
    var copyAlerts = true

    @Option(help: "Approximate cap of stream:alerts:duplicate (XADD MAXLEN ~).")
    var alertStreamMaxLength: Int = 1_000_000

    func validate() throws {
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1...100000") }
        guard alertStreamMaxLength >= 1 else { throw ValidationError("--alert-stream-max-length must be at least 1") }
        guard partitions >= 2 else { throw ValidationError("--partitions must be at least 2: a single partition is read where producers write it, with no router") }
    }

    func run() async throws {
        connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.route")
        let partitioning: Partitioning
        do {
            partitioning = try Partitioning(count: partitions)
        } catch {
            throw ValidationError(error.description)
        }
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        let service = BlockingService.router(
            config: RouterConfig(seeds: seeds, partitioning: partitioning, batchSize: batch, drain: drain,
                                 copyAlerts: copyAlerts, alertStreamMaxLength: alertStreamMaxLength), logger: logger)
        try await runUntilStopped(service, what: "router", logger: logger)
    }
}
