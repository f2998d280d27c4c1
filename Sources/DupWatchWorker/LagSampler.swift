package import DupWatchCore
package import DupWatchStore
package import Logging
package import RedisClient

/// Samples `dupwatch_consumer_lag`: `XINFO GROUPS` of each input stream of the partitions on
/// one connection, in one pipelined round trip, every few seconds and never inside a batch
/// (the single worker's reader thread, the partitioned worker's heartbeat). On Redis 7 the
/// group's `lag` is exact, because every commit moves the group with `ENTRIESREAD`.
///
/// A failed sample changes nothing else: it is logged at debug level and counted in
/// `dupwatch_redis_errors_total`; the gauges keep their last values.
package struct LagSampler: Sendable {
    let group: String
    let metrics: WorkerMetrics
    let status: WorkerStatus
    let logger: Logger

    package init(group: String, metrics: WorkerMetrics, status: WorkerStatus, logger: Logger) {
        self.group = group
        self.metrics = metrics
        self.status = status
        self.logger = logger
    }

    /// The single worker samples this often while it holds the lease.
    static let interval: Duration = .seconds(5)

    /// Samples `partitions`, whose keys are all served by `connection`. Never throws.
    package func sample(_ partitions: [(keys: KeySchema, gauges: PartitionGauges)], on connection: RedisConnection) {
        guard !partitions.isEmpty else { return }
        let streams = partitions.flatMap { $0.keys.inputStreams }
        let replies: [RedisReply]
        do {
            replies = try connection.pipeline(streams.map { RedisCommand("XINFO", "GROUPS", $0) })
        } catch {
            logger.debug("sampling the consumer lag failed: \(error)")
            metrics.redisErrors.increment()
            status.redisFailed("\(error)")
            return
        }
        status.redisAnswered()
        var problems: [String] = []
        let perPartition = EventSource.allCases.count
        for (index, partition) in partitions.enumerated() {
            let start = index * perPartition
            let infos = Array(zip(EventSource.allCases, replies[start..<(start + perPartition)]))
            let (lags, errors) = Self.lags(group: group, infos: infos)
            partition.gauges.record(lags: lags)
            problems += errors.map { "\(partition.keys.stream(for: $0.source)): \($0.message)" }
        }
        if !problems.isEmpty {
            logger.debug("sampling the consumer lag failed for \(problems.joined(separator: "; "))")
            metrics.redisErrors.increment()
        }
    }

    /// The group's lag in each input stream, from `XINFO GROUPS` replies (as `dupwatch status`
    /// reads them). A stream is left out when its reply is an error (`errors`), when it has no
    /// group of that name, or when Redis cannot tell the lag (a null `lag`: entries were
    /// deleted inside the range the group has not read).
    package static func lags(group: String, infos: [(EventSource, RedisReply)]) -> (lags: [EventSource: Int64], errors: [(source: EventSource, message: String)]) {
        var lags: [EventSource: Int64] = [:]
        var errors: [(source: EventSource, message: String)] = []
        for (source, reply) in infos {
            if case .error(let message) = reply {
                errors.append((source, message))
                continue
            }
            guard case .array(let rows) = reply else {
                errors.append((source, "XINFO GROUPS gave \(reply)"))
                continue
            }
            for row in rows {
                guard let fields = try? row.fieldMap, fields["name"].flatMap({ try? $0.string }) == group else { continue }
                if let lag = fields["lag"].flatMap({ try? $0.int }) { lags[source] = lag }
            }
        }
        return (lags, errors)
    }
}
