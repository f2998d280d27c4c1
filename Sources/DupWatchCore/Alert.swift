/// One duplicate found: what the website needs to ask "are you sure?".
public struct Alert: Sendable, Hashable {
    /// What raised the alert (`trigger`) or what it duplicates (`match`): a cart line or an order.
    public enum Kind: String, Sendable, Hashable {
        case cart, order
    }

    /// What the new item duplicates, with exactly the facts that kind of match has.
    public enum Match: Sendable, Hashable {
        /// A line of the active cart, created at `addedAt` (event time, ms).
        case cart(addedAt: Int64)
        /// A line of a recent order.
        case order(orderID: String, placedAt: Int64, status: OrderStatus)

        public var kind: Kind {
            switch self {
            case .cart: .cart
            case .order: .order
            }
        }
    }

    public var customerID: String
    public var sku: String
    public var title: String?
    public var trigger: Kind
    /// The cart event's id, or the new order's `order_id`.
    public var triggerID: String
    public var match: Match
    /// Units in the matched cart line (before the triggering add) or in the matched order.
    public var quantity: Int
    /// With `RuleConfig.repeatCount` only: in how many of the customer's last orders (the
    /// history depth; cancelled and returned ones not counted) the SKU is, the matched order
    /// included, the triggering order not. Not part of the alert's identity.
    public var repeatCount: Int?

    /// The stream fields written as JSON numbers in the alert index, on the live stream and in
    /// HTTP and CLI answers.
    public static let numericFields: Set<String> = ["quantity", "repeat_count"]

    public init(customerID: String, sku: String, title: String?, trigger: Kind, triggerID: String, match: Match,
                quantity: Int, repeatCount: Int? = nil) {
        self.customerID = customerID
        self.sku = sku
        self.title = title
        self.trigger = trigger
        self.triggerID = triggerID
        self.match = match
        self.quantity = quantity
        self.repeatCount = repeatCount
    }

    /// The matched order's id (order matches only).
    public var orderID: String? {
        if case .order(let id, _, _) = match { return id }
        return nil
    }

    /// Stable across re-processing: the same customer, trigger, SKU and match give the same id,
    /// so a consumer can de-duplicate. 128 bits of FNV-1a, hex.
    public var alertID: String {
        var bytes: [UInt8] = []
        for part in [customerID, trigger.rawValue, triggerID, sku, match.kind.rawValue] {
            bytes.append(contentsOf: part.utf8)
            bytes.append(0)
        }
        return Self.hex(Self.fnv1a(bytes, basis: 0xcbf2_9ce4_8422_2325))
            + Self.hex(Self.fnv1a(bytes, basis: 0x84222325_cbf29ce4))
    }

    /// One plain sentence a website can show as it is.
    public var message: String {
        let name = (title?.isEmpty == false ? title : nil) ?? sku
        switch match {
        case .order(let orderID, let placedAt, let status):
            return "You already ordered \(quantity) × \(name) on \(EventTime.isoDate(milliseconds: placedAt)) (order \(orderID), \(status.rawValue))."
        case .cart(let addedAt):
            return "You already have \(quantity) × \(name) in your cart since \(EventTime.isoDate(milliseconds: addedAt))."
        }
    }

    /// The stream entry fields, in a stable order. `detectedAt` is wall-clock ms. `repeat_count`
    /// only when `repeatCount` is set.
    public func fields(detectedAt: Int64) -> [(String, String)] {
        var out: [(String, String)] = [
            ("alert_id", alertID), ("customer_id", customerID), ("sku", sku),
        ]
        if let title, !title.isEmpty { out.append(("title", title)) }
        out += [
            ("trigger", trigger.rawValue), ("trigger_id", triggerID),
            ("match", match.kind.rawValue), ("quantity", String(quantity)),
        ]
        if let repeatCount { out.append(("repeat_count", String(repeatCount))) }
        switch match {
        case .order(let orderID, let placedAt, let status):
            out += [("order_id", orderID), ("order_date", EventTime.iso8601(milliseconds: placedAt)),
                    ("order_status", status.rawValue)]
        case .cart(let addedAt):
            out.append(("added_at", EventTime.iso8601(milliseconds: addedAt)))
        }
        out.append(("detected_at", EventTime.iso8601(milliseconds: detectedAt)))
        out.append(("message", message))
        return out
    }

    private static func fnv1a(_ bytes: [UInt8], basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
