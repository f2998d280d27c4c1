import DupWatchCore

/// How alerts relate to later cancellations, for all flagged orders and for those whose nearest
/// match is close in time. Ratios with a zero denominator are nil (`n/a`, JSON `null`), never NaN.
public struct EvaluationFigures: Sendable, Equatable {
    /// Every replayed order (the same in every band).
    public var orders: Int
    /// Orders a later cancellation invoice cancelled (the same in every band).
    public var cancelled: Int
    /// Orders that raised at least one alert (in a band: whose nearest match is within it).
    public var flagged: Int
    /// Of those, the ones later cancelled.
    public var flaggedCancelled: Int

    public init(orders: Int, cancelled: Int, flagged: Int, flaggedCancelled: Int) {
        self.orders = orders
        self.cancelled = cancelled
        self.flagged = flagged
        self.flaggedCancelled = flaggedCancelled
    }

    /// How many flagged orders were later cancelled: flagged∧cancelled / flagged.
    public var precision: Double? { Ratio.of(flaggedCancelled, flagged) }
    /// How many cancelled orders had been flagged: flagged∧cancelled / cancelled.
    public var recall: Double? { Ratio.of(flaggedCancelled, cancelled) }
    /// How many orders are cancelled at all: cancelled / orders, the precision of flagging at random.
    public var baseRate: Double? { Ratio.of(cancelled, orders) }
    /// precision / base rate: how many times likelier a flagged order is to be cancelled than any order.
    public var lift: Double? {
        guard let precision, let baseRate, baseRate > 0 else { return nil }
        return precision / baseRate
    }
}

/// The figures of the flagged orders whose nearest match was placed at most `maxGapDays` before
/// them. Bands are cumulative: the 7-day band holds the 1-day band's orders.
public struct GapBand: Sendable, Equatable {
    public var maxGapDays: Int
    public var figures: EvaluationFigures

    public init(maxGapDays: Int, figures: EvaluationFigures) {
        self.maxGapDays = maxGapDays
        self.figures = figures
    }
}

/// What `dupwatch evaluate` reports.
public struct EvaluationReport: Sendable, Equatable {
    /// The bands of the issue: a day, a week, a month.
    public static let gapBandDays = [1, 7, 30]

    public var counts: ReplayCounts
    public var overall: EvaluationFigures
    public var byGap: [GapBand]
    /// The rules the replay used.
    public var historyDepth: Int
    public var quietSKUs: [String]

    init(counts: ReplayCounts, tally: OutcomeTally, rules: RuleConfig) {
        self.counts = counts
        func figures(flagged: Int, flaggedCancelled: Int) -> EvaluationFigures {
            EvaluationFigures(orders: tally.orders, cancelled: tally.cancelled, flagged: flagged, flaggedCancelled: flaggedCancelled)
        }
        overall = figures(flagged: tally.flagged, flaggedCancelled: tally.flaggedCancelled)
        byGap = Self.gapBandDays.map { days in
            let within = tally.nearestGaps.filter { $0.gap <= Int64(days) * 86_400_000 }
            return GapBand(maxGapDays: days, figures: figures(flagged: within.count, flaggedCancelled: within.count(where: \.cancelled)))
        }
        historyDepth = rules.historyDepth
        quietSKUs = rules.quietSKUs.sorted()
    }
}

/// The outcomes of all replayed orders, counted.
struct OutcomeTally {
    var orders = 0
    var cancelled = 0
    var flagged = 0
    var flaggedCancelled = 0
    /// Every flagged order's nearest-match gap (ms) and whether it was cancelled, for the bands.
    var nearestGaps: [(gap: Int64, cancelled: Bool)] = []

    mutating func add(_ outcome: OrderOutcome) {
        orders += 1
        if outcome.cancelled { cancelled += 1 }
        guard let gap = outcome.nearestMatchGap else { return }
        flagged += 1
        if outcome.cancelled { flaggedCancelled += 1 }
        nearestGaps.append((gap, outcome.cancelled))
    }
}
