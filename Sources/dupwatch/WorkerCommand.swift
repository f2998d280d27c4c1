import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import DupWatchWorker
import Foundation
import Logging
import RedisClient

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume the cart and order streams and publish duplicate alerts.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Consumer group name.")
    var group: String = "dupwatch"

    @Option(help: """
        Consumer name within the group: a static identity, for a worker restarted under the same \
        name to take its lease back at once; never give two live workers one name. \
        Default: <host>-<pid>-<random>, unique per start.
        """)
    var consumer: String?

    @Option(help: "A cart event looks items up only after a pause longer than this (4h, 90m, 30s, 1500ms, 2d).")
    var cartGap: Duration = .seconds(4 * 3600)

    @Option(help: "How many of the last stored orders are checked.")
    var historyDepth: Int = 5

    @Option(help: "How long producer event_ids are remembered (event time).")
    var eventIdRetention: Duration = .seconds(24 * 3600)

    @Option(help: "Entries read per stream per batch.")
    var batch: Int = 1000

    @Flag(help: "Process everything available, then exit 0.")
    var drain = false

    @Option(help: "Dead-letter the next entry once workers resumed at it this many times without committing anything (it keeps crashing them).")
    var maxDeliveries: Int = 5

    // Off by default: it has not paid for its bookkeeping in any drain measured
    // (docs/PERFORMANCE.md).
    @Option(help: "Customers kept in memory while this worker owns the streams (0, the default, disables the cache).")
    var cacheCustomers: Int = 0

    @Option(help: "How long full order history is kept (wall clock, refreshed by each new order; 0 = forever).")
    var orderRetention: Duration = .seconds(400 * 86_400)

    @Option(help: """
        Partitions of the deployment (a power of two, 1 to 1024; fixed when it is created and \
        stored in Redis). Default: the stored count, else 1. With more than 1, workers share the \
        partitions, and producers write through `dupwatch route` or to the partition streams.
        """)
    var partitions: Int?

    @Option(help: "The ownership lease's time to live: a successor takes over this long after a worker dies.")
    var leaseTTL: Duration = .seconds(10)

    @Option(help: "Approximate cap of the alert stream (XADD MAXLEN ~).")
    var alertsMaxlen: Int = 1_000_000

    @Option(help: "Approximate cap of the dead-letter stream (XADD MAXLEN ~).")
    var deadletterMaxlen: Int = 100_000

    func validate() throws {
        guard leaseTTL >= .seconds(1) else { throw ValidationError("--lease-ttl must be at least 1s") }
        guard (1...1000).contains(historyDepth) else { throw ValidationError("--history-depth must be 1...1000") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1...100000") }
        guard maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1") }
    }

    func run() async throws {
        connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.worker")
        let config = WorkerConfig(
            redisURL: try RedisURL.list(parsing: connection.urlText)[0],
            group: group,
            consumer: consumer ?? ConsumerName.unique(),
            rules: RuleConfig(cartGap: cartGap, historyDepth: historyDepth, eventIDRetention: eventIdRetention),
            limits: StoreLimits(alertStreamMaxLength: alertsMaxlen, deadLetterMaxLength: deadletterMaxlen,
                                orderRetention: orderRetention, eventIDTTL: max(eventIdRetention, .seconds(3600))),
            batchSize: batch,
            drain: drain,
            maxDeliveries: maxDeliveries,
            leaseTTL: leaseTTL,
            cacheCapacity: cacheCustomers)
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        let partitioning: Partitioning
        do {
            partitioning = try DeploymentPartitions.check(requested: partitions, seeds: seeds, keys: config.keys)
        } catch let error as PartitioningError {
            throw CommandFailure(error.description)
        } catch let error as RedisError where (error.kind == .connection || error.kind == .timeout) && (partitions ?? 1) == 1 {
            // A single-partition worker waits for Redis as it always did (reconnecting with
            // backoff); the stored count is checked by the next start that reaches Redis.
            logger.notice("Redis does not answer yet, so the deployment's partition count is not checked; starting as a single partition")
            partitioning = try Partitioning(count: 1)
        } catch let error as RedisError {
            throw CommandFailure("\(error)")
        }
        logger.info("dupwatch worker \(config.consumer) starting: group \(config.group), redis \(config.redisURL)\(drain ? ", drain mode" : "")\(partitioning.count > 1 ? ", \(partitioning.count) partitions" : "")")
        let service = partitioning.count == 1
            ? BlockingService.worker(config: config, logger: logger)
            : BlockingService.partitionedWorker(config: config, seeds: seeds, partitioning: partitioning, logger: logger)
        try await runUntilStopped(service, what: "worker", logger: logger)
    }
}
