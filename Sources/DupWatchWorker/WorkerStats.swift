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

    /// Adds a committed batch of `entries` entries and what its plan did.
    mutating func add(batchOf entries: Int, _ plan: BatchPlan) {
        batches += 1
        self.entries += entries
        applied += plan.applied
        duplicates += plan.duplicates
        alerts += plan.alerts.count
        deadLetters += plan.deadLetters.count
        trimmed += plan.trimmed
    }
}
