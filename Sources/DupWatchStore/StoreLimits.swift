/// Bounds that keep Redis from growing without limit.
public struct StoreLimits: Sendable, Equatable {
    /// `XADD ... MAXLEN ~` for the alert stream.
    public var alertStreamMaxLength: Int
    /// `XADD ... MAXLEN ~` for the dead-letter stream.
    public var deadLetterMaxLength: Int
    /// Wall-clock TTL (ms) of a customer's order keys, refreshed by each new order; 0 keeps them forever.
    public var orderRetentionMs: Int64
    /// Wall-clock TTL (ms) of a customer's event id hash, refreshed on each write.
    public var eventIDTTLMs: Int64

    public init(alertStreamMaxLength: Int = 1_000_000, deadLetterMaxLength: Int = 100_000,
                orderRetentionMs: Int64 = 400 * 86_400_000, eventIDTTLMs: Int64 = 24 * 3_600_000) {
        self.alertStreamMaxLength = alertStreamMaxLength
        self.deadLetterMaxLength = deadLetterMaxLength
        self.orderRetentionMs = orderRetentionMs
        self.eventIDTTLMs = eventIDTTLMs
    }
}
