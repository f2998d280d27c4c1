/// Stream entry fields as a JSON object for `JSONEncoder`: a dead letter's `payload`, an alert
/// as the read commands print it. Invalid UTF-8 is replaced by U+FFFD; of a name given twice,
/// the last value stays (a JSON object's members are unordered and unique; DupWatch's encoders
/// sort them). Names in `numbers` whose value is an integer are
/// written as JSON numbers.
public struct FieldsObject: Encodable, Sendable {
    public var fields: [(name: String, value: String)]
    public var numbers: Set<String>

    public init(_ fields: [(name: String, value: String)], numbers: Set<String> = []) {
        self.fields = fields
        self.numbers = numbers
    }

    public init(_ fields: [RawEntry.Field]) {
        self.init(fields.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) })
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in fields {
            if numbers.contains(name), let number = ASCIIDecimal.int64(Substring(value)) {
                try container.encode(number, forKey: Key(stringValue: name))
            } else {
                try container.encode(value, forKey: Key(stringValue: name))
            }
        }
    }
}
