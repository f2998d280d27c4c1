/// Bounds that keep Redis from growing without limit.
public struct StoreLimits: Sendable, Equatable {
    /// `XADD ... MAXLEN ~` for the alert stream.
    public var alertStreamMaxLength: Int
    /// `XADD ... MAXLEN ~` for the dead-letter stream.
    public var deadLetterMaxLength: Int
    /// Wall-clock TTL of a customer's order keys, refreshed by each new order; zero keeps them forever.
    public var orderRetention: Duration
    /// Wall-clock TTL of a customer's event id hash, refreshed on each write.
    public var eventIDTTL: Duration
    /// Alerts kept per customer in the per-customer index (`KeySchema.alertIndex`).
    public var alertIndexLength: Int
    /// Wall-clock TTL of the per-customer alert index, refreshed by each alert; zero keeps it.
    public var alertIndexRetention: Duration

    public init(alertStreamMaxLength: Int = 1_000_000, deadLetterMaxLength: Int = 100_000,
                orderRetention: Duration = .seconds(400 * 86_400), eventIDTTL: Duration = .seconds(24 * 3600),
                alertIndexLength: Int = 50, alertIndexRetention: Duration = .seconds(30 * 86_400)) {
        self.alertIndexLength = alertIndexLength
        self.alertIndexRetention = alertIndexRetention
        self.alertStreamMaxLength = alertStreamMaxLength
        self.deadLetterMaxLength = deadLetterMaxLength
        self.orderRetention = orderRetention
        self.eventIDTTL = eventIDTTL
    }
}
