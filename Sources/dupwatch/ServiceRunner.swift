import ArgumentParser
import Logging
import ServiceLifecycle

/// Runs services together until one returns (then all stop, the last first), or until
/// SIGTERM/SIGINT shut them down gracefully; a failure is logged and exits with status 1.
func runUntilStopped(_ services: [any Service], what: String, logger: Logger) async throws {
    let group = ServiceGroup(configuration: .init(
        services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    do {
        try await group.run()
    } catch {
        logger.error("\(what) failed: \(error)")
        throw ExitCode(1)
    }
}
