public import ArgumentParser
import Foundation
public import Logging
public import RedisClient

/// Options every command that talks to Redis shares. Each also comes from its `DUPWATCH_*`
/// variable (`Settings`).
public struct ConnectionOptions: ParsableArguments {
    public static let defaultURL = "redis://127.0.0.1:6379"

    @Option(name: .customLong("redis-url"),
            help: Settings.help("Redis to use, redis://[user:password@]host[:port][/db]; a cluster's nodes comma-separated.",
                                "redis-url", default: defaultURL))
    public var redisURL: String?

    @Option(help: Settings.help("Log level: \(LogLevel.allValueStrings.joined(separator: ", ")).", "log-level", default: "info"))
    public var logLevel: LogLevel?

    @Option(help: Settings.help("Log lines on stderr: text, or json (one object per line; metadata as fields).",
                                "log-format", default: "text"))
    public var logFormat: LogFormat?

    public init() {}

    /// A malformed DUPWATCH_LOG_LEVEL or DUPWATCH_LOG_FORMAT is a usage error before anything runs.
    public func validate() throws {
        _ = try logging()
    }

    /// The URL as given (option, environment or default), before parsing.
    public var urlText: String {
        var settings = Settings()
        // A string reads back from any text, so resolving it cannot fail.
        return (try? settings.value(redisURL, "redis-url", default: Self.defaultURL)) ?? Self.defaultURL
    }

    public func url() throws -> RedisURL {
        do {
            return try RedisURL(parsing: urlText)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    public func connect() throws -> RedisConnection {
        try RedisConnection(url: url())
    }

    /// The log level and format: the command line, else DUPWATCH_LOG_LEVEL and
    /// DUPWATCH_LOG_FORMAT, else info and text.
    public func logging() throws -> (level: Logger.Level, format: LogFormat) {
        var settings = Settings()
        return (try settings.value(logLevel, "log-level", default: .info).level,
                try settings.value(logFormat, "log-format", default: .text))
    }

    /// Sends every `Logger`'s lines to stderr, as text or JSON, from the chosen level up.
    public func bootstrapLogging() throws {
        let (level, format) = try logging()
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, logLevel: level)
            }
        }
    }
}

/// swift-log's levels as a command-line value: an unknown name is a usage error, not `info`.
public enum LogLevel: String, CaseIterable, Sendable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    public var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// How log lines are written: swift-log's text lines, or one JSON object per line.
public enum LogFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case text, json
}
