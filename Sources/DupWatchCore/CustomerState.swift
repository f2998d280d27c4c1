/// Everything the rules need to know about one customer. The store loads it from Redis
/// (or keeps it cached while it owns the streams) and writes back the difference.
public struct CustomerState: Sendable, Equatable {
    /// Time of the last cart event that took effect (`p` in the rules); nil before the first one.
    public var lastCartEventAt: Int64?
    /// The active cart, by SKU.
    public var cart: [String: CartLine]
    /// The last `historyDepth` stored orders, newest first, whatever their status.
    public var recentOrders: [StoredOrder]
    /// Stored orders outside the last-N list that the loader fetched because a pending event
    /// names them (a status update or a re-sent order id), plus orders pushed out of the list
    /// during this batch. The rules treat an order as "stored" if it is here or in `recentOrders`.
    public var olderOrders: [String: StoredOrder]
    /// Producer event ids that took effect, with their event time, within the retention window.
    public var eventIDs: [String: Int64]

    public init(lastCartEventAt: Int64? = nil, cart: [String: CartLine] = [:], recentOrders: [StoredOrder] = [],
                olderOrders: [String: StoredOrder] = [:], eventIDs: [String: Int64] = [:]) {
        self.lastCartEventAt = lastCartEventAt
        self.cart = cart
        self.recentOrders = recentOrders
        self.olderOrders = olderOrders
        self.eventIDs = eventIDs
    }

    public static let empty = CustomerState()

    /// A title for `sku` from anything this state holds (the cart line, then the newest stored
    /// order naming it with a title), so that a message names the product even when the event
    /// and the matched order line do not.
    public func knownTitle(of sku: String) -> String? {
        if let title = cart[sku]?.title { return title }
        for order in recentOrders {
            if let title = order.line(for: sku)?.title { return title }
        }
        for order in olderOrders.values.sorted(by: { $0.placedAt > $1.placedAt }) {
            if let title = order.line(for: sku)?.title { return title }
        }
        return nil
    }

    /// Whether the customer ever stored `orderID`, as far as this state knows.
    public func hasStored(orderID: String) -> Bool {
        olderOrders[orderID] != nil || recentOrders.contains { $0.orderID == orderID }
    }
}

public struct CartLine: Sendable, Hashable {
    public var sku: String
    public var quantity: Int
    /// When the line was created (event time, ms); kept across later adds and changes.
    public var addedAt: Int64
    public var title: String?
    /// A cart event on this line raised an alert while it was in the cart (analytics: a line
    /// that then leaves the cart other than by checkout counts as "alert followed by removal").
    public var alerted: Bool

    public init(sku: String, quantity: Int, addedAt: Int64, title: String? = nil, alerted: Bool = false) {
        self.sku = sku
        self.quantity = quantity
        self.addedAt = addedAt
        self.title = title
        self.alerted = alerted
    }
}

public struct StoredOrder: Sendable, Hashable {
    public var orderID: String
    public var placedAt: Int64
    public var status: OrderStatus
    public var lines: [OrderLine]
    /// Placing this order raised at least one alert (analytics: a flagged order that is later
    /// cancelled counts as "cancellation of a flagged order").
    public var flagged: Bool

    public init(orderID: String, placedAt: Int64, status: OrderStatus, lines: [OrderLine], flagged: Bool = false) {
        self.orderID = orderID
        self.placedAt = placedAt
        self.status = status
        self.lines = lines
        self.flagged = flagged
    }

    public func line(for sku: String) -> OrderLine? {
        lines.first { $0.sku == sku }
    }
}
