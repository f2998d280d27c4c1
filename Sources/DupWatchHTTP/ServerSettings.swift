import DupWatchStore

/// What `dupwatch serve` is told, as values (the command line and the environment fill it in).
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 above).
    public var maxBodyBytes = 64 * 1024
    /// Most lines in one order or check (400 `too_many_items` above).
    public var maxItems = 100
    /// The shop's origin, allowed to call the API from its pages (CORS), e.g.
    /// `https://shop.example`; nil: no CORS headers (same origin only); `*`: any origin.
    public var corsOrigin: String?
    /// Pending TCP connections the listening socket queues.
    public var backlog = 4096
    /// How many of the customer's last orders the checks look at (as the worker's --history-depth).
    public var historyDepth = 5
    public var cartGap: Duration = .seconds(4 * 3600)
    /// As the worker's --quiet-skus: SKUs that checks never alert on.
    public var quietSKUs: Set<String> = []
    /// As the worker's --repeat-count: checks' alerts carry `repeat_count`.
    public var repeatCount = false
    public var live = AlertHub.Settings()
    /// How long each hour of feedback counts is kept (as the worker's --stats-retention).
    public var statsRetention = StatsSettings.defaultRetention

    public init() {}
}
