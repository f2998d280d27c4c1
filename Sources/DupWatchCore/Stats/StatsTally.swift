/// What one batch adds to the analytics: counts per event-time hour and the alerted SKUs per
/// day, folded from each event's outcome. Pure, so the worker can commit it with the batch's
/// effects (exactly once) and tests can check it without Redis. Day figures are the sums of
/// their hours.
public struct StatsTally: Sendable, Equatable {
    /// Counts by hour number (`StatsPeriod.hour`).
    public private(set) var hours: [Int64: StatsCounts] = [:]
    /// Alerts by SKU, by day number.
    public private(set) var skus: [Int64: [String: Int64]] = [:]

    public init() {}

    public var isEmpty: Bool { hours.isEmpty && skus.isEmpty }

    public mutating func add(_ counter: StatsCounter, at time: Int64, by amount: Int64 = 1) {
        hours[StatsPeriod.hour.number(of: time), default: StatsCounts()][counter] += amount
    }

    /// Folds one event: `before` and `after` are its customer's state around `DuplicateRules.apply`.
    public mutating func record(_ event: Event, outcome: Outcome, before: CustomerState, after: CustomerState) {
        guard case .applied(let alerts) = outcome else { return }
        let time = event.time
        for alert in alerts {
            skus[StatsPeriod.day.number(of: time), default: [:]][alert.sku, default: 0] += 1
        }
        // One lookup, then in place: this runs for every event of every batch.
        Self.count(event, alerts: alerts, before: before, after: after,
                   into: &hours[StatsPeriod.hour.number(of: time), default: StatsCounts()])
    }

    private static func count(_ event: Event, alerts: [Alert], before: CustomerState, after: CustomerState,
                              into counts: inout StatsCounts) {
        counts[.events] += 1
        // By index: Swift 6.3's optimizer crashes (an ownership check in CopyPropagation) on a
        // for-in over the alerts that switches on each one's match here.
        for index in alerts.indices {
            let counter = StatsCounter.alerts(trigger: alerts[index].trigger, match: alerts[index].match.kind)
            counts[counter] += 1
        }
        switch event {
        case .cart(let cart):
            if !alerts.isEmpty { counts[.cartFlagged] += 1 }
            counts[.cartFlaggedRemoved] += alertedLinesRemoved(by: cart.action, before: before, after: after)
        case .order:
            counts[.ordersPlaced] += 1
            if !alerts.isEmpty { counts[.ordersFlagged] += 1 }
        case .status(let update):
            guard update.status == .cancelled, let order = order(update.orderID, in: before),
                  order.status != .cancelled else { break }
            counts[.ordersCancelled] += 1
            if order.flagged { counts[.cancelledFlagged] += 1 }
        }
    }

    private static func alertedLinesRemoved(by action: CartAction, before: CustomerState, after: CustomerState) -> Int64 {
        switch action {
        case .remove(let sku), .change(let sku, quantity: 0):
            before.cart[sku]?.alerted == true && after.cart[sku] == nil ? 1 : 0
        case .clear:
            Int64(before.cart.values.count { $0.alerted })
        case .add, .change:
            0
        }
    }

    private static func order(_ id: String, in state: CustomerState) -> StoredOrder? {
        state.recentOrders.first { $0.orderID == id } ?? state.olderOrders[id]
    }
}

extension Event {
    /// Event time, epoch ms.
    public var time: Int64 {
        switch self {
        case .cart(let e): e.time
        case .order(let e): e.time
        case .status(let e): e.time
        }
    }
}
