import Foundation
public import DupWatchStore
public import RedisClient
public import Logging
public import ServiceLifecycle

/// Runs blocking work (hiredis calls) as a swift-service-lifecycle `Service`: on a thread of its
/// own instead of a cooperative-pool thread. Graceful shutdown sets the stop signal, and the
/// work finishes and commits what it has in hand before it returns.
public final class BlockingService: Service {
    private let name: String
    private let body: @Sendable (StopSignal) throws -> Void
    private let stop = StopSignal()

    public init(threadName: String, body: @escaping @Sendable (StopSignal) throws -> Void) {
        self.name = threadName
        self.body = body
    }

    public func run() async throws {
        let body = self.body
        let stop = self.stop
        let name = self.name
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try body(stop)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = name
                thread.start()
            }
        } onGracefulShutdown: {
            stop.stop()
        }
    }
}

extension BlockingService {
    /// The consumer-group worker. `status`: what it tells `/readyz` (give the HTTP layer the
    /// same instance). The metrics go to the bootstrapped `MetricsSystem`: bootstrap it before
    /// the service runs.
    public static func worker(config: WorkerConfig, logger: Logger, status: WorkerStatus = WorkerStatus()) -> BlockingService {
        BlockingService(threadName: "dupwatch-worker") { stop in
            let stats = try Worker(config: config, logger: logger, stop: stop, status: status).run()
            logger.info("worker stopped", metadata: [
                "entries": "\(stats.entries)", "alerts": "\(stats.alerts)", "deadletters": "\(stats.deadLetters)",
                "duplicate_ids": "\(stats.duplicates)", "batches": "\(stats.batches)",
            ])
        }
    }

    /// The worker of a partitioned deployment; `status` as for `worker`.
    public static func partitionedWorker(config: WorkerConfig, seeds: [RedisURL], partitioning: Partitioning,
                                         logger: Logger, status: WorkerStatus = WorkerStatus()) -> BlockingService {
        BlockingService(threadName: "dupwatch-worker") { stop in
            let stats = try PartitionedWorker(config: config, seeds: seeds, partitioning: partitioning, logger: logger, stop: stop,
                                              status: status).run()
            logger.info("worker stopped", metadata: [
                "entries": "\(stats.entries)", "alerts": "\(stats.alerts)", "deadletters": "\(stats.deadLetters)",
                "batches": "\(stats.batches)",
            ])
        }
    }

    /// The router into the partitions' streams.
    public static func router(config: RouterConfig, logger: Logger) -> BlockingService {
        BlockingService(threadName: "dupwatch-router") { stop in
            let stats = try Router(config: config, logger: logger, stop: stop).run()
            logger.info("router stopped", metadata: [
                "routed": "\(stats.routed)", "deadletters": "\(stats.deadLetters)",
                "already_routed": "\(stats.alreadyRouted)", "batches": "\(stats.batches)",
            ])
        }
    }
}
