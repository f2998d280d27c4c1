public import DupWatchCore
public import DupWatchStore

/// What an import is told.
public struct ImportOptions: Sendable {
    public var keys: KeySchema
    public var rules: RuleConfig
    public var limits: StoreLimits
    public var group: String
    /// The importer's name as the lease's holder.
    public var consumer: String
    public var leaseTTL: Duration
    /// Orders and cancellations per state read and commit.
    public var batch: Int
    /// Wait for a worker's lease instead of refusing to run.
    public var wait: Bool

    public init(keys: KeySchema = KeySchema(), rules: RuleConfig = RuleConfig(), limits: StoreLimits = StoreLimits(),
                group: String = "dupwatch", consumer: String, leaseTTL: Duration = .seconds(10), batch: Int = 1000, wait: Bool = false) {
        self.keys = keys
        self.rules = rules
        self.limits = limits
        self.group = group
        self.consumer = consumer
        self.leaseTTL = leaseTTL
        self.batch = batch
        self.wait = wait
    }
}
