/// Turns a raw stream entry into a validated `Event`, or the first problem as a `Rejection`.
///
/// Validation order (the first problem is reported):
/// - any source: `empty_entry` when the entry has no fields at all;
/// - `cart`: type, customer_id, sku (not for clear), qty (add/change), ts, title (not for clear), event_id;
/// - `orderPlaced`: customer_id, order_id, items, status, ts;
/// - `orderStatus`: customer_id, order_id, status, ts.
///
/// Duplicate field names: the first one wins. Fields a type does not use are ignored entirely.
/// A present but empty field is `bad_<field>` (except `title`, where empty means no title).
public enum EventParser {
    public static func parse(_ entry: RawEntry) -> Result<Event, Rejection> {
        do {
            return .success(try parseEvent(entry))
        } catch {
            return .failure(error)
        }
    }

    static func parseEvent(_ entry: RawEntry) throws(Rejection) -> Event {
        if entry.fields.isEmpty { throw Rejection("empty_entry", "entry has no fields") }
        let slots = Slots(entry.fields)
        switch entry.source {
        case .cart: return .cart(try parseCart(entry, slots))
        case .orderPlaced: return .order(try parseOrderPlaced(entry, slots))
        case .orderStatus: return .status(try parseOrderStatus(entry, slots))
        }
    }

    // MARK: - Sources

    private static func parseCart(_ entry: RawEntry, _ s: Slots) throws(Rejection) -> CartEvent {
        let fields = entry.fields
        guard let typeBytes = s.value(.type, fields) else { throw missing(.type) }
        let type = try FieldValidation.cartType(typeBytes)
        let customerID = try requiredID(.customerID, fields, s, allowBraces: false)

        let action: CartAction
        switch type {
        case .add:
            let sku = try requiredID(.sku, fields, s, allowBraces: true)
            if let q = s.value(.qty, fields) {
                action = .add(sku: sku, quantity: try FieldValidation.quantity(q, in: 1...FieldValidation.maxQuantity))
            } else {
                action = .add(sku: sku, quantity: 1)
            }
        case .change:
            let sku = try requiredID(.sku, fields, s, allowBraces: true)
            guard let q = s.value(.qty, fields) else { throw missing(.qty) }
            action = .change(sku: sku, quantity: try FieldValidation.quantity(q, in: 0...FieldValidation.maxQuantity))
        case .remove:
            action = .remove(sku: try requiredID(.sku, fields, s, allowBraces: true))
        case .clear:
            action = .clear
        }

        let time = try eventTime(entry, s)

        var title: String? = nil
        if type != .clear, let t = s.value(.title, fields) {
            title = try FieldValidation.title(t)
        }

        let eventID: String
        let explicit: Bool
        if let e = s.value(.eventID, fields) {
            eventID = try FieldValidation.identifier(e, field: "event_id", code: "bad_event_id", allowBraces: true)
            explicit = true
        } else {
            eventID = entry.id.description
            explicit = false
        }

        return CartEvent(customerID: customerID, eventID: eventID, hasExplicitEventID: explicit,
                         action: action, title: title, time: time)
    }

    private static func parseOrderPlaced(_ entry: RawEntry, _ s: Slots) throws(Rejection) -> OrderPlaced {
        let fields = entry.fields
        let customerID = try requiredID(.customerID, fields, s, allowBraces: false)
        let orderID = try requiredID(.orderID, fields, s, allowBraces: true)
        guard let itemBytes = s.value(.items, fields) else { throw missing(.items) }
        let lines = try parseItems(itemBytes)
        var status = OrderStatus.processing
        if let st = s.value(.status, fields) {
            status = try FieldValidation.status(st)
        }
        let time = try eventTime(entry, s)
        return OrderPlaced(orderID: orderID, customerID: customerID, lines: lines, time: time, status: status)
    }

    private static func parseOrderStatus(_ entry: RawEntry, _ s: Slots) throws(Rejection) -> StatusUpdate {
        let fields = entry.fields
        let customerID = try requiredID(.customerID, fields, s, allowBraces: false)
        let orderID = try requiredID(.orderID, fields, s, allowBraces: true)
        guard let st = s.value(.status, fields) else { throw missing(.status) }
        let status = try FieldValidation.status(st)
        let time = try eventTime(entry, s)
        return StatusUpdate(orderID: orderID, customerID: customerID, status: status, time: time)
    }

    // MARK: - Items

    /// `items`: a JSON array of 1...500 objects `{"sku": id, "qty": 1...1_000_000, "title"?: string|null}`.
    /// Lines of the same SKU are summed (the sum must stay <= 1_000_000) in order of first
    /// appearance; the first non-empty title of a SKU wins. Unknown keys are ignored; a key that
    /// appears twice in one line is rejected (JSON readers disagree on which one counts).
    static func parseItems(_ bytes: [UInt8]) throws(Rejection) -> [OrderLine] {
        let code = "bad_items"
        if bytes.isEmpty { throw Rejection(code, "items is empty") }
        let document: JSONValue
        do {
            document = try JSONReader.parse(bytes)
        } catch {
            throw Rejection(code, "items is not valid JSON: \(error.description)")
        }
        guard case .array(let elements) = document else {
            throw Rejection(code, "items is not a JSON array")
        }
        if elements.isEmpty { throw Rejection(code, "items is an empty array; at least 1 line is required") }
        if elements.count > FieldValidation.maxOrderLines {
            throw Rejection(code, "items has \(elements.count) lines; at most \(FieldValidation.maxOrderLines) are allowed")
        }

        var lines: [OrderLine] = []
        lines.reserveCapacity(elements.count)
        // Small orders: linear search beats hashing; big ones get an index.
        var index: [String: Int]? = nil

        for (k, element) in elements.enumerated() {
            // Named only in messages: building the text per line cost an allocation or two.
            func label() -> String { "items line \(k + 1)" }
            guard case .object(let members) = element else {
                throw Rejection(code, "\(label()) is not an object")
            }
            var skuValue: JSONValue? = nil
            var qtyValue: JSONValue? = nil
            var titleValue: JSONValue? = nil
            for (m, member) in members.enumerated() {
                let isDuplicate = members[..<m].contains { $0.key == member.key }
                switch member.key {
                case "sku", "qty", "title":
                    if isDuplicate {
                        throw Rejection(code, "\(label()) has more than one \(Quoted.string(member.key)) key")
                    }
                    if member.key == "sku" { skuValue = member.value }
                    else if member.key == "qty" { qtyValue = member.value }
                    else { titleValue = member.value }
                default:
                    continue
                }
            }

            guard let skuValue else { throw Rejection(code, "\(label()) has no sku") }
            guard case .string(let skuText) = skuValue else {
                throw Rejection(code, "\(label()) sku \(skuValue.summary) is not a string")
            }
            let sku = try FieldValidation.identifier(Array(skuText.utf8), field: "\(label()) sku", code: code, allowBraces: true)

            guard let qtyValue else { throw Rejection(code, "\(label()) has no qty") }
            guard case .number(let number) = qtyValue, number.isInteger else {
                throw Rejection(code, "\(label()) qty \(qtyValue.summary) is not an integer")
            }
            guard let q = number.integerValue, q >= 1, q <= Int64(FieldValidation.maxQuantity) else {
                throw Rejection(code, "\(label()) qty \(qtyValue.summary) is out of range 1-\(FieldValidation.maxQuantity)")
            }
            let quantity = Int(q)

            var title: String? = nil
            switch titleValue {
            case nil, .null?:
                break
            case .string(let t)?:
                title = try FieldValidation.title(Array(t.utf8), field: "\(label()) title", code: code)
            case let other?:
                throw Rejection(code, "\(label()) title \(other.summary) is not a string")
            }

            let existing: Int?
            if let index {
                existing = index[sku]
            } else {
                existing = lines.firstIndex { $0.sku == sku }
            }
            if let existing {
                let sum = lines[existing].quantity + quantity
                if sum > FieldValidation.maxQuantity {
                    throw Rejection(code, "items sku \(Quoted.bytes(Array(sku.utf8))) adds up to \(sum); at most \(FieldValidation.maxQuantity) are allowed")
                }
                lines[existing].quantity = sum
                if lines[existing].title == nil { lines[existing].title = title }
            } else {
                lines.append(OrderLine(sku: sku, quantity: quantity, title: title))
                if index != nil {
                    index![sku] = lines.count - 1
                } else if lines.count == 16 {
                    var built: [String: Int] = [:]
                    built.reserveCapacity(elements.count)
                    for (j, line) in lines.enumerated() { built[line.sku] = j }
                    index = built
                }
            }
        }
        return lines
    }

    // MARK: - Shared pieces

    private static func missing(_ key: FieldKey) -> Rejection {
        Rejection("missing_" + key.name, "\(key.name) is missing")
    }

    private static func requiredID(_ key: FieldKey, _ fields: [RawEntry.Field], _ s: Slots,
                                   allowBraces: Bool) throws(Rejection) -> String {
        guard let bytes = s.value(key, fields) else { throw missing(key) }
        return try FieldValidation.identifier(bytes, field: key.name, code: "bad_" + key.name, allowBraces: allowBraces)
    }

    /// `ts` when present (validated), else the millisecond part of the stream entry id.
    private static func eventTime(_ entry: RawEntry, _ s: Slots) throws(Rejection) -> Int64 {
        guard let ts = s.value(.ts, entry.fields) else {
            return Int64(clamping: entry.id.milliseconds)
        }
        if ts.isEmpty { throw Rejection("bad_ts", "ts is empty") }
        guard let time = EventTime.parse(ts) else {
            throw Rejection("bad_ts", "ts \(Quoted.bytes(ts)) is not epoch milliseconds or ISO-8601 with a zone")
        }
        return time
    }
}

// MARK: - Field lookup

/// The field names of the contract.
enum FieldKey: Int, CaseIterable {
    case type, customerID, sku, qty, ts, title, eventID, orderID, items, status

    /// Classifies a field name by its bytes (no String decoding).
    @inline(__always)
    static func classify(_ name: [UInt8]) -> FieldKey? {
        name.withUnsafeBufferPointer { classify($0) }
    }

    @inline(__always)
    static func classify(_ p: UnsafeBufferPointer<UInt8>) -> FieldKey? {
        switch p.count {
        case 2: return FieldValidation.equals(p, "ts") ? .ts : nil
        case 3:
            if FieldValidation.equals(p, "sku") { return .sku }
            if FieldValidation.equals(p, "qty") { return .qty }
            return nil
        case 4: return FieldValidation.equals(p, "type") ? .type : nil
        case 5:
            if FieldValidation.equals(p, "title") { return .title }
            if FieldValidation.equals(p, "items") { return .items }
            return nil
        case 6: return FieldValidation.equals(p, "status") ? .status : nil
        case 8:
            if FieldValidation.equals(p, "order_id") { return .orderID }
            if FieldValidation.equals(p, "event_id") { return .eventID }
            return nil
        case 11: return FieldValidation.equals(p, "customer_id") ? .customerID : nil
        default: return nil
        }
    }

    /// The field's name in the contract (and in `missing_<name>` / `bad_<name>` codes).
    var name: String {
        switch self {
        case .type: "type"
        case .customerID: "customer_id"
        case .sku: "sku"
        case .qty: "qty"
        case .ts: "ts"
        case .title: "title"
        case .eventID: "event_id"
        case .orderID: "order_id"
        case .items: "items"
        case .status: "status"
        }
    }

    /// The names as byte arrays, by `rawValue`, shared by every entry that uses them.
    static let names: [[UInt8]] = allCases.map { Array($0.name.utf8) }
}

extension RawEntry.Field {
    /// A field name as bytes, sharing one array per contract name: nearly every name in the
    /// input is one of ten, so this saves an allocation per field of nearly every entry.
    public static func name(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if let key = FieldKey.classify(bytes.assumingMemoryBound(to: UInt8.self)) { return FieldKey.names[key.rawValue] }
        return Array(bytes)
    }
}

/// Index of the first field with each contract name (-1 when absent). One pass over the fields.
struct Slots {
    private var index: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) =
        (-1, -1, -1, -1, -1, -1, -1, -1, -1, -1)

    init(_ fields: [RawEntry.Field]) {
        for (k, field) in fields.enumerated() {
            guard let key = FieldKey.classify(field.name) else { continue }
            if self[key] < 0 { self[key] = Int32(truncatingIfNeeded: k) }
        }
    }

    subscript(key: FieldKey) -> Int32 {
        get {
            withUnsafeBytes(of: index) { $0.load(fromByteOffset: key.rawValue * 4, as: Int32.self) }
        }
        set {
            withUnsafeMutableBytes(of: &index) { $0.storeBytes(of: newValue, toByteOffset: key.rawValue * 4, as: Int32.self) }
        }
    }

    @inline(__always)
    func value(_ key: FieldKey, _ fields: [RawEntry.Field]) -> [UInt8]? {
        let k = self[key]
        return k < 0 ? nil : fields[Int(k)].value
    }
}
