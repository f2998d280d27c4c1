public import DupWatchCore

/// How cart lines are packed into the cart hash: `qty|added_at_ms|title`. The title goes last
/// so it may contain `|`. One field per line keeps the hash small (a listpack in Redis).
public enum CartLineFormat {
    public static let lastEventField = "_p"

    public static func encode(_ line: CartLine) -> String {
        "\(line.quantity)|\(line.addedAt)|\(line.title ?? "")"
    }

    public static func decode(sku: String, _ value: String) -> CartLine? {
        let parts = value.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let quantity = Int(parts[0]), let addedAt = Int64(parts[1]) else { return nil }
        return CartLine(sku: sku, quantity: quantity, addedAt: addedAt, title: parts[2].isEmpty ? nil : String(parts[2]))
    }
}

/// The fields of an order hash. `items` is the same JSON shape producers send, so a person
/// reading it with `HGETALL` sees what was ordered.
public enum StoredOrderFormat {
    public static func fields(of order: StoredOrder, customerID: String) -> [(String, String)] {
        [
            ("order_id", order.orderID),
            ("customer_id", customerID),
            ("ts", String(order.placedAt)),
            ("order_date", EventTime.iso8601(milliseconds: order.placedAt)),
            ("status", order.status.rawValue),
            ("items", itemsJSON(order.lines)),
        ]
    }

    public static func itemsJSON(_ lines: [OrderLine]) -> String {
        var out = "["
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "," }
            out += "{\"sku\":\(JSONText.quote(line.sku)),\"qty\":\(line.quantity)"
            if let title = line.title { out += ",\"title\":\(JSONText.quote(title))" }
            out += "}"
        }
        return out + "]"
    }

    /// Nil when the hash is not a complete order (corrupt state).
    public static func decode(orderID: String, _ fields: [String: String]) -> StoredOrder? {
        guard let ts = fields["ts"].flatMap({ Int64($0) }),
              let status = fields["status"].flatMap({ OrderStatus(rawValue: $0) }),
              let items = fields["items"],
              case .success(let lines) = OrderItems.parse(Array(items.utf8))
        else { return nil }
        return StoredOrder(orderID: orderID, placedAt: ts, status: status, lines: lines)
    }
}
