/// Validation of single field values of the event contract. Every function takes the raw bytes
/// of a *present* field and either returns the decoded value or throws the `Rejection` to report
/// (`bad_<field>`). Absent fields are the caller's business (`missing_<field>` or a default).
///
/// `field` is the name used in the message (and, for the default code, in `bad_<field>`).
public enum FieldValidation {
    public static let maxIDBytes = 128
    public static let maxTitleBytes = 256
    public static let maxQuantity = 1_000_000
    public static let maxOrderLines = 500

    // MARK: - Identifiers

    /// An id (`customer_id`, `sku`, `order_id`, `event_id`): 1-128 bytes of valid UTF-8 without
    /// control characters (C0, DEL, C1); with `allowBraces: false` also without `{` or `}`.
    public static func identifier(_ bytes: [UInt8], field: String, allowBraces: Bool = true) throws(Rejection) -> String {
        try identifier(bytes, field: field, code: "bad_" + field, allowBraces: allowBraces)
    }

    /// `field` names the value in messages; built only when one is thrown (items lines name
    /// theirs per line).
    static func identifier(_ bytes: [UInt8], field: @autoclosure () -> String, code: String,
                           allowBraces: Bool) throws(Rejection) -> String {
        if bytes.isEmpty { throw Rejection(code, "\(field()) is empty") }
        if bytes.count > maxIDBytes {
            throw Rejection(code, "\(field()) is \(bytes.count) bytes; ids are 1-\(maxIDBytes) bytes")
        }
        let scan = UTF8Scan(bytes)
        if !scan.valid { throw Rejection(code, "\(field()) is not valid UTF-8") }
        if scan.hasControl {
            throw Rejection(code, "\(field()) \(Quoted.bytes(bytes)) contains a control character")
        }
        if !allowBraces && scan.hasBrace { throw Rejection(code, "\(field()) must not contain { or }") }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Quantities

    /// A quantity: an integer (`ASCIIDecimal`: leading zeros allowed; no `+`, decimal point,
    /// exponent or spaces) within `range`. A negative or arbitrarily long one is out of range.
    public static func quantity(_ bytes: [UInt8], field: String = "qty", in range: ClosedRange<Int>) throws(Rejection) -> Int {
        let code = "bad_" + field
        if bytes.isEmpty { throw Rejection(code, "\(field) is empty") }
        switch ASCIIDecimal.read(bytes) {
        case .notAnInteger:
            throw Rejection(code, "\(field) \(Quoted.bytes(bytes)) is not an integer")
        case .value(let value) where bytes.first != UInt8(ascii: "-") && (Int64(range.lowerBound)...Int64(range.upperBound)).contains(value):
            return Int(value)
        case .value, .outOfRange:
            throw Rejection(code, "\(field) \(Quoted.bytes(bytes)) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
    }

    // MARK: - Titles

    /// A product title: at most 256 bytes of valid UTF-8. Empty means "no title" (nil).
    public static func title(_ bytes: [UInt8], field: String = "title") throws(Rejection) -> String? {
        try title(bytes, field: field, code: "bad_" + field)
    }

    static func title(_ bytes: [UInt8], field: @autoclosure () -> String, code: String) throws(Rejection) -> String? {
        if bytes.isEmpty { return nil }
        if bytes.count > maxTitleBytes {
            throw Rejection(code, "\(field()) is \(bytes.count) bytes; at most \(maxTitleBytes) are allowed")
        }
        if !UTF8Scan(bytes).valid { throw Rejection(code, "\(field()) is not valid UTF-8") }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Status and type

    /// An order status: exactly one of the (case-sensitive) `OrderStatus` raw values.
    public static func status(_ bytes: [UInt8], field: String = "status") throws(Rejection) -> OrderStatus {
        let status: OrderStatus? = bytes.withUnsafeBufferPointer { p in
            switch p.count {
            case 7:
                if equals(p, "shipped") { return .shipped }
            case 8:
                if equals(p, "returned") { return .returned }
            case 9:
                if equals(p, "delivered") { return .delivered }
                if equals(p, "cancelled") { return .cancelled }
            case 10:
                if equals(p, "processing") { return .processing }
            default:
                break
            }
            return nil
        }
        if let status { return status }
        let code = "bad_" + field
        if bytes.isEmpty { throw Rejection(code, "\(field) is empty") }
        throw Rejection(code, "\(field) \(Quoted.bytes(bytes)) is not one of processing, shipped, delivered, cancelled, returned")
    }

    /// The `type` of a cart event.
    enum CartType: Sendable, Hashable {
        case add, change, remove, clear
    }

    static func cartType(_ bytes: [UInt8]) throws(Rejection) -> CartType {
        let type: CartType? = bytes.withUnsafeBufferPointer { p in
            switch p.count {
            case 3: if equals(p, "add") { return .add }
            case 5: if equals(p, "clear") { return .clear }
            case 6:
                if equals(p, "change") { return .change }
                if equals(p, "remove") { return .remove }
            default: break
            }
            return nil
        }
        if let type { return type }
        if bytes.isEmpty { throw Rejection("bad_type", "type is empty") }
        throw Rejection("bad_type", "type \(Quoted.bytes(bytes)) is not one of add, change, remove, clear")
    }

    // MARK: - UTF-8

    /// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        UTF8Scan(bytes).valid
    }

    // MARK: - Helpers

    /// Byte-wise equality with an ASCII literal.
    @inline(__always)
    static func equals(_ p: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard p.count == n else { return false }
        let l = literal.utf8Start
        for i in 0..<n where p[i] != l[i] { return false }
        return true
    }
}

/// One pass over bytes: UTF-8 well-formedness plus the character classes ids care about.
struct UTF8Scan {
    var valid = true
    /// C0 (0x00-0x1F), DEL (0x7F) or C1 (U+0080-U+009F).
    var hasControl = false
    /// `{` or `}`.
    var hasBrace = false

    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { UTF8Scan($0) }
    }

    init(_ p: UnsafeBufferPointer<UInt8>) {
        let n = p.count
        var i = 0
        while i < n {
            let b = p[i]
            if b < 0x80 {
                if b < 0x20 || b == 0x7F {
                    hasControl = true
                } else if b == 0x7B || b == 0x7D {
                    hasBrace = true
                }
                i += 1
                continue
            }
            if b < 0xC2 { valid = false; return } // continuation byte or overlong 2-byte lead
            if b < 0xE0 {
                guard i + 1 < n, p[i + 1] & 0xC0 == 0x80 else { valid = false; return }
                if b == 0xC2 && p[i + 1] < 0xA0 { hasControl = true } // U+0080-U+009F
                i += 2
                continue
            }
            if b < 0xF0 {
                guard i + 2 < n else { valid = false; return }
                let c1 = p[i + 1]
                let c2 = p[i + 2]
                guard c1 & 0xC0 == 0x80, c2 & 0xC0 == 0x80 else { valid = false; return }
                if b == 0xE0 && c1 < 0xA0 { valid = false; return } // overlong
                if b == 0xED && c1 >= 0xA0 { valid = false; return } // surrogates
                i += 3
                continue
            }
            if b < 0xF5 {
                guard i + 3 < n else { valid = false; return }
                let c1 = p[i + 1]
                guard c1 & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else {
                    valid = false; return
                }
                if b == 0xF0 && c1 < 0x90 { valid = false; return } // overlong
                if b == 0xF4 && c1 >= 0x90 { valid = false; return } // above U+10FFFF
                i += 4
                continue
            }
            valid = false
            return
        }
    }
}
