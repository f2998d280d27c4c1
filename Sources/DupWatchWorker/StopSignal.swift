import Synchronization

/// Set once by the service on SIGTERM/SIGINT; the worker thread checks it between batches,
/// so the batch in hand is finished and committed before it stops.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func stop() { flag.store(true, ordering: .releasing) }
    public var isStopped: Bool { flag.load(ordering: .acquiring) }
}
