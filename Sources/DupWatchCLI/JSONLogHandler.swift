import DupWatchCore
public import Foundation
public import Logging

/// `--log-format json`: one JSON object per line, for log collectors (journald, Loki, ...).
///
///     {"customer.id":"c42","label":"dupwatch.worker","level":"info","message":"alert raised","ts":"2026-11-23T10:00:00.123Z"}
///
/// `ts` is the wall-clock time in ISO-8601 UTC with milliseconds, `level` swift-log's level
/// name, `label` the logger's label, `message` the message as given; every metadata key (the
/// handler's, its metadata provider's, then the log statement's, later ones winning) is a field
/// of its own: a string, or an array or object for nested metadata. A metadata key that is one
/// of those four names is written as `metadata.<key>`, so that it cannot hide them. An error
/// passed to the log statement adds `error.message` and `error.type`, as swift-log's
/// `StreamLogHandler` does. Keys are sorted: the project's one way of writing JSON
/// (`JSONOutput`, `JSONEncoder`).
///
/// `render(_:at:)` is pure (tests call it); `log(event:)` writes its line to `output`, stderr
/// unless told otherwise, in one `write`.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let clock: @Sendable () -> Date
    private let output: @Sendable (String) -> Void

    /// The names of the fields every line has.
    public static let reservedKeys: Set<String> = ["ts", "level", "label", "message"]

    public init(label: String, logLevel: Logger.Level = .info,
                metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
                clock: @escaping @Sendable () -> Date = { Date() },
                output: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output(render(event, at: clock()))
    }

    /// The line for `event` at `time`, without the newline.
    public func render(_ event: LogEvent, at time: Date) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata { merged.merge(explicit) { _, explicit in explicit } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var fields: [String: Field] = [
            "ts": .string(EventTime.iso8601(milliseconds: Int64((time.timeIntervalSince1970 * 1000).rounded(.down)))),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in merged {
            fields[Self.reservedKeys.contains(key) ? "metadata." + key : key] = Field(value)
        }
        // Strings, arrays and objects of them under string keys always encode.
        return JSONOutput.render(fields)
    }

    /// Writes `line` and a newline to stderr in one call, so that lines from concurrent loggers
    /// do not interleave.
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A metadata value as JSON.
    private enum Field: Encodable {
        case string(String)
        case array([Field])
        case object([String: Field])

        init(_ value: Logger.MetadataValue) {
            switch value {
            case .string(let string): self = .string(string)
            case .stringConvertible(let convertible): self = .string(convertible.description)
            case .array(let values): self = .array(values.map(Field.init))
            case .dictionary(let values): self = .object(values.mapValues(Field.init))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let string): try container.encode(string)
            case .array(let values): try container.encode(values)
            case .object(let values): try container.encode(values)
            }
        }
    }
}
