public import DupWatchCore

/// The analytics of a time range, summed over every partition: what `dupwatch report` prints
/// and `GET /v1/stats` answers (its JSON is `JSONText.encode(report)`).
public struct StatsReport: Sendable, Equatable, Encodable {
    /// One hour or day of the series.
    public struct Point: Sendable, Equatable, Encodable {
        /// `2026-12-07` or `2026-12-07T14` (UTC).
        public var start: String
        public var counts: StatsCounts

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: StatsKey.self)
            try container.encode(start, forKey: StatsKey("start"))
            try counts.encodeFields(into: &container)
        }
    }

    public struct RankedSKU: Sendable, Equatable, Encodable {
        public var sku: String
        public var alerts: Int64
    }

    /// Inclusive, epoch ms (the start of the first period).
    public var since: Int64
    /// Exclusive, epoch ms (the end of the last period).
    public var until: Int64
    public var period: StatsPeriod
    public var partitions: Int
    public var totals: StatsCounts
    /// Every period of the range, oldest first, zeros included (a chart's x axis).
    public var series: [Point]
    /// The most alerted SKUs of the days the range touches, most first (ties by SKU).
    public var topSKUs: [RankedSKU]

    public var alerts: Int64 {
        totals[.alertsCartCart] + totals[.alertsCartOrder] + totals[.alertsOrderOrder]
    }

    /// Of the orders cancelled in the range, the share that had been flagged at placement.
    public var flaggedShareOfCancelled: Double? {
        Ratio.of(totals[.cancelledFlagged], totals[.ordersCancelled])
    }

    /// Of the cart events that raised an alert, the share whose line then left the cart.
    public var removedShareOfCartFlagged: Double? {
        Ratio.of(totals[.cartFlaggedRemoved], totals[.cartFlagged])
    }

    /// Of the orders placed, the share flagged.
    public var flaggedShareOfOrders: Double? {
        Ratio.of(totals[.ordersFlagged], totals[.ordersPlaced])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: StatsKey.self)
        try container.encode(EventTime.iso8601(milliseconds: since), forKey: StatsKey("since"))
        try container.encode(EventTime.iso8601(milliseconds: until), forKey: StatsKey("until"))
        try container.encode(period.rawValue, forKey: StatsKey("period"))
        try container.encode(partitions, forKey: StatsKey("partitions"))
        var totals = container.nestedContainer(keyedBy: StatsKey.self, forKey: StatsKey("totals"))
        try totals.encode(alerts, forKey: StatsKey("alerts"))
        try self.totals.encodeFields(into: &totals)
        var shares = container.nestedContainer(keyedBy: StatsKey.self, forKey: StatsKey("shares"))
        try shares.encode(flaggedShareOfCancelled, forKey: StatsKey("flagged_of_cancelled"))
        try shares.encode(flaggedShareOfOrders, forKey: StatsKey("flagged_of_orders"))
        try shares.encode(removedShareOfCartFlagged, forKey: StatsKey("removed_of_cart_flagged"))
        try container.encode(series, forKey: StatsKey("series"))
        try container.encode(topSKUs, forKey: StatsKey("top_skus"))
    }
}

/// A JSON key spelled at run time (the counters' field names).
struct StatsKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension StatsCounts {
    /// Every counter by its field name, zeros included (a reader needs no defaults).
    func encodeFields(into container: inout KeyedEncodingContainer<StatsKey>) throws {
        for counter in StatsCounter.allCases {
            try container.encode(self[counter], forKey: StatsKey(counter.field))
        }
    }
}
