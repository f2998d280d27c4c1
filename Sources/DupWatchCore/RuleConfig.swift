/// The tunable numbers of the rules. Defaults are the client's.
public struct RuleConfig: Sendable, Equatable {
    /// R1 looks a cart item up only after a pause strictly longer than this (ms).
    public var cartGapMs: Int64
    /// How many of the most recently stored orders count as "the last orders".
    public var historyDepth: Int
    /// How long (event time, ms) a producer `event_id` is remembered for de-duplication.
    public var eventIDRetentionMs: Int64

    public init(cartGapMs: Int64 = 4 * 3_600_000, historyDepth: Int = 5, eventIDRetentionMs: Int64 = 24 * 3_600_000) {
        precondition(historyDepth >= 1, "historyDepth must be at least 1")
        self.cartGapMs = cartGapMs
        self.historyDepth = historyDepth
        self.eventIDRetentionMs = eventIDRetentionMs
    }
}
