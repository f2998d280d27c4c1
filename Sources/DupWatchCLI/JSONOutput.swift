import Foundation

/// The one way the command-line tools write JSON: `JSONEncoder` over `Encodable` values.
public enum JSONOutput {
    public static func render(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func print(_ value: some Encodable) throws {
        Swift.print(try render(value))
    }
}

/// A failure to report as it is: swift-argument-parser prints `Error: <description>` and exits
/// with status 1, without the usage text that a `ValidationError` (a wrong command line) gets.
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
