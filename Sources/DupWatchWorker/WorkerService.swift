import Foundation
public import Logging
public import ServiceLifecycle

/// Runs a `Worker` as a swift-service-lifecycle `Service`. The worker makes blocking hiredis
/// calls, so it gets a thread of its own instead of a cooperative-pool thread; graceful
/// shutdown sets the stop signal, and the worker finishes and commits its batch before returning.
public final class WorkerService: Service {
    private let config: WorkerConfig
    private let logger: Logger
    private let stop = StopSignal()

    public init(config: WorkerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        let config = self.config
        let logger = self.logger
        let stop = self.stop
        try await withGracefulShutdownHandler {
            let stats: WorkerStats = try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    do {
                        let worker = Worker(config: config, logger: logger, stop: stop)
                        continuation.resume(returning: try worker.run())
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "dupwatch-worker"
                thread.start()
            }
            logger.info("worker stopped", metadata: [
                "entries": "\(stats.entries)", "alerts": "\(stats.alerts)", "deadletters": "\(stats.deadLetters)",
                "duplicate_ids": "\(stats.duplicates)", "batches": "\(stats.batches)",
            ])
        } onGracefulShutdown: {
            stop.stop()
        }
    }
}
