/// Running totals since the worker started; `dupwatch worker --drain` prints them at the end.
public struct WorkerStats: Sendable, Equatable {
    public var batches = 0
    public var entries = 0
    public var applied = 0
    public var duplicates = 0
    public var alerts = 0
    public var deadLetters = 0
    public var trimmed = 0

    public init() {}
}
