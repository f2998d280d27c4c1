import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchImport
import DupWatchStore
import DupWatchWorker
import Foundation
import Logging
import RedisClient

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load history into customer state.",
        subcommands: [ImportOrdersCommand.self])
}

struct ImportOrdersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Load order history, so that the order rule is not blind on day one.",
        discussion: """
            Writes the state a worker would have written for the file's orders (orders, last-N \
            lists, history index), in file order per customer, without publishing alerts or \
            touching the streams. An order id already stored is skipped, so running it again, or \
            again after a kill, gives the same state. On a partitioned deployment (one Redis or \
            a cluster) each customer's orders go to the customer's partition. It holds every \
            partition's lease while it runs: it refuses to run while a worker does, unless \
            --wait. CSV (a header line; consecutive rows of one order id are one order) or JSON \
            lines; gzip or plain.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The order file (.gz or plain).")
    var file: String

    @Option(help: Settings.help("csv, or jsonl (one stream:order:placed entry's fields per line, as a JSON object, plus status; ts required).",
                                "format", default: "csv"))
    var format: String?

    @OptionGroup var orderFile: OrderFileOptions

    @Option(help: Settings.help("Where rejected rows go: line number and reason, one per line.", "rejects", default: "<file>.rejects"))
    var rejects: String?

    @Flag(inversion: .prefixedNo, help: Settings.help("Wait for running workers to release the partitions' leases instead of refusing to run.",
                                                      "wait", default: "off"))
    var wait: Bool?

    @Option(help: Settings.help("""
        Partitions of the deployment, as the workers' --partitions (stored in Redis when none is \
        yet, so that the import can come before the first worker).
        """, "partitions", default: "the stored count, else 1"))
    var partitions: Int?

    @Option(help: Settings.help("Consumer group whose leases the import holds.", "group", default: "dupwatch"))
    var group: String?

    @Option(help: Settings.help("How many of the last stored orders are kept in the last-N list (as the worker's).", "history-depth", default: "5"))
    var historyDepth: Int?

    @Option(help: Settings.help("How long full order history is kept (as the worker's; 0 = forever).", "order-retention", default: "400d"))
    var orderRetention: Duration?

    @Option(help: Settings.help("The leases' time to live while the import holds them (at least 1s).", "lease-ttl", default: "10s"))
    var leaseTTL: Duration?

    @Option(help: Settings.help("Orders read before they are written, one commit per partition they fall in (1-100000).", "batch", default: "1000"))
    var batch: Int?

    struct Resolved {
        var format: OrderFileFormat
        var preset: OrderFilePreset?
        var columns: OrderColumns
        var rejects: String
        var partitions: Int?
        var options: ImportOptions
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let (preset, columns) = try orderFile.resolved(&settings)
        guard let format = OrderFileFormat(rawValue: try settings.value(self.format, "format", default: "csv")) else {
            throw settings.invalid("format", "must be csv or jsonl")
        }
        if preset != nil, format != .csv { throw settings.invalid("format", "must be csv with --preset") }
        let depth = try settings.value(historyDepth, "history-depth", default: 5)
        guard (1...1000).contains(depth) else { throw settings.invalid("history-depth", "must be 1...1000") }
        let ttl = try settings.value(leaseTTL, "lease-ttl", default: .seconds(10))
        guard ttl >= .seconds(1) else { throw settings.invalid("lease-ttl", "must be at least 1s") }
        let partitions = try settings.value(self.partitions, "partitions")
        if let partitions, (try? Partitioning(count: partitions)) == nil {
            throw settings.invalid("partitions", "must be a power of two, 1 to \(Partitioning.maxCount)")
        }
        let batch = try settings.value(self.batch, "batch", default: 1000)
        guard (1...100_000).contains(batch) else { throw settings.invalid("batch", "must be 1...100000") }
        let options = ImportOptions(
            rules: RuleConfig(historyDepth: depth),
            limits: StoreLimits(orderRetention: try settings.value(orderRetention, "order-retention", default: .seconds(400 * 86_400))),
            group: try settings.value(group, "group", default: "dupwatch"),
            consumer: "import-" + ConsumerName.unique(),
            leaseTTL: ttl, batch: batch, wait: try settings.flag(wait, "wait"))
        return Resolved(format: format, preset: preset, columns: columns,
                        rejects: try settings.value(rejects, "rejects", default: file + ".rejects"), partitions: partitions,
                        options: options)
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() throws {
        let resolved = try resolved()
        try connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.import")
        let redis: RedisCluster
        let partitioning: Partitioning
        do {
            redis = try RedisCluster(seeds: RedisURL.list(parsing: connection.urlText))
            partitioning = try DeploymentPartitions.check(requested: resolved.partitions, on: redis, keys: resolved.options.keys)
        } catch let error as PartitioningError {
            throw CommandFailure(error.description)
        } catch let error as RedisError {
            throw CommandFailure("\(error)")
        } catch {
            throw ValidationError("\(error)")
        }

        let reader: OrderFileReader
        let rejects: RejectWriter
        do {
            reader = try OrderFileReader(input: ImportInput(path: file), format: resolved.format, preset: resolved.preset,
                                         columns: resolved.columns)
            rejects = try RejectWriter(path: resolved.rejects)
        } catch let error as OrderFileError {
            throw CommandFailure(error.description)
        } catch let error as ImportInput.Failure {
            throw CommandFailure(error.description)
        }
        let progress = ProgressLine(label: "import")
        do {
            let importer = try OrderImporter(redis: redis, partitioning: partitioning, options: resolved.options, rejects: rejects)
            try importer.acquireLeases { holder in
                logger.notice("waiting for \(holder) to release its leases (--wait)")
            }
            defer { importer.releaseLeases() }
            let into = partitioning.count > 1 ? ", \(partitioning.count) partitions on \(redis.topology.masters.count) master(s)" : ""
            logger.info("importing \(file) as \(resolved.options.consumer) (group \(resolved.options.group)\(into))")
            let summary = try importer.run(reader, progress: progress.show)
            progress.end()
            if summary.alreadyStored > 0 {
                logger.info("\(summary.alreadyStored) of the \(summary.orders) orders were stored already (skipped)")
            }
            if summary.rejected > 0 {
                logger.notice("\(summary.rejected) rows rejected: see \(rejects.path)")
            }
            print(summary.line)
        } catch let error as ImportError {
            progress.end()
            throw CommandFailure(error.description)
        } catch let error as ImportInput.Failure {
            progress.end()
            throw CommandFailure(error.description)
        } catch let error as RedisError {
            progress.end()
            throw CommandFailure("\(error); the batches committed before it are stored, run the import again to finish (it skips what is stored)")
        }
    }
}
