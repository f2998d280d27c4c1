import Foundation
import Synchronization

/// Set once by the service on SIGTERM/SIGINT; the worker thread checks it between batches,
/// so the batch in hand is finished and committed before it stops.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func stop() { flag.store(true, ordering: .releasing) }
    public var isStopped: Bool { flag.load(ordering: .acquiring) }

    /// Sleeps `ms` milliseconds, or less when stopped meanwhile (checked every 50 ms).
    func sleep(ms: Int) {
        var remaining = ms
        while remaining > 0, !isStopped {
            let step = min(remaining, 50)
            usleep(UInt32(step) * 1000)
            remaining -= step
        }
    }
}
