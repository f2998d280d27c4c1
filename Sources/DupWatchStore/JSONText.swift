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

    /// An alert's stream fields, `quantity` as a number.
    public static func alert(_ fields: [(String, String)]) -> String {
        encode(alertObject(fields))
    }

    public static func alertObject(_ fields: [(String, String)]) -> FieldsObject {
        FieldsObject(fields.map { (name: $0.0, value: $0.1) }, numbers: ["quantity"])
    }
}
