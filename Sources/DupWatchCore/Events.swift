/// Order statuses of the contract. Raw values are the exact (case-sensitive) wire strings.
public enum OrderStatus: String, Sendable, CaseIterable, Hashable {
    case processing, shipped, delivered, cancelled, returned

    /// Cancelled and returned orders keep their slot in the last-N list but never match.
    public var canMatch: Bool { self != .cancelled && self != .returned }
}

/// One order line after validation. Lines of the same SKU are already summed.
public struct OrderLine: Sendable, Hashable {
    public var sku: String
    public var quantity: Int
    public var title: String?
    public init(sku: String, quantity: Int, title: String? = nil) {
        self.sku = sku
        self.quantity = quantity
        self.title = title
    }
}

/// What a cart event does, with the SKU exactly where one applies.
public enum CartAction: Sendable, Hashable {
    /// Units added (1...1_000_000).
    case add(sku: String, quantity: Int)
    /// The new quantity of the line (0...1_000_000); 0 removes the line.
    case change(sku: String, quantity: Int)
    case remove(sku: String)
    case clear

    /// The line this action is about; nil for `clear`.
    public var sku: String? {
        switch self {
        case .add(let sku, _), .change(let sku, _), .remove(let sku): sku
        case .clear: nil
        }
    }
}

public struct CartEvent: Sendable, Hashable {
    public var customerID: String
    /// The producer's idempotency key, else the stream entry id (as text).
    public var eventID: String
    /// True when the producer sent `event_id`; only those are remembered for de-duplication
    /// (a stream entry id is delivered once per group already; see docs/DESIGN.md).
    public var hasExplicitEventID: Bool
    public var action: CartAction
    /// The product's title as the producer sent it (never for `clear`).
    public var title: String?
    /// Event time, epoch milliseconds.
    public var time: Int64

    public init(customerID: String, eventID: String, hasExplicitEventID: Bool, action: CartAction,
                title: String? = nil, time: Int64) {
        self.customerID = customerID
        self.eventID = eventID
        self.hasExplicitEventID = hasExplicitEventID
        self.action = action
        self.title = action == .clear ? nil : title
        self.time = time
    }
}

public struct OrderPlaced: Sendable, Hashable {
    public var orderID: String
    public var customerID: String
    /// Distinct SKUs in order of first appearance, quantities summed.
    public var lines: [OrderLine]
    public var time: Int64
    public var status: OrderStatus

    public init(orderID: String, customerID: String, lines: [OrderLine], time: Int64, status: OrderStatus) {
        self.orderID = orderID
        self.customerID = customerID
        self.lines = lines
        self.time = time
        self.status = status
    }
}

public struct StatusUpdate: Sendable, Hashable {
    public var orderID: String
    public var customerID: String
    public var status: OrderStatus
    public var time: Int64

    public init(orderID: String, customerID: String, status: OrderStatus, time: Int64) {
        self.orderID = orderID
        self.customerID = customerID
        self.status = status
        self.time = time
    }
}

public enum Event: Sendable, Hashable {
    case cart(CartEvent)
    case order(OrderPlaced)
    case status(StatusUpdate)

    public var customerID: String {
        switch self {
        case .cart(let e): e.customerID
        case .order(let e): e.customerID
        case .status(let e): e.customerID
        }
    }
}
