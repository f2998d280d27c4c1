public import ArgumentParser
import Foundation
public import Logging
public import RedisClient

/// Options every command that talks to Redis shares.
public struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"),
            help: "Redis to use, redis://[user:password@]host[:port][/db]. Default: $DUPWATCH_REDIS_URL, else redis://127.0.0.1:6379.")
    public var redisURL: String?

    @Option(help: "Log level: \(LogLevel.allValueStrings.joined(separator: ", ")).")
    public var logLevel: LogLevel = .info

    public init() {}

    /// The URL as given (option, environment or default), before parsing.
    public var urlText: String {
        redisURL ?? ProcessInfo.processInfo.environment["DUPWATCH_REDIS_URL"] ?? "redis://127.0.0.1:6379"
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

    public func bootstrapLogging() {
        let level = logLevel.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// swift-log's levels as a command-line value: an unknown name is a usage error, not `info`.
public enum LogLevel: String, CaseIterable, Sendable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    public var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}
