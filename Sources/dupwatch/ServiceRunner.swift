import ArgumentParser
import Logging
import ServiceLifecycle

/// Runs one long-lived service until it returns, or until SIGTERM/SIGINT shut it down
/// gracefully; a failure is logged and exits with status 1.
func runUntilStopped(_ service: some Service, what: String, logger: Logger) async throws {
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    do {
        try await group.run()
    } catch {
        logger.error("\(what) failed: \(error)")
        throw ExitCode(1)
    }
}
