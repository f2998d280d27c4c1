/// Why an entry was refused. `code` is a short machine-readable code (`bad_qty`,
/// `missing_customer_id`, `unknown_order`, ...); `message` is one sentence for people.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The dead-letter `reason` field: `bad_qty: qty "abc" is not an integer`.
    public var reason: String { "\(code): \(message)" }
    public var description: String { reason }
}
