/// The figures kept per hour and per day, each a field of a stats bucket hash
/// (`KeySchema.statsHour`). The raw value indexes `StatsCounts`.
public enum StatsCounter: Int, CaseIterable, Sendable, Hashable {
    /// Events that took effect (re-sent ids and dead letters not counted).
    case events
    case alertsCartCart
    case alertsCartOrder
    case alertsOrderOrder
    case ordersPlaced
    /// New orders whose placement raised at least one alert.
    case ordersFlagged
    /// Status updates that moved an order to `cancelled`.
    case ordersCancelled
    /// Of those, orders that had been flagged at placement.
    case cancelledFlagged
    /// Cart events that raised at least one alert.
    case cartFlagged
    /// Alerted cart lines that then left the cart by remove, change to 0 or clear (not by checkout).
    case cartFlaggedRemoved
    // What customers said about alerts (`stream:alerts:feedback`), counted by the server with
    // the feedback entry, in the feedback stream's own bucket.
    case feedbackKeptBoth
    case feedbackRemovedItem
    case feedbackCancelledOrder
    case feedbackDismissed

    /// The hash field and JSON name.
    public var field: String {
        switch self {
        case .events: "events"
        case .alertsCartCart: "alerts_cart_cart"
        case .alertsCartOrder: "alerts_cart_order"
        case .alertsOrderOrder: "alerts_order_order"
        case .ordersPlaced: "orders_placed"
        case .ordersFlagged: "orders_flagged"
        case .ordersCancelled: "orders_cancelled"
        case .cancelledFlagged: "cancelled_flagged"
        case .cartFlagged: "cart_flagged"
        case .cartFlaggedRemoved: "cart_flagged_removed"
        case .feedbackKeptBoth: "feedback_kept_both"
        case .feedbackRemovedItem: "feedback_removed_item"
        case .feedbackCancelledOrder: "feedback_cancelled_order"
        case .feedbackDismissed: "feedback_dismissed"
        }
    }

    private static let byField: [String: StatsCounter] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.field, $0) })

    public init?(field: String) {
        guard let counter = Self.byField[field] else { return nil }
        self = counter
    }

    /// The counter of an alert of this trigger and match.
    public static func alerts(trigger: Alert.Kind, match: Alert.Kind) -> StatsCounter {
        switch (trigger, match) {
        case (.cart, .cart): .alertsCartCart
        case (.cart, .order): .alertsCartOrder
        // An order never matches a cart line; counted with its only possible kind.
        case (.order, _): .alertsOrderOrder
        }
    }

    /// The counter of a feedback action (`kept_both`, `removed_item`, `cancelled_order`, `dismissed`).
    public static func feedback(action: String) -> StatsCounter? {
        switch action {
        case "kept_both": .feedbackKeptBoth
        case "removed_item": .feedbackRemovedItem
        case "cancelled_order": .feedbackCancelledOrder
        case "dismissed": .feedbackDismissed
        default: nil
        }
    }
}

/// One bucket's figures, indexed by counter.
public struct StatsCounts: Sendable, Equatable {
    public private(set) var values = [Int64](repeating: 0, count: StatsCounter.allCases.count)

    public init() {}

    public subscript(counter: StatsCounter) -> Int64 {
        get { values[counter.rawValue] }
        set { values[counter.rawValue] = newValue }
    }

    public var isZero: Bool { values.allSatisfy { $0 == 0 } }

    public mutating func add(_ other: StatsCounts) {
        for index in values.indices { values[index] += other.values[index] }
    }

    /// The non-zero counters, in counter order.
    public var nonZero: [(StatsCounter, Int64)] {
        StatsCounter.allCases.compactMap { values[$0.rawValue] == 0 ? nil : ($0, values[$0.rawValue]) }
    }
}
