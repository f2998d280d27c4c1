import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchHTTP
import DupWatchStore
import DupWatchWorker
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume the cart and order streams and publish duplicate alerts.")

    @OptionGroup var connection: ConnectionOptions

    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("Consumer group name.", "group", default: "dupwatch"))
    var group: String?

    @Option(help: Settings.help("""
        Consumer name within the group: a static identity, for a worker restarted under the same \
        name to take its lease back at once; never give two live workers one name.
        """, "consumer", default: "<host>-<pid>-<random>, unique per start"))
    var consumer: String?

    @Option(help: Settings.help("A cart event looks items up only after a pause longer than this (4h, 90m, 30s, 1500ms, 2d).",
                                "cart-gap", default: "4h"))
    var cartGap: Duration?

    @Option(help: Settings.help("How many of the last stored orders are checked (1-1000).", "history-depth", default: "5"))
    var historyDepth: Int?

    @Option(help: Settings.help("How long producer event_ids are remembered (event time).", "event-id-retention", default: "1d"))
    var eventIdRetention: Duration?

    @OptionGroup var noise: NoiseOptions

    @Option(help: Settings.help("Entries read per stream per batch (1-100000).", "batch", default: "1000"))
    var batch: Int?

    @Flag(inversion: .prefixedNo, help: Settings.help("Process everything available, then exit 0.", "drain", default: "off"))
    var drain: Bool?

    @Option(help: Settings.help("Dead-letter the next entry once workers resumed at it this many times without committing anything (it keeps crashing them).",
                                "max-deliveries", default: "5"))
    var maxDeliveries: Int?

    // Off by default: it has not paid for its bookkeeping in any drain measured
    // (docs/PERFORMANCE.md).
    @Option(help: Settings.help("Customers kept in memory while this worker owns the streams (0 disables the cache).",
                                "cache-customers", default: "0"))
    var cacheCustomers: Int?

    @Option(help: Settings.help("How long full order history is kept (wall clock, refreshed by each new order; 0 = forever).",
                                "order-retention", default: "400d"))
    var orderRetention: Duration?

    @Option(help: Settings.help("""
        Partitions of the deployment (a power of two, 1 to 1024; fixed when it is created and \
        stored in Redis). With more than 1, workers share the partitions, and producers write \
        through `dupwatch route` or to the partition streams.
        """, "partitions", default: "the stored count, else 1"))
    var partitions: Int?

    @Option(help: Settings.help("The ownership lease's time to live: a successor takes over this long after a worker dies (at least 1s).",
                                "lease-ttl", default: "10s"))
    var leaseTTL: Duration?

    @Option(help: Settings.help("Approximate cap of the alert stream (XADD MAXLEN ~).", "alerts-maxlen", default: "1000000"))
    var alertsMaxlen: Int?

    @Option(help: Settings.help("Approximate cap of the dead-letter stream (XADD MAXLEN ~).", "deadletter-maxlen", default: "100000"))
    var deadletterMaxlen: Int?

    @Flag(inversion: .prefixedNo, help: Settings.help(
        "Keep the analytics (per-hour and per-day figures, top duplicated SKUs) in the commits; see `dupwatch report`.",
        "stats", default: "on"))
    var stats: Bool?

    @Option(help: Settings.help("How long each hour of analytics is kept (wall clock, refreshed by each write; 0 = forever).",
                                "stats-retention", default: "90d"))
    var statsRetention: Duration?

    @Option(help: Settings.help("Serve /metrics (Prometheus), /healthz and /readyz on this port.", "metrics-port", default: "off"))
    var metricsPort: Int?

    @Option(help: Settings.help("Address the --metrics-port server listens on.", "metrics-host", default: "127.0.0.1"))
    var metricsHost: String?

    /// The options resolved (command line, DUPWATCH_* variable, default) and checked.
    struct Resolved {
        var metricsPort: Int?
        var metricsHost: String
        var group: String
        var consumer: String?
        var rules: RuleConfig
        var eventIdRetention: Duration
        var batch: Int
        var drain: Bool
        var maxDeliveries: Int
        var cacheCustomers: Int
        var orderRetention: Duration
        var partitions: Int?
        var leaseTTL: Duration
        var alertsMaxlen: Int
        var deadletterMaxlen: Int
        var stats: StatsSettings?
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let eventIdRetention = try settings.value(self.eventIdRetention, "event-id-retention", default: .seconds(24 * 3600))
        var options = Resolved(
            metricsPort: try settings.value(metricsPort, "metrics-port"),
            metricsHost: try settings.value(metricsHost, "metrics-host", default: "127.0.0.1"),
            group: try settings.value(group, "group", default: "dupwatch"),
            consumer: try settings.value(consumer, "consumer"),
            rules: RuleConfig(cartGap: try settings.value(cartGap, "cart-gap", default: .seconds(4 * 3600)),
                              historyDepth: try settings.value(historyDepth, "history-depth", default: 5),
                              eventIDRetention: eventIdRetention),
            eventIdRetention: eventIdRetention,
            batch: try settings.value(batch, "batch", default: 1000),
            drain: try settings.flag(drain, "drain"),
            maxDeliveries: try settings.value(maxDeliveries, "max-deliveries", default: 5),
            cacheCustomers: try settings.value(cacheCustomers, "cache-customers", default: 0),
            orderRetention: try settings.value(orderRetention, "order-retention", default: .seconds(400 * 86_400)),
            partitions: try settings.value(partitions, "partitions"),
            leaseTTL: try settings.value(leaseTTL, "lease-ttl", default: .seconds(10)),
            alertsMaxlen: try settings.value(alertsMaxlen, "alerts-maxlen", default: 1_000_000),
            deadletterMaxlen: try settings.value(deadletterMaxlen, "deadletter-maxlen", default: 100_000))
        let statsRetention = try settings.value(self.statsRetention, "stats-retention", default: StatsSettings.defaultRetention)
        options.stats = try settings.flag(stats, "stats", default: true) ? StatsSettings(retention: statsRetention) : nil
        try noise.apply(to: &options.rules, &settings)
        guard options.leaseTTL >= .seconds(1) else { throw settings.invalid("lease-ttl", "must be at least 1s") }
        guard (1...1000).contains(options.rules.historyDepth) else { throw settings.invalid("history-depth", "must be 1...1000") }
        guard (1...100_000).contains(options.batch) else { throw settings.invalid("batch", "must be 1...100000") }
        guard options.maxDeliveries >= 1 else { throw settings.invalid("max-deliveries", "must be at least 1") }
        if let port = options.metricsPort, !(0...65535).contains(port) { throw settings.invalid("metrics-port", "must be 0...65535") }
        return options
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() async throws {
        let options = try resolved()
        try connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.worker")
        let drain = options.drain
        let config = WorkerConfig(
            redisURL: try RedisURL.list(parsing: connection.urlText)[0],
            group: options.group,
            consumer: options.consumer ?? ConsumerName.unique(),
            rules: options.rules,
            limits: StoreLimits(alertStreamMaxLength: options.alertsMaxlen, deadLetterMaxLength: options.deadletterMaxlen,
                                orderRetention: options.orderRetention, eventIDTTL: max(options.eventIdRetention, .seconds(3600))),
            batchSize: options.batch,
            drain: drain,
            maxDeliveries: options.maxDeliveries,
            leaseTTL: options.leaseTTL,
            cacheCapacity: options.cacheCustomers,
            stats: options.stats)
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        let partitioning: Partitioning
        do {
            partitioning = try DeploymentPartitions.check(requested: options.partitions, seeds: seeds, keys: config.keys)
        } catch let error as PartitioningError {
            throw CommandFailure(error.description)
        } catch let error as RedisError where (error.kind == .connection || error.kind == .timeout) && (options.partitions ?? 1) == 1 {
            // A single-partition worker waits for Redis as it always did (reconnecting with
            // backoff); the stored count is checked by the next start that reaches Redis.
            logger.notice("Redis does not answer yet, so the deployment's partition count is not checked; starting as a single partition")
            partitioning = try Partitioning(count: 1)
        } catch let error as RedisError {
            throw CommandFailure("\(error)")
        }
        let noise = (config.rules.quietSKUs.isEmpty ? "" : ", \(config.rules.quietSKUs.count) quiet SKUs")
            + (config.rules.repeatCount ? ", repeat_count on" : "")
        logger.info("dupwatch worker \(config.consumer) starting: group \(config.group), redis \(config.redisURL)\(drain ? ", drain mode" : "")\(partitioning.count > 1 ? ", \(partitioning.count) partitions" : "")\(noise)")
        let status = WorkerStatus()
        var services: [any Service] = []
        if let port = options.metricsPort {
            // Before the worker builds its metrics, on its own thread.
            let registry = PrometheusBackend.bootstrap()
            services.append(OperationsRoutes.application(
                host: options.metricsHost, port: port, registry: registry,
                readiness: {
                    let answer = status.readiness()
                    return Readiness(isReady: answer.ready, checks: answer.checks)
                },
                logger: logger))
        }
        // Last, so that it stops first and the metrics server outlives its final commit.
        services.append(partitioning.count == 1
            ? BlockingService.worker(config: config, logger: logger, status: status)
            : BlockingService.partitionedWorker(config: config, seeds: seeds, partitioning: partitioning, logger: logger, status: status))
        try await runUntilStopped(services, what: "worker", logger: logger)
    }
}
