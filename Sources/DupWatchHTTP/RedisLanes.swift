import Dispatch
public import DupWatchStore
public import Logging
public import RedisClient
import Synchronization

/// The server's way to Redis: hiredis calls block, so each runs on one of a few lanes, a serial
/// dispatch queue with its own `Deployment` (connections to every node it needs), never on
/// Swift's cooperative threads. A request takes the next lane round-robin; a lane whose Redis
/// call failed on the connection reconnects on its next use, so one bad moment costs one 503.
public final class RedisLanes: Sendable {
    private let lanes: [Lane]
    private let next = Atomic<Int>(0)
    private let logger: Logger

    public init(seeds: [RedisURL], count: Int, logger: Logger) {
        precondition(count > 0)
        self.lanes = (0..<count).map { Lane(index: $0, seeds: seeds) }
        self.logger = logger
    }

    public var count: Int { lanes.count }

    /// Runs `body` with a deployment on the next lane. A Redis connection or timeout error
    /// drops the lane's deployment (the next use reconnects). A read (`idempotent`) that fails
    /// so on a connection made earlier is tried once more on a new one, so that a Redis
    /// restart costs no failed read; a write is not, since it may have been applied.
    public func run<T: Sendable>(idempotent: Bool = false, _ body: @escaping @Sendable (Deployment) throws -> T) async throws -> T {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        return try await lane.run(body, retryStale: idempotent, logger: logger)
    }

    /// Closes every lane's connections (after the server stopped taking requests).
    public func close() {
        for lane in lanes { lane.close() }
    }
}

private final class Lane: @unchecked Sendable {
    let queue: DispatchQueue
    let seeds: [RedisURL]
    /// Touched only on `queue`.
    private var deployment: Deployment?

    init(index: Int, seeds: [RedisURL]) {
        self.queue = DispatchQueue(label: "dupwatch.redis-lane.\(index)")
        self.seeds = seeds
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (Deployment) throws -> T, retryStale: Bool, logger: Logger) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async {
                continuation.resume(with: Result { try self.call(body, retryStale: retryStale, logger: logger) })
            }
        }
    }

    /// On `queue`.
    private func call<T>(_ body: (Deployment) throws -> T, retryStale: Bool, logger: Logger) throws -> T {
        let reused = deployment != nil
        do {
            let current = try deployment ?? Deployment(seeds: seeds)
            deployment = current
            return try body(current)
        } catch let error as RedisError where error.kind == .connection || error.kind == .timeout {
            deployment = nil
            if reused {
                logger.warning("Redis connection lost; the lane reconnects", metadata: ["error": "\(error)"])
                if retryStale { return try call(body, retryStale: false, logger: logger) }
            }
            throw error
        }
    }

    func close() {
        queue.sync { deployment = nil }
    }
}
