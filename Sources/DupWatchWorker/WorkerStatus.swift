import DupWatchCore
import Foundation
import Synchronization

/// What a running worker says about itself, for `/readyz`: the worker thread writes it, any
/// other thread reads it. Writing is a lock and a clock read, cheap enough for every batch.
///
/// Make one, hand it to `Worker`/`PartitionedWorker` (or `BlockingService.worker(...)`), and
/// give the same instance to the HTTP layer, which calls `readiness(now:)`.
public final class WorkerStatus: Sendable {
    /// The worker's part in its group.
    public enum Role: Sendable, Equatable {
        /// Not running yet, or it has not asked for a lease yet.
        case starting
        /// Holds the lease of these partitions (`[0]` for the single-partition `Worker`).
        case owner(partitions: [Int])
        /// Holds no lease: another worker holds it (`holder`, when known), or, partitioned, the
        /// assignment gives this worker no partition now. It takes over when a lease lapses.
        case standby(holder: String?)
        /// `run()` returned or threw.
        case stopped
    }

    /// Everything the readiness decision looks at, copied out under the lock.
    public struct Snapshot: Sendable, Equatable {
        public var role: Role
        /// The lease TTL of the worker (the staleness window is 3 × this, at least 5 s).
        public var leaseTTL: Duration
        /// The last time a Redis command of the worker succeeded.
        public var lastSuccess: ContinuousClock.Instant?
        /// The last Redis error (or the error that stopped the worker), and when.
        public var lastError: String?
        public var lastErrorAt: ContinuousClock.Instant?

        public init(role: Role = .starting, leaseTTL: Duration = .seconds(10), lastSuccess: ContinuousClock.Instant? = nil,
                    lastError: String? = nil, lastErrorAt: ContinuousClock.Instant? = nil) {
            self.role = role
            self.leaseTTL = leaseTTL
            self.lastSuccess = lastSuccess
            self.lastError = lastError
            self.lastErrorAt = lastErrorAt
        }

        /// Redis counts as answering while its last success is at most this old.
        public var staleAfter: Duration { max(leaseTTL * 3, .seconds(5)) }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Ready when Redis answered within `Snapshot.staleAfter` and the worker owns partitions or
    /// stands by (an owner fails over to a standby only if the standby can reach Redis too).
    /// Not ready while starting, once stopped, or while Redis is failing.
    public func readiness(now: ContinuousClock.Instant = .now) -> (ready: Bool, checks: [String: String]) {
        Self.readiness(of: snapshot, now: now)
    }

    /// The decision, without I/O or locks. Each check's text starts with `ok` or `failing`.
    public static func readiness(of snapshot: Snapshot, now: ContinuousClock.Instant) -> (ready: Bool, checks: [String: String]) {
        var checks: [String: String] = [:]
        let lastError = snapshot.lastError.map { " (last error: \($0))" } ?? ""

        let redisOK: Bool
        if let success = snapshot.lastSuccess {
            let age = max(.zero, success.duration(to: now))
            redisOK = age <= snapshot.staleAfter
            checks["redis"] = redisOK
                ? "ok: answered \(seconds(age)) ago"
                : "failing: no answer for \(seconds(age)) (more than \(seconds(snapshot.staleAfter)))\(lastError)"
        } else {
            redisOK = false
            checks["redis"] = "failing: no answer yet\(lastError)"
        }

        let roleOK: Bool
        switch snapshot.role {
        case .starting:
            roleOK = false
            checks["role"] = "failing: starting"
        case .owner(let partitions):
            roleOK = true
            checks["role"] = partitions.count == 1
                ? "ok: owner of partition \(partitions[0])"
                : "ok: owner of partitions \(partitions.map(String.init).joined(separator: ", "))"
        case .standby(let holder):
            roleOK = true
            checks["role"] = "ok: standby" + (holder.map { ", the lease is held by \($0)" } ?? "")
        case .stopped:
            roleOK = false
            checks["role"] = "failing: stopped"
        }
        return (redisOK && roleOK, checks)
    }

    private static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", duration.inSeconds)
    }

    // MARK: Written by the worker thread

    /// `run()` began.
    package func started(leaseTTL: Duration) {
        state.withLock {
            $0.leaseTTL = leaseTTL
            $0.role = .starting
        }
    }

    /// A Redis command succeeded.
    package func redisAnswered(at now: ContinuousClock.Instant = .now) {
        state.withLock { $0.lastSuccess = now }
    }

    /// A Redis command failed (or the worker stopped on an error).
    package func redisFailed(_ error: String, at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.lastError = error
            $0.lastErrorAt = now
        }
    }

    package func setRole(_ role: Role) {
        state.withLock { $0.role = role }
    }
}
