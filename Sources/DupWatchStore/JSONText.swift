public import DupWatchCore
import Foundation

/// The one way DupWatch writes JSON: `JSONEncoder`, keys sorted, slashes unescaped. Stream
/// fields become a JSON object through `FieldsObject` (a dead letter's `payload`, an alert in
/// the per-customer index, on the live stream and in HTTP answers).
public enum JSONText {
    public static func encode(_ value: some Encodable) -> String {
        // DupWatch encodes strings, numbers, booleans, arrays and string-keyed objects only,
        // which always encode.
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// One encoder for every call (an encoder's `encode` keeps no state between calls, and
    /// making one per answer showed in the HTTP server's profile).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func fields(_ fields: [RawEntry.Field]) -> String {
        encode(FieldsObject(fields))
    }

    /// An alert's stream fields, `quantity` (and `repeat_count`) as numbers.
    public static func alert(_ fields: [(String, String)]) -> String {
        flatObject(fields, numbers: Alert.numericFields)
    }

    /// A flat object of stream fields written directly, byte for byte what `encode` writes for
    /// the same `FieldsObject` (a test holds them equal): the worker writes one per alert into
    /// the customer's alert index in its commit, where `JSONEncoder` cost about 9 µs each.
    static func flatObject(_ fields: [(String, String)], numbers: Set<String>) -> String {
        // The last value of a name wins, and the keys are sorted, as FieldsObject + sortedKeys.
        var latest: [String: String] = [:]
        for (name, value) in fields { latest[name] = value }
        var out = "{"
        for (index, name) in latest.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            appendString(name, to: &out)
            out += ":"
            let value = latest[name]!
            if numbers.contains(name), let number = ASCIIDecimal.int64(Substring(value)) {
                out += String(number)
            } else {
                appendString(value, to: &out)
            }
        }
        return out + "}"
    }

    /// A JSON string as JSONEncoder writes it without escaping slashes: `"`, `\\` and control
    /// characters escaped, everything else as it is.
    private static func appendString(_ text: String, to out: inout String) {
        out += "\""
        var plainStart = text.unicodeScalars.startIndex
        var index = plainStart
        let scalars = text.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escaped: String?
            switch scalar {
            case "\"": escaped = "\\\""
            case "\\": escaped = "\\\\"
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            case "\u{08}": escaped = "\\b"
            case "\u{0C}": escaped = "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped = nil
            }
            if let escaped {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out += escaped
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
        out += "\""
    }

    public static func alertObject(_ fields: [(String, String)]) -> FieldsObject {
        FieldsObject(fields.map { (name: $0.0, value: $0.1) }, numbers: Alert.numericFields)
    }
}
