public import DupWatchCore
public import DupWatchStore
public import RedisClient

/// Everything `dupwatch worker` can be told. Defaults are documented in the README.
public struct WorkerConfig: Sendable {
    public var redisURL: RedisURL
    public var group: String
    public var consumer: String
    public var rules: RuleConfig
    public var limits: StoreLimits
    public var keys: KeySchema
    /// Entries read per stream per XREAD.
    public var batchSize: Int
    /// How long one XREAD blocks when there is nothing to read.
    public var blockTime: Duration
    /// Process everything available, then return.
    public var drain: Bool
    /// An entry at the head of this many resumes without a commit goes to the dead-letter stream.
    public var maxDeliveries: Int
    /// The ownership lease's time to live; renewed by every batch and every idle read.
    public var leaseTTL: Duration
    /// Customers whose state stays in memory while this worker owns the streams; 0 disables.
    public var cacheCapacity: Int
    /// Cap of the reconnect backoff.
    public var maxBackoff: Duration
    /// The analytics kept with each commit; nil keeps none.
    public var stats: StatsSettings?

    public init(redisURL: RedisURL, group: String = "dupwatch", consumer: String, rules: RuleConfig = RuleConfig(),
                limits: StoreLimits = StoreLimits(), keys: KeySchema = KeySchema(), batchSize: Int = 1000,
                blockTime: Duration = .seconds(1), drain: Bool = false, maxDeliveries: Int = 5,
                leaseTTL: Duration = .seconds(10), cacheCapacity: Int = 0, maxBackoff: Duration = .seconds(5),
                stats: StatsSettings? = StatsSettings()) {
        self.redisURL = redisURL
        self.group = group
        self.consumer = consumer
        self.rules = rules
        self.limits = limits
        self.keys = keys
        self.batchSize = batchSize
        self.blockTime = blockTime
        self.drain = drain
        self.maxDeliveries = maxDeliveries
        self.leaseTTL = leaseTTL
        self.cacheCapacity = cacheCapacity
        self.maxBackoff = maxBackoff
        self.stats = stats
    }
}
