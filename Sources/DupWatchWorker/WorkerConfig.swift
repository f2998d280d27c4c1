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
    /// How long one XREAD blocks when there is nothing to read (ms).
    public var blockMs: Int
    /// Process everything available, then return.
    public var drain: Bool
    /// An entry at the head of this many resumes without a commit goes to the dead-letter stream.
    public var maxDeliveries: Int
    /// The ownership lease's time to live (ms); renewed by every batch and every idle read.
    public var leaseTTLMs: Int64
    /// Customers whose state stays in memory while this worker owns the streams; 0 disables.
    public var cacheCapacity: Int
    /// Cap of the reconnect backoff (ms).
    public var maxBackoffMs: Int

    public init(redisURL: RedisURL, group: String = "dupwatch", consumer: String, rules: RuleConfig = RuleConfig(),
                limits: StoreLimits = StoreLimits(), keys: KeySchema = KeySchema(), batchSize: Int = 1000,
                blockMs: Int = 1000, drain: Bool = false, maxDeliveries: Int = 5,
                leaseTTLMs: Int64 = 10_000, cacheCapacity: Int = 0, maxBackoffMs: Int = 5_000) {
        self.redisURL = redisURL
        self.group = group
        self.consumer = consumer
        self.rules = rules
        self.limits = limits
        self.keys = keys
        self.batchSize = batchSize
        self.blockMs = blockMs
        self.drain = drain
        self.maxDeliveries = maxDeliveries
        self.leaseTTLMs = leaseTTLMs
        self.cacheCapacity = cacheCapacity
        self.maxBackoffMs = maxBackoffMs
    }
}
