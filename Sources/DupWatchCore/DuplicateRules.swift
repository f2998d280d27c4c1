/// What applying one event did.
public enum Outcome: Sendable, Equatable {
    /// The event took effect; these alerts are to be published (possibly none).
    case applied([Alert])
    /// A re-sent `event_id` or `order_id`: no effect at all, no alert, not a dead letter.
    case duplicate
    /// Valid on its own but impossible against the state (a status update for an unknown order).
    case rejected(Rejection)
}

/// The rules R1 (cart), R2 (new order) and status updates, as a pure function of a
/// customer's state and one validated event. Event time only; never the wall clock.
///
/// Precondition (the loader's job): for every order id an event names, `state` holds that order
/// if the customer ever stored it, in `recentOrders` or `olderOrders`.
public struct DuplicateRules: Sendable {
    public let config: RuleConfig

    public init(config: RuleConfig = RuleConfig()) {
        self.config = config
    }

    public func apply(_ event: Event, to state: inout CustomerState) -> Outcome {
        switch event {
        case .cart(let cart): applyCart(cart, to: &state)
        case .order(let order): applyOrder(order, to: &state)
        case .status(let update): applyStatus(update, to: &state)
        }
    }

    // MARK: R1

    private func applyCart(_ event: CartEvent, to state: inout CustomerState) -> Outcome {
        if event.hasExplicitEventID, state.eventIDs[event.eventID] != nil {
            return .duplicate
        }
        var alerts: [Alert] = []
        if let sku = event.action.sku, !isQuiet(sku), looksUp(event, after: state.lastCartEventAt) {
            if case .add = event.action, let line = state.cart[sku] {
                alerts.append(Alert(
                    customerID: event.customerID, sku: sku,
                    title: event.title ?? line.title ?? state.knownTitle(of: sku),
                    trigger: .cart, triggerID: event.eventID, match: .cart(addedAt: line.addedAt),
                    quantity: line.quantity, repeatCount: repeatCount(of: sku, in: state)))
            }
            if let alert = orderMatch(for: sku, title: event.title, in: state, customerID: event.customerID,
                                      trigger: .cart, triggerID: event.eventID) {
                alerts.append(alert)
            }
        }
        updateCart(with: event, in: &state)
        if !alerts.isEmpty, let sku = event.action.sku {
            state.cart[sku]?.alerted = true
        }
        state.lastCartEventAt = max(state.lastCartEventAt ?? event.time, event.time)
        if event.hasExplicitEventID {
            remember(eventID: event.eventID, at: event.time, in: &state)
        }
        return .applied(alerts)
    }

    /// Only an `add`, or a `change` to a quantity above 0, after a pause strictly longer than
    /// the gap (or with no previous cart event) looks anything up. A late event never does.
    private func looksUp(_ event: CartEvent, after previous: Int64?) -> Bool {
        switch event.action {
        case .add: break
        case .change(_, let quantity) where quantity > 0: break
        default: return false
        }
        guard let previous else { return true }
        return event.time - previous > config.cartGap.inMilliseconds
    }

    private func updateCart(with event: CartEvent, in state: inout CustomerState) {
        switch event.action {
        case .clear:
            state.cart.removeAll()
        case .remove(let sku), .change(let sku, quantity: 0):
            state.cart[sku] = nil
        case .add(let sku, let units):
            if var line = state.cart[sku] {
                line.quantity += units
                if let title = event.title { line.title = title }
                state.cart[sku] = line
            } else {
                state.cart[sku] = CartLine(sku: sku, quantity: units, addedAt: event.time, title: event.title)
            }
        case .change(let sku, let quantity):
            if var line = state.cart[sku] {
                line.quantity = quantity
                if let title = event.title { line.title = title }
                state.cart[sku] = line
            } else {
                state.cart[sku] = CartLine(sku: sku, quantity: quantity, addedAt: event.time, title: event.title)
            }
        }
    }

    /// Keeps ids for `eventIDRetentionMs` of event time behind the newest one remembered.
    private func remember(eventID: String, at time: Int64, in state: inout CustomerState) {
        state.eventIDs[eventID] = time
        let newest = state.eventIDs.values.max() ?? time
        let horizon = newest - config.eventIDRetention.inMilliseconds
        if state.eventIDs.values.contains(where: { $0 < horizon }) {
            state.eventIDs = state.eventIDs.filter { $0.value >= horizon }
        }
    }

    // MARK: R2

    private func applyOrder(_ order: OrderPlaced, to state: inout CustomerState) -> Outcome {
        if state.hasStored(orderID: order.orderID) {
            return .duplicate
        }
        var alerts: [Alert] = []
        for line in order.lines where !isQuiet(line.sku) {
            if let alert = orderMatch(for: line.sku, title: line.title, in: state, customerID: order.customerID,
                                      trigger: .order, triggerID: order.orderID) {
                alerts.append(alert)
            }
        }
        let stored = StoredOrder(orderID: order.orderID, placedAt: order.time, status: order.status, lines: order.lines,
                                 flagged: !alerts.isEmpty)
        state.recentOrders.insert(stored, at: 0)
        while state.recentOrders.count > config.historyDepth {
            let pushedOut = state.recentOrders.removeLast()
            state.olderOrders[pushedOut.orderID] = pushedOut
        }
        // Checked out: these lines leave the active cart.
        for line in order.lines {
            state.cart[line.sku] = nil
        }
        return .applied(alerts)
    }

    /// The most recently stored order among the last N (cancelled and returned skipped) holding `sku`.
    private func orderMatch(for sku: String, title: String?, in state: CustomerState, customerID: String,
                            trigger: Alert.Kind, triggerID: String) -> Alert? {
        for order in state.recentOrders.prefix(config.historyDepth) where order.status.canMatch {
            guard let line = order.line(for: sku) else { continue }
            return Alert(
                customerID: customerID, sku: sku, title: title ?? line.title ?? state.knownTitle(of: sku),
                trigger: trigger, triggerID: triggerID,
                match: .order(orderID: order.orderID, placedAt: order.placedAt, status: order.status),
                quantity: line.quantity, repeatCount: repeatCount(of: sku, in: state))
        }
        return nil
    }

    // MARK: Noise controls

    /// A quiet SKU (`RuleConfig.quietSKUs`) never raises an alert; it is stored as any other.
    private func isQuiet(_ sku: String) -> Bool {
        !config.quietSKUs.isEmpty && config.quietSKUs.contains(sku)
    }

    /// With `RuleConfig.repeatCount`: how many of the last `historyDepth` stored orders hold
    /// `sku`, cancelled and returned ones not counted (they never match either). Called before
    /// a new order is stored, so the triggering order is not among them. Else nil.
    private func repeatCount(of sku: String, in state: CustomerState) -> Int? {
        guard config.repeatCount else { return nil }
        return state.recentOrders.prefix(config.historyDepth).reduce(0) { count, order in
            order.status.canMatch && order.line(for: sku) != nil ? count + 1 : count
        }
    }

    // MARK: Status

    private func applyStatus(_ update: StatusUpdate, to state: inout CustomerState) -> Outcome {
        if let index = state.recentOrders.firstIndex(where: { $0.orderID == update.orderID }) {
            state.recentOrders[index].status = update.status
            return .applied([])
        }
        if state.olderOrders[update.orderID] != nil {
            state.olderOrders[update.orderID]?.status = update.status
            return .applied([])
        }
        return .rejected(Rejection(
            "unknown_order",
            "order \(Quoted.string(update.orderID)) is not a stored order of customer \(Quoted.string(update.customerID))"))
    }
}
