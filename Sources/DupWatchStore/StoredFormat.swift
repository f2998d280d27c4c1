public import DupWatchCore

/// How cart lines are packed into the cart hash: `qty|added_at_ms|title`, with a leading `!`
/// when the line raised an alert (`CartLine.alerted`). The title goes last so it may contain
/// `|`. One field per line keeps the hash small (a listpack in Redis).
public enum CartLineFormat {
    public static let lastEventField = "_p"

    public static func encode(_ line: CartLine) -> String {
        "\(line.alerted ? "!" : "")\(line.quantity)|\(line.addedAt)|\(line.title ?? "")"
    }

    public static func decode(sku: String, _ value: String) -> CartLine? {
        var value = value
        return value.withUTF8 { decode(sku: sku, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The same from the bytes of a reply, without building the whole value as a String.
    public static func decode(sku: String, bytes: UnsafeRawBufferPointer) -> CartLine? {
        let alerted = bytes.first == UInt8(ascii: "!")
        let bytes = alerted ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
        guard let first = bytes.firstIndex(of: UInt8(ascii: "|")),
              let second = bytes[(first + 1)...].firstIndex(of: UInt8(ascii: "|")),
              let quantity = ASCIIDecimal.int64(UnsafeRawBufferPointer(rebasing: bytes[..<first])),
              let addedAt = ASCIIDecimal.int64(UnsafeRawBufferPointer(rebasing: bytes[(first + 1)..<second]))
        else { return nil }
        let title = bytes[(second + 1)...]
        return CartLine(sku: sku, quantity: Int(quantity), addedAt: addedAt,
                        title: title.isEmpty ? nil : String(decoding: title, as: UTF8.self), alerted: alerted)
    }
}

/// The fields of an order hash: `ts` (epoch ms), `status`, `items`, and `flagged` = `1` when
/// placing the order raised an alert (absent otherwise, as in hashes written before it existed).
///
/// `items` holds one line per order line, `sku<TAB>qty` or `sku<TAB>qty<TAB>title`, lines
/// separated by newlines (ids never contain control characters; a title's backslash, tab,
/// newline and carriage return are escaped as `\\`, `\t`, `\n`, `\r`). The order id and customer id
/// are in the key and the date is `ts`. Against the producers' JSON and the repeated ids, this
/// halves the size of an order hash (docs/DESIGN.md, data model).
public enum StoredOrderFormat {
    public static func fields(of order: StoredOrder) -> [(String, String)] {
        var fields = [
            ("ts", String(order.placedAt)),
            ("status", order.status.rawValue),
            ("items", itemsText(order.lines)),
        ]
        if order.flagged { fields.append(("flagged", "1")) }
        return fields
    }

    public static func itemsText(_ lines: [OrderLine]) -> String {
        // Built as bytes and made a String once, rather than grown append by append: every
        // order an import or a worker stores goes through here.
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.sku.utf8.count + ($1.title?.utf8.count ?? 0) + 12 })
        for (index, line) in lines.enumerated() {
            if index > 0 { out.append(0x0A) }
            out.append(contentsOf: line.sku.utf8)
            out.append(0x09)
            // A quantity is at most 7 digits: a small string, no allocation.
            out.append(contentsOf: String(line.quantity).utf8)
            if let title = line.title {
                out.append(0x09)
                TitleEscaping.append(title, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil unless every line is `sku<TAB>qty[<TAB>title]` with a valid sku and quantity.
    public static func decodeItems(_ text: String) -> [OrderLine]? {
        var text = text
        return text.withUTF8 { decodeItems(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The same from the bytes of a reply.
    public static func decodeItems(bytes: UnsafeRawBufferPointer) -> [OrderLine]? {
        var lines: [OrderLine] = []
        var start = 0
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            guard let line = decodeLine(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else { return nil }
            lines.append(line)
            start = end + 1
        }
        return lines
    }

    private static func decodeLine(_ row: UnsafeRawBufferPointer) -> OrderLine? {
        guard let skuEnd = row.firstIndex(of: 0x09), skuEnd > 0,
              !row[..<skuEnd].contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        let qtyEnd = row[(skuEnd + 1)...].firstIndex(of: 0x09) ?? row.count
        let qtyBytes = row[(skuEnd + 1)..<qtyEnd]
        guard !qtyBytes.isEmpty, qtyBytes.count <= 7, qtyBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let quantity = ASCIIDecimal.int64(UnsafeRawBufferPointer(rebasing: qtyBytes)),
              (1...1_000_000).contains(quantity) else { return nil }
        var title: String?
        if qtyEnd < row.count {
            guard let text = TitleEscaping.decode(UnsafeRawBufferPointer(rebasing: row[(qtyEnd + 1)...])) else { return nil }
            title = text
        }
        return OrderLine(sku: String(decoding: row[..<skuEnd], as: UTF8.self), quantity: Int(quantity), title: title)
    }

    /// Reads an order hash field by field, in whatever order the reply lists them: the one
    /// decoder for both the worker's state loader (reply bytes in place) and the read commands.
    public struct FieldReader {
        private var placedAt: Int64?
        private var status: OrderStatus?
        private var lines: [OrderLine]?
        private var flagged = false

        public init() {}

        /// Unknown fields are ignored.
        public mutating func read(field: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
            if field.elementsEqual("ts".utf8) {
                placedAt = ASCIIDecimal.int64(value)
            } else if field.elementsEqual("status".utf8) {
                status = OrderStatus(rawValue: String(decoding: value, as: UTF8.self))
            } else if field.elementsEqual("items".utf8) {
                lines = decodeItems(bytes: value)
            } else if field.elementsEqual("flagged".utf8) {
                flagged = value.elementsEqual("1".utf8)
            }
        }

        /// Nil when the hash is not a complete order (corrupt state).
        public func order(id orderID: String) -> StoredOrder? {
            guard let placedAt, let status, let lines, !lines.isEmpty else { return nil }
            return StoredOrder(orderID: orderID, placedAt: placedAt, status: status, lines: lines, flagged: flagged)
        }
    }

    /// Nil when the hash is not a complete order (corrupt state).
    public static func decode(orderID: String, _ fields: [String: String]) -> StoredOrder? {
        var reader = FieldReader()
        for (name, value) in fields {
            var name = name
            var value = value
            name.withUTF8 { field in
                value.withUTF8 { reader.read(field: UnsafeRawBufferPointer(field), value: UnsafeRawBufferPointer($0)) }
            }
        }
        return reader.order(id: orderID)
    }
}
