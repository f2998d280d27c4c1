import DupWatchCore

/// The read model as JSON, the same for `dupwatch cart|history --json` and the HTTP API.
public struct CartView: Encodable, Sendable {
    public struct Line: Encodable, Sendable {
        public var sku: String
        public var quantity: Int
        public var added_at: String
        public var title: String?
    }

    public var customer_id: String
    public var last_cart_event_at: String?
    public var lines: [Line]

    public init(customer: String, cart: ReadModel.Cart) {
        customer_id = customer
        last_cart_event_at = cart.lastCartEventAt.map { EventTime.iso8601(milliseconds: $0) }
        lines = cart.lines.map {
            Line(sku: $0.sku, quantity: $0.quantity, added_at: EventTime.iso8601(milliseconds: $0.addedAt), title: $0.title)
        }
    }
}

/// One stored order, as `history` lists it.
public struct OrderView: Encodable, Sendable {
    public struct Item: Encodable, Sendable {
        public var sku: String
        public var qty: Int
        public var title: String?
    }

    public var order_id: String
    public var order_date: String
    public var status: String
    /// Among the last N orders that duplicate checks use.
    public var checked: Bool
    public var items: [Item]

    public init(_ entry: ReadModel.HistoryEntry) {
        order_id = entry.order.orderID
        order_date = EventTime.iso8601(milliseconds: entry.order.placedAt)
        status = entry.order.status.rawValue
        checked = entry.isRecent
        items = entry.order.lines.map { Item(sku: $0.sku, qty: $0.quantity, title: $0.title) }
    }
}
