import Foundation
import Testing
import DupWatchWorker

/// The `/readyz` decision as a pure function of what the worker last said.
@Suite("Worker status: readiness")
struct WorkerStatusTests {
    private let t0 = ContinuousClock.now

    private func snapshot(_ role: WorkerStatus.Role, ttl: Duration = .seconds(10), answeredAgo: Duration?,
                          error: String? = nil) -> WorkerStatus.Snapshot {
        WorkerStatus.Snapshot(role: role, leaseTTL: ttl, lastSuccess: answeredAgo.map { t0 - $0 },
                              lastError: error, lastErrorAt: error.map { _ in t0 })
    }

    private func ready(_ snapshot: WorkerStatus.Snapshot) -> Bool {
        WorkerStatus.readiness(of: snapshot, now: t0).ready
    }

    @Test func anOwnerOrAStandbyThatRedisAnswersIsReady() {
        let owner = WorkerStatus.readiness(of: snapshot(.owner(partitions: [0]), answeredAgo: .milliseconds(300)), now: t0)
        #expect(owner.ready)
        #expect(owner.checks["redis"] == "ok: answered 0.3 s ago")
        #expect(owner.checks["role"] == "ok: owner of partition 0")

        let standby = WorkerStatus.readiness(of: snapshot(.standby(holder: "host-1-abc"), answeredAgo: .seconds(1)), now: t0)
        #expect(standby.ready)
        #expect(standby.checks["role"] == "ok: standby, the lease is held by host-1-abc")

        let partitioned = WorkerStatus.readiness(of: snapshot(.owner(partitions: [1, 3]), answeredAgo: .zero), now: t0)
        #expect(partitioned.ready)
        #expect(partitioned.checks["role"] == "ok: owner of partitions 1, 3")
        // Partitioned, holding nothing because other workers hold everything: a healthy standby.
        #expect(ready(snapshot(.standby(holder: nil), answeredAgo: .seconds(2))))
    }

    @Test func startingOrStoppedIsNotReadyEvenWithRedisAnswering() {
        let starting = WorkerStatus.readiness(of: snapshot(.starting, answeredAgo: .zero), now: t0)
        #expect(!starting.ready)
        #expect(starting.checks["role"] == "failing: starting")
        #expect(starting.checks["redis"]?.hasPrefix("ok") == true)
        #expect(!ready(snapshot(.stopped, answeredAgo: .zero)))
    }

    @Test func redisCountsAsAnsweringForThreeLeaseTTLs() {
        // TTL 10 s: the window is 30 s.
        #expect(ready(snapshot(.owner(partitions: [0]), answeredAgo: .seconds(29))))
        #expect(ready(snapshot(.owner(partitions: [0]), answeredAgo: .seconds(30))))
        let stale = WorkerStatus.readiness(of: snapshot(.owner(partitions: [0]), answeredAgo: .milliseconds(30_100),
                                                        error: "connection refused"), now: t0)
        #expect(!stale.ready)
        #expect(stale.checks["redis"] == "failing: no answer for 30.1 s (more than 30.0 s) (last error: connection refused)")
        // The role is still what the worker last knew; Redis decides.
        #expect(stale.checks["role"] == "ok: owner of partition 0")
        #expect(!ready(snapshot(.standby(holder: nil), answeredAgo: .seconds(31))))
    }

    @Test func theWindowIsAtLeastFiveSeconds() {
        // TTL 1 s: 3 × TTL is 3 s, but the window is 5 s.
        #expect(ready(snapshot(.owner(partitions: [0]), ttl: .seconds(1), answeredAgo: .milliseconds(4_900))))
        #expect(!ready(snapshot(.owner(partitions: [0]), ttl: .seconds(1), answeredAgo: .milliseconds(5_100))))
        #expect(WorkerStatus.Snapshot(leaseTTL: .seconds(1)).staleAfter == .seconds(5))
        #expect(WorkerStatus.Snapshot(leaseTTL: .seconds(2)).staleAfter == .seconds(6))
    }

    @Test func neverAnsweredIsNotReadyAndSaysWhy() {
        let result = WorkerStatus.readiness(of: snapshot(.starting, answeredAgo: nil, error: "connection refused"), now: t0)
        #expect(!result.ready)
        #expect(result.checks["redis"] == "failing: no answer yet (last error: connection refused)")
        // Even an owner (it cannot be one without Redis, but the decision does not rely on that).
        #expect(!ready(snapshot(.owner(partitions: [0]), answeredAgo: nil)))
    }

    @Test func aSuccessStampedAfterNowCountsAsJustNow() {
        // Another thread may stamp a success between the reader's clock read and its snapshot.
        let result = WorkerStatus.readiness(of: snapshot(.owner(partitions: [0]), answeredAgo: .milliseconds(-5)), now: t0)
        #expect(result.ready)
        #expect(result.checks["redis"] == "ok: answered 0.0 s ago")
    }

    @Test func aFreshStatusIsStartingAndTheWorkerThreadsUpdatesShowInSnapshots() {
        let status = WorkerStatus()
        #expect(status.snapshot == WorkerStatus.Snapshot())
        #expect(!status.readiness().ready)

        status.started(leaseTTL: .seconds(2))
        status.redisFailed("connection refused", at: t0)
        #expect(status.snapshot.leaseTTL == .seconds(2))
        #expect(status.snapshot.lastError == "connection refused")
        #expect(!status.readiness(now: t0).ready)

        status.redisAnswered(at: t0)
        status.setRole(.owner(partitions: [0]))
        #expect(status.readiness(now: t0 + .seconds(6)).ready)
        #expect(!status.readiness(now: t0 + .milliseconds(6_100)).ready)
        // The last error stays on record for the checks after Redis is back.
        #expect(status.snapshot.lastError == "connection refused")
    }

    @Test func oneThreadWritesWhileAnotherReads() async {
        let status = WorkerStatus()
        status.started(leaseTTL: .seconds(1))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let writer = Thread {
                for index in 0..<5_000 {
                    status.redisAnswered()
                    status.setRole(index % 2 == 0 ? .owner(partitions: [0]) : .standby(holder: "other"))
                }
                done.resume()
            }
            writer.start()
            for _ in 0..<5_000 {
                // Whatever the interleaving, a read sees a whole snapshot: both roles are ready ones.
                let (ready, checks) = status.readiness()
                if ready { #expect(checks["role"]?.hasPrefix("ok") == true) }
            }
        }
        #expect(status.snapshot.role == .standby(holder: "other"))
        #expect(status.snapshot.lastSuccess != nil)
    }
}
