import DupWatchStore
import DupWatchWorker
import Foundation
import RedisClient

/// The import holds the lease of every partition of the deployment, each exactly as a worker
/// takes it (`ExclusiveLease` over the worker's `Lease`, key `dupwatch:lease[:{T}]:<group>`):
/// a worker holding any of them makes the import refuse (or wait, with `--wait`), and while
/// the import holds them no worker commits there. Every partition is taken before anything is
/// written, because a file's customers reach nearly every partition, and a refusal half way
/// would leave a half import behind.
///
/// The leases are renewed between flushes, each a third of its TTL after it was taken or last
/// renewed (`PartitionCommits` says why not inside the commits), so neither a long stretch of
/// the file for other partitions nor one of rejected rows lets a lease lapse under the import.
/// A flush that took longer than two thirds of the TTL could still see a lease lapse; its next
/// commit on that partition then fails on the `WATCH`, and the import stops.
final class ImportLeases {
    private let redis: RedisCluster
    let leases: [ExclusiveLease]
    private let slots: [HashSlot]
    private var held: [Bool]
    private var renewedAt: [ContinuousClock.Instant]
    private let renewEvery: Duration

    init(redis: RedisCluster, partitions: [KeySchema], slots: [HashSlot], group: String, owner: String, ttl: Duration) {
        self.redis = redis
        leases = partitions.map { ExclusiveLease(keys: $0, group: group, owner: owner, ttl: ttl) }
        self.slots = slots
        held = Array(repeating: false, count: partitions.count)
        renewedAt = Array(repeating: .now, count: partitions.count)
        renewEvery = ttl / 3
    }

    /// Takes every partition's lease. Without `wait`, one held elsewhere makes it hand back
    /// what it took and throw `ImportError.leaseHeld`; with `wait`, it keeps (and renews) what
    /// it has and tries the others again when their leases lapse, calling `waiting` once per
    /// holder.
    func acquireAll(wait: Bool, waiting: (String) -> Void) throws {
        var told: Set<String> = []
        while true {
            var pauseMs: Int64?
            for partition in leases.indices where !held[partition] {
                switch try leases[partition].acquire(on: redis.connection(for: slots[partition])) {
                case .acquired:
                    held[partition] = true
                    renewedAt[partition] = .now
                case .heldBy(let holder, let lapses):
                    guard wait else {
                        releaseAll()
                        throw ImportError.leaseHeld(key: leases[partition].key, holder: holder)
                    }
                    if told.insert(holder).inserted { waiting(holder) }
                    pauseMs = min(pauseMs ?? 1000, min(max(lapses ?? 500, 50), 1000))
                }
            }
            updateNextDue()
            guard let pauseMs else { return }
            try renewIdle()
            usleep(useconds_t(pauseMs * 1000))
        }
    }

    /// Whether some held lease is due for a renewal (cheap: asked between any two chunks).
    var renewalDue: Bool { ContinuousClock.now >= nextDue }

    /// When the first held lease is due: kept up to date by every take and renewal.
    private var nextDue = ContinuousClock.now

    private func updateNextDue() {
        nextDue = leases.indices.filter { held[$0] }.map { renewedAt[$0] + renewEvery }.min() ?? .now + renewEvery
    }

    /// Renews the held leases taken or renewed a sixth of their TTL ago or more, once one is
    /// due (a third): leases taken together are renewed together, not one call each. The
    /// connections must have no replies owed.
    func renewIdle() throws {
        let now = ContinuousClock.now
        for partition in leases.indices where held[partition] && now - renewedAt[partition] >= renewEvery / 2 {
            guard try leases[partition].renew(on: redis.connection(for: slots[partition])) else {
                held[partition] = false
                throw ImportError.leaseLost(key: leases[partition].key)
            }
            renewedAt[partition] = now
        }
        updateNextDue()
    }

    /// Hands every held lease over, so that workers take the partitions at once. Best effort:
    /// one that cannot be released lapses after its TTL.
    func releaseAll() {
        for partition in leases.indices where held[partition] {
            try? leases[partition].release(on: redis.connection(for: slots[partition]))
            held[partition] = false
        }
    }
}
