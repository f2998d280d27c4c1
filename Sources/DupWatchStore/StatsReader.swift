public import DupWatchCore
public import RedisClient

/// Reads the analytics of a time range from every partition of a deployment (one pipeline per
/// partition) and sums them into a `StatsReport`: the hours of the range, summed into days when
/// the report is by day. Read-only.
public struct StatsReader: Sendable {
    /// Days the top-SKU list is merged from at most (a long range reads the last ones).
    public static let maxRankingDays = 90
    public static let topSKUCount = 100

    public let partitions: [KeySchema]
    /// The keys outside any partition (the feedback stream's counters).
    public let shared: KeySchema

    public init(partitions: [KeySchema], shared: KeySchema) {
        self.partitions = partitions
        self.shared = shared
    }

    /// Periods from the one holding `since` to the one holding `until - 1` ms.
    public func report(since: Int64, until: Int64, period: StatsPeriod,
                       connection: (KeySchema) throws -> RedisConnection,
                       sharedConnection: () throws -> RedisConnection) throws -> StatsReport {
        let first = period.number(of: since)
        let last = max(first, period.number(of: max(since, until - 1)))
        let numbers = Array(first...last)
        // The hours of those periods, and the series point each one adds to.
        let hours = Array(StatsPeriod.hour.number(of: period.start(of: first))...StatsPeriod.hour.number(of: period.start(of: last + 1) - 1))
        let point = hours.map { Int(period.number(of: StatsPeriod.hour.start(of: $0)) - first) }
        let firstDay = StatsPeriod.day.number(of: period.start(of: first))
        let lastDay = StatsPeriod.day.number(of: period.start(of: last + 1) - 1)
        let days = Array(max(firstDay, lastDay - Int64(Self.maxRankingDays) + 1)...lastDay)

        var series = numbers.map { StatsReport.Point(start: period.name(of: $0), counts: StatsCounts()) }
        var skuCounts: [String: Int64] = [:]
        for keys in partitions {
            let commands = hours.map { RedisCommand("HGETALL", keys.statsHour($0)) }
                + days.map { RedisCommand("ZRANGE", keys.statsSKUs(day: $0), "0", "-1", "WITHSCORES") }
            let replies = try connection(keys).pipeline(commands)
            for index in hours.indices {
                series[point[index]].counts.add(try Self.counts(replies[index]))
            }
            for reply in replies[hours.count...] {
                let flat = try reply.throwIfError().array
                for pair in stride(from: 0, to: flat.count - 1, by: 2) {
                    skuCounts[try flat[pair].string, default: 0] += Int64(Double(try flat[pair + 1].string) ?? 0)
                }
            }
        }
        let feedback = try sharedConnection().pipeline(hours.map { RedisCommand("HGETALL", shared.feedbackStatsHour($0)) })
        for index in hours.indices {
            series[point[index]].counts.add(try Self.counts(feedback[index]))
        }

        var totals = StatsCounts()
        for point in series { totals.add(point.counts) }
        let top = skuCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(Self.topSKUCount)
        return StatsReport(since: period.start(of: first), until: period.start(of: last + 1), period: period,
                           partitions: partitions.count, totals: totals, series: series,
                           topSKUs: top.map { StatsReport.RankedSKU(sku: $0.key, alerts: $0.value) })
    }

    /// A bucket hash's counters; unknown fields (a newer worker's) are skipped.
    static func counts(_ reply: RedisReply) throws -> StatsCounts {
        var counts = StatsCounts()
        for (field, value) in try reply.throwIfError().stringMap {
            guard let counter = StatsCounter(field: field), let amount = Int64(value) else { continue }
            counts[counter] += amount
        }
        return counts
    }
}

extension Deployment {
    /// The analytics of `since..<until` over every partition.
    public func stats(since: Int64, until: Int64, period: StatsPeriod) throws -> StatsReport {
        try StatsReader(partitions: partitions, shared: shared).report(
            since: since, until: until, period: period,
            connection: { try self.connection(for: $0) },
            sharedConnection: { try self.connection(forKey: self.shared.feedbackStream) })
    }
}
