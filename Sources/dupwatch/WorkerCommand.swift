import ArgumentParser
import DupWatchCore
import DupWatchStore
import DupWatchWorker
import Foundation
import Logging
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume the cart and order streams and publish duplicate alerts.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Consumer group name.")
    var group: String = "dupwatch"

    @Option(help: "Consumer name within the group (default: host-pid).")
    var consumer: String?

    @Option(help: "A cart event looks items up only after a pause longer than this (e.g. 4h, 90m, 14400000ms).")
    var cartGap: String = "4h"

    @Option(help: "How many of the last stored orders are checked.")
    var historyDepth: Int = 5

    @Option(help: "How long producer event_ids are remembered (event time).")
    var eventIdRetention: String = "24h"

    @Option(help: "Entries read per stream per batch.")
    var batch: Int = 1000

    @Flag(help: "Process everything available, then exit 0.")
    var drain = false

    @Option(help: "Dead-letter the next entry once workers resumed at it this many times without committing anything (it keeps crashing them).")
    var maxDeliveries: Int = 5

    // Off by default: measured twice, it never paid for its bookkeeping (1M drain, 100k
    // customers: 21.9k vs 29.9k events/s; with the reader thread, 300k drain: 66.9k vs 68.4k).
    @Option(help: "Customers kept in memory while this worker owns the streams (0, the default, disables the cache).")
    var cacheCustomers: Int = 0

    @Option(help: "How long full order history is kept (wall clock, refreshed by each new order; 0 = forever).")
    var orderRetention: String = "400d"

    @Option(help: "Approximate cap of the alert stream (XADD MAXLEN ~).")
    var alertsMaxlen: Int = 1_000_000

    @Option(help: "Approximate cap of the dead-letter stream (XADD MAXLEN ~).")
    var deadletterMaxlen: Int = 100_000

    func validate() throws {
        for (name, value) in [("--cart-gap", cartGap), ("--event-id-retention", eventIdRetention),
                              ("--order-retention", orderRetention)] where DurationText.milliseconds(value) == nil {
            throw ValidationError("\(name) \"\(value)\" is not a duration; use e.g. 4h, 90m, 30s or 1500ms")
        }
        guard (1...1000).contains(historyDepth) else { throw ValidationError("--history-depth must be 1...1000") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1...100000") }
        guard maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1") }
    }

    func run() async throws {
        connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.worker")
        let config = WorkerConfig(
            redisURL: try connection.url(),
            group: group,
            consumer: consumer ?? ConsumerName.default(),
            rules: RuleConfig(cartGapMs: DurationText.milliseconds(cartGap)!, historyDepth: historyDepth,
                              eventIDRetentionMs: DurationText.milliseconds(eventIdRetention)!),
            limits: StoreLimits(alertStreamMaxLength: alertsMaxlen, deadLetterMaxLength: deadletterMaxlen,
                                orderRetentionMs: DurationText.milliseconds(orderRetention)!,
                                eventIDTTLMs: max(DurationText.milliseconds(eventIdRetention)!, 3_600_000)),
            batchSize: batch,
            drain: drain,
            maxDeliveries: maxDeliveries,
            cacheCapacity: cacheCustomers)
        logger.info("dupwatch worker \(config.consumer) starting: group \(config.group), redis \(config.redisURL)\(drain ? ", drain mode" : "")")
        let service = WorkerService(config: config, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("worker failed: \(error)")
            throw ExitCode(1)
        }
    }
}
