/// A stream entry exactly as Redis delivered it: field names and values are raw bytes,
/// because validating UTF-8 is part of the contract and must not be done by a lossy decoder.
public struct RawEntry: Sendable, Equatable {
    public struct Field: Sendable, Hashable {
        public var name: [UInt8]
        public var value: [UInt8]
        public init(name: [UInt8], value: [UInt8]) {
            self.name = name
            self.value = value
        }
        public init(_ name: String, _ value: String) {
            self.init(name: Array(name.utf8), value: Array(value.utf8))
        }
    }

    public var source: EventSource
    public var id: EntryID
    public var fields: [Field]

    public init(source: EventSource, id: EntryID, fields: [Field]) {
        self.source = source
        self.id = id
        self.fields = fields
    }

    /// Convenience for tests and tools: `RawEntry(.cart, "5-0", ["type": "add", ...])`.
    public init(_ source: EventSource, _ id: EntryID, _ pairs: KeyValuePairs<String, String>) {
        self.init(source: source, id: id, fields: pairs.map { Field($0.key, $0.value) })
    }

    /// The first value of `name`, as bytes; nil when absent.
    public func value(of name: String) -> [UInt8]? {
        let key = Array(name.utf8)
        return fields.first(where: { $0.name == key })?.value
    }
}
