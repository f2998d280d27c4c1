/// The life of one partition inside a worker, as decisions without I/O: the driver (one thread
/// per worker, for all its partitions) tells the runner what happened and asks it what to do
/// next. Kept apart from the I/O so that every path (a lost lease, a Redis error in the middle
/// of a batch, a rebalance while a batch is in hand) is tested without a server, as valkey-swift
/// tests its connection and cluster state machines.
///
/// Ownership: the runner only runs while it holds the partition's lease; the lease, checked
/// inside every commit, is what fences a worker that lost it. The assignment only says
/// whether the partition should be this worker's.
public struct PartitionRunner: Sendable {
    public enum State: Sendable, Equatable {
        /// Not this worker's, or not held.
        case idle
        /// The lease is held; the committed position must be read before anything else.
        case resuming
        /// Reading batches and committing them.
        case running
        /// A batch is read and not committed yet.
        case committing
        /// After a Redis error: nothing is trusted until `untilMs`; then resume again.
        case backingOff(untilMs: Int64)
    }

    public enum Action: Sendable, Equatable {
        /// Try to take the partition's lease.
        case acquireLease
        /// Check the lease is still ours (an outage may have outlasted it), then read the
        /// committed position (the group's last-delivered-ids, the resume attempts).
        case resume
        /// Read the next batch from the position.
        case read
        /// Plan and commit the batch in hand (state changes, alerts, group moves, lease renewal).
        case commit
        /// Renew the lease of an idle partition.
        case renewLease
        /// Hand the lease over (`released:<consumer>`): the assignment moved the partition.
        case releaseLease
        /// Nothing to do before this time.
        case wait(untilMs: Int64)
    }

    public let partition: Int
    public private(set) var state: State = .idle
    /// Whether the assignment gives this partition to this worker.
    public private(set) var assigned = false
    /// Whether this worker holds the lease (as far as it knows; every commit checks).
    public private(set) var holdsLease = false
    private let leaseTTLMs: Int64
    private var lastRenewalMs: Int64 = 0
    private var nextAcquireMs: Int64 = 0
    private var backoff: Backoff

    public init(partition: Int, leaseTTLMs: Int64, maxBackoffMs: Int = 5_000) {
        self.partition = partition
        self.leaseTTLMs = leaseTTLMs
        self.backoff = Backoff(capMs: maxBackoffMs)
    }

    /// What to do now.
    public mutating func next(nowMs: Int64) -> Action {
        switch state {
        case .idle:
            guard assigned else { return .wait(untilMs: .max) }
            return nowMs >= nextAcquireMs ? .acquireLease : .wait(untilMs: nextAcquireMs)
        case .backingOff(let untilMs):
            guard nowMs >= untilMs else { return .wait(untilMs: untilMs) }
            state = holdsLease ? .resuming : .idle
            return next(nowMs: nowMs)
        case .resuming:
            return assigned ? .resume : .releaseLease
        case .running:
            // A partition moved away is released between batches, never with one in hand.
            guard assigned else { return .releaseLease }
            return nowMs - lastRenewalMs >= leaseTTLMs / 3 ? .renewLease : .read
        case .committing:
            return .commit
        }
    }

    // MARK: Events

    /// The assignment was computed again.
    public mutating func assignment(mine: Bool) {
        assigned = mine
    }

    /// `acquireLease` took it.
    public mutating func leaseAcquired(nowMs: Int64) {
        holdsLease = true
        lastRenewalMs = nowMs
        state = .resuming
        backoff.reset()
    }

    /// `acquireLease` found another holder whose lease lapses in `lapsesInMs` (nil: unknown):
    /// try again right after it lapses, or in a third of a TTL if that is sooner. A dead
    /// holder's partition is then taken within a few ms of its lease lapsing, and a live
    /// holder, which renews every third of a TTL, is asked no more often than before.
    public mutating func leaseHeldElsewhere(nowMs: Int64, lapsesInMs: Int64? = nil) {
        holdsLease = false
        state = .idle
        let third = max(1, leaseTTLMs / 3)
        nextAcquireMs = nowMs + min(third, lapsesInMs.map { max(0, $0) + 1 } ?? third)
    }

    /// A commit or renewal found the lease in another worker's hands: everything read and not
    /// committed is dropped (the new holder reads it again from the committed position).
    public mutating func leaseLost(nowMs: Int64) {
        leaseHeldElsewhere(nowMs: nowMs)
    }

    /// `releaseLease` handed it over.
    public mutating func released() {
        holdsLease = false
        state = .idle
    }

    /// `resume` read the committed position.
    public mutating func resumed() {
        state = .running
    }

    /// `read` returned `entries` ready to process (0: caught up).
    public mutating func read(entries: Int) {
        if entries > 0 { state = .committing }
    }

    /// `commit` (or `renewLease`) landed: the lease was renewed with it.
    public mutating func committed(nowMs: Int64) {
        lastRenewalMs = nowMs
        state = .running
        backoff.reset()
    }

    /// `renewLease` landed.
    public mutating func renewed(nowMs: Int64) {
        lastRenewalMs = nowMs
    }

    /// A Redis error (connection lost, a refusal): nothing read and not committed is trusted;
    /// after a pause the runner resumes at the committed position, if it still holds the lease.
    public mutating func failed(nowMs: Int64, delayMs: Int? = nil) {
        let delay = delayMs ?? backoff.nextDelayMs()
        state = .backingOff(untilMs: nowMs + Int64(delay))
    }
}
