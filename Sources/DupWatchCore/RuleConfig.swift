/// The tunable numbers of the rules. Defaults are the client's.
public struct RuleConfig: Sendable, Equatable {
    /// R1 looks a cart item up only after a pause strictly longer than this (event time).
    public var cartGap: Duration
    /// How many of the most recently stored orders count as "the last orders".
    public var historyDepth: Int
    /// How long (event time) a producer `event_id` is remembered for de-duplication.
    public var eventIDRetention: Duration
    /// SKUs that never raise an alert, neither as the new item nor as what it duplicates
    /// (postage, fees, carrier bags). They are stored in carts and orders as any other SKU.
    /// Exact, case-sensitive ids (`QuietSKUs` reads the options).
    public var quietSKUs: Set<String>
    /// Whether every alert carries `repeatCount`: in how many of the last `historyDepth` orders
    /// (cancelled and returned ones not counted) the SKU is. Off: alerts are as they always were.
    public var repeatCount: Bool

    public init(cartGap: Duration = .seconds(4 * 3600), historyDepth: Int = 5, eventIDRetention: Duration = .seconds(24 * 3600),
                quietSKUs: Set<String> = [], repeatCount: Bool = false) {
        precondition(historyDepth >= 1, "historyDepth must be at least 1")
        self.cartGap = cartGap
        self.historyDepth = historyDepth
        self.eventIDRetention = eventIDRetention
        self.quietSKUs = quietSKUs
        self.repeatCount = repeatCount
    }
}
