import ArgumentParser
import Foundation
import Logging
import RedisClient

/// Options every subcommand that talks to Redis shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"),
            help: "Redis to use, redis://[user:password@]host[:port][/db]. Default: $DUPWATCH_REDIS_URL, else redis://127.0.0.1:6379.")
    var redisURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func url() throws -> RedisURL {
        let text = redisURL ?? ProcessInfo.processInfo.environment["DUPWATCH_REDIS_URL"] ?? "redis://127.0.0.1:6379"
        do {
            return try RedisURL(parsing: text)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func connect() throws -> RedisConnection {
        try RedisConnection(url: url())
    }

    func bootstrapLogging() {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
