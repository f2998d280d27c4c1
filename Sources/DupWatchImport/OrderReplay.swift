public import DupWatchCore

/// Replays an order file through the rules, as a worker would have seen it, to learn how the
/// alerts relate to later cancellations (`dupwatch evaluate`). No I/O: the caller feeds it the
/// items of an `OrderFileReader`, in file order, and asks for the report at the end.
///
/// Every customer has an in-memory `CustomerState` driven by `DuplicateRules` with the worker's
/// `RuleConfig`. An order is *flagged* when placing it raises at least one alert (a match on an
/// earlier order). A cancellation invoice cancels the order `Cancellation.target(in:)` picks
/// among all the customer's orders replayed so far (the rules keep the orders pushed off the
/// last-N list in `olderOrders`, so the state holds them all); that order counts as cancelled,
/// and the rules see its new status from then on, so later orders no longer match it.
///
/// The file is replayed in its own order, which must be time order for the rules to see what
/// they would have seen (the Online Retail file is). Items earlier than one before them are
/// counted in `outOfTimeOrder` rather than sorted: sorting would hold the whole file in memory.
/// Memory grows with the orders replayed (every order's lines stay, for cancellations to find),
/// not with the file's rows.
public struct OrderReplay {
    public let rules: DuplicateRules
    public private(set) var counts = ReplayCounts()
    private var customers: [String: ReplayedCustomer] = [:]
    private var latestTime: Int64?

    public init(rules: RuleConfig) {
        self.rules = DuplicateRules(config: rules)
    }

    public mutating func replay(_ item: ImportItem) {
        switch item {
        case .order(let order, let rows, _):
            counts.rows += rows
            noteTime(order.time)
            replay(order)
        case .cancellation(let cancellation, let rows, _):
            counts.rows += rows
            noteTime(cancellation.time)
            replay(cancellation)
        case .rejected(_, let rows, let reason):
            counts.rows += rows
            counts.rejectedRows += rows
            counts.rejectedRowsByCode[String(reason.prefix { $0 != ":" }), default: 0] += rows
        }
    }

    private mutating func noteTime(_ time: Int64) {
        if let latest = latestTime, time < latest { counts.outOfTimeOrder += 1 }
        latestTime = max(latestTime ?? time, time)
    }

    private mutating func replay(_ order: OrderPlaced) {
        switch rules.apply(.order(order), to: &customers[order.customerID, default: ReplayedCustomer()].state) {
        case .applied(let alerts):
            counts.orders += 1
            // The nearest match: an order that duplicates one placed an hour ago says more than
            // one that also duplicates an order of last month.
            let gaps = alerts.compactMap { alert -> Int64? in
                guard case .order(_, let placedAt, _) = alert.match else { return nil }
                return order.time - placedAt
            }
            customers[order.customerID]!.outcomes[order.orderID] = OrderOutcome(nearestMatchGap: gaps.min())
        case .duplicate:
            // A repeated order id (an invoice whose rows are split in the file): the worker
            // ignores a re-sent order id, and so does the replay.
            counts.repeatedOrderIDs += 1
        case .rejected:
            // The rules never reject an order; a status update is the only event they can.
            break
        }
    }

    private mutating func replay(_ cancellation: Cancellation) {
        counts.cancellationInvoices += 1
        guard let state = customers[cancellation.customerID]?.state, let target = cancellation.target(in: state) else {
            counts.unmatchedCancellations += 1
            return
        }
        let update = StatusUpdate(orderID: target.orderID, customerID: cancellation.customerID, status: .cancelled,
                                  time: cancellation.time)
        // Always applied: the target is one of the state's orders.
        _ = rules.apply(.status(update), to: &customers[cancellation.customerID]!.state)
        customers[cancellation.customerID]!.outcomes[target.orderID]?.cancelled = true
    }

    /// The figures of everything replayed so far.
    public func report() -> EvaluationReport {
        var tally = OutcomeTally()
        for customer in customers.values {
            for outcome in customer.outcomes.values { tally.add(outcome) }
        }
        var counts = self.counts
        counts.customers = customers.count
        return EvaluationReport(counts: counts, tally: tally, rules: rules.config)
    }
}

/// What the replay keeps per customer: the rules' state and what each of its orders came to.
struct ReplayedCustomer {
    var state = CustomerState()
    var outcomes: [String: OrderOutcome] = [:]
}

/// What one replayed order came to.
struct OrderOutcome: Equatable {
    /// How long (ms) after the nearest order it matched it was placed; nil when not flagged.
    var nearestMatchGap: Int64?
    /// A later cancellation invoice cancelled it.
    var cancelled = false
}
