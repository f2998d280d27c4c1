import DupWatchCore
import Foundation
import Logging
import RedisClient

/// Logs one line when the connection to Redis changes state, not one per retry.
struct HealthLog {
    enum State: Equatable {
        case starting, up, down(String)
    }

    let logger: Logger
    let url: RedisURL
    private(set) var state: State = .starting
    private var downSince: ContinuousClock.Instant?
    private var failedAttempts = 0

    init(logger: Logger, url: RedisURL) {
        self.logger = logger
        self.url = url
    }

    /// A new connection: announced at start; after an outage `up()` says it is back once
    /// something has worked again.
    mutating func connected() {
        guard state == .starting else { return }
        logger.info("connected to \(url)")
        state = .up
    }

    mutating func up() {
        switch state {
        case .up: return
        case .starting:
            logger.info("connected to \(url)")
        case .down:
            let elapsed = downSince.map { $0.duration(to: .now) } ?? .zero
            let seconds = elapsed.inSeconds
            logger.notice("redis is back at \(url) after \(failedAttempts) failed attempts (\(String(format: "%.1f", seconds)) s); resuming from the committed position")
        }
        state = .up
        failedAttempts = 0
        downSince = nil
    }

    /// `what` names the condition (e.g. "connection refused", "OOM"); a new condition logs again.
    mutating func down(_ error: RedisError, retryInMs: Int) {
        failedAttempts += 1
        let condition: String
        switch error.kind {
        case .server(let code): condition = code
        case .connection: condition = "connection"
        case .timeout: condition = "timeout"
        case .protocolViolation: condition = "protocol"
        }
        if case .down(let current) = state, current == condition { return }
        if downSince == nil { downSince = .now }
        state = .down(condition)
        logger.warning("redis unavailable (\(error)); nothing is committed until it is back; retrying with backoff (first retry in \(retryInMs) ms, capped)")
    }
}
