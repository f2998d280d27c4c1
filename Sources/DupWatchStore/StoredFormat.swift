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

/// The fields of an order hash: `ts` (epoch ms), `status`, `items`.
///
/// `items` holds one line per order line, `sku<TAB>qty` or `sku<TAB>qty<TAB>title`, lines
/// separated by newlines (ids never contain control characters; a title's backslash, tab,
/// newline and carriage return are escaped as `\\`, `\t`, `\n`, `\r`). The order id and customer id
/// are in the key and the date is `ts`. Against the producers' JSON and the repeated ids, this
/// takes a 3-line order hash from 296 to about 150 bytes (docs/DESIGN.md, data model); a JSON
/// `items` (as stored before) is still read.
public enum StoredOrderFormat {
    public static func fields(of order: StoredOrder) -> [(String, String)] {
        [
            ("ts", String(order.placedAt)),
            ("status", order.status.rawValue),
            ("items", itemsText(order.lines)),
        ]
    }

    public static func itemsText(_ lines: [OrderLine]) -> String {
        var out = ""
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "\n" }
            out += line.sku
            out += "\t"
            out += String(line.quantity)
            if let title = line.title {
                out += "\t"
                out += escape(title)
            }
        }
        return out
    }

    /// Nil unless every line is `sku<TAB>qty[<TAB>title]` with a valid sku and quantity.
    public static func decodeItems(_ text: String) -> [OrderLine]? {
        if text.hasPrefix("[") {
            guard case .success(let lines) = OrderItems.parse(Array(text.utf8)) else { return nil }
            return lines
        }
        var lines: [OrderLine] = []
        for row in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = row.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, !parts[0].isEmpty, !parts[0].utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }),
                  parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let quantity = Int(parts[1]),
                  (1...1_000_000).contains(quantity) else { return nil }
            let title = parts.count == 3 ? unescape(parts[2]) : nil
            if parts.count == 3, title == nil { return nil }
            lines.append(OrderLine(sku: String(parts[0]), quantity: quantity, title: title))
        }
        return lines
    }

    private static func escape(_ title: String) -> String {
        guard title.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return title }
        var out = ""
        for scalar in title.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func unescape(_ text: Substring) -> String? {
        guard text.contains("\\") else { return String(text) }
        var out = ""
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                switch scalar {
                case "\\": out += "\\"
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                default: return nil
                }
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return escaped ? nil : out
    }

    /// Nil when the hash is not a complete order (corrupt state).
    public static func decode(orderID: String, _ fields: [String: String]) -> StoredOrder? {
        guard let ts = fields["ts"].flatMap({ Int64($0) }),
              let status = fields["status"].flatMap({ OrderStatus(rawValue: $0) }),
              let lines = fields["items"].flatMap(decodeItems), !lines.isEmpty
        else { return nil }
        return StoredOrder(orderID: orderID, placedAt: ts, status: status, lines: lines)
    }
}
