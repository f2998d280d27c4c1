/// How the worker keeps its analytics (`StatsTally`, `BatchCommit.writeStats`).
public struct StatsSettings: Sendable, Equatable {
    /// Wall-clock TTL of each hour bucket, refreshed by each write: memory stays
    /// bounded to about this many days of buckets. Zero keeps them forever.
    public var retention: Duration
    /// SKUs kept in a day's ranking (the highest counts); the reports show the top 100.
    /// Bounds a day's ranking when a shop has a long tail of SKUs; zero keeps them all.
    public var skusPerDay: Int

    public static let defaultRetention: Duration = .seconds(90 * 86_400)

    public init(retention: Duration = defaultRetention, skusPerDay: Int = 1_000) {
        self.retention = retention
        self.skusPerDay = skusPerDay
    }
}
