import DupWatchStore

/// What the command-line tools print as JSON, written by the project's one JSON writer.
public enum JSONOutput {
    public static func render(_ value: some Encodable) -> String {
        JSONText.encode(value)
    }

    public static func print(_ value: some Encodable) {
        Swift.print(render(value))
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
