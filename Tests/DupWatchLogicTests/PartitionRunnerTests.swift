import DupWatchWorker
import Testing

@Suite("Partition runner decisions")
struct PartitionRunnerTests {
    private let ttl: Int64 = 9_000

    /// A runner that took its lease at 0 and resumed: reading.
    private func running() -> PartitionRunner {
        var runner = PartitionRunner(partition: 0, leaseTTLMs: ttl)
        runner.assignment(mine: true)
        _ = runner.next(nowMs: 0)
        runner.leaseAcquired(nowMs: 0)
        runner.resumed()
        return runner
    }

    @Test func anUnassignedPartitionWaitsAndAnAssignedOneTakesItsLeaseThenResumesThenReads() {
        var runner = PartitionRunner(partition: 3, leaseTTLMs: ttl)
        #expect(runner.next(nowMs: 0) == .wait(untilMs: .max))
        runner.assignment(mine: true)
        #expect(runner.next(nowMs: 0) == .acquireLease)
        runner.leaseAcquired(nowMs: 0)
        #expect(runner.next(nowMs: 1) == .resume, "nothing is read before the committed position")
        runner.resumed()
        #expect(runner.next(nowMs: 2) == .read)
        runner.read(entries: 0)
        #expect(runner.next(nowMs: 3) == .read)
        runner.read(entries: 250)
        #expect(runner.next(nowMs: 4) == .commit)
        runner.committed(nowMs: 5)
        #expect(runner.state == .running)
    }

    @Test func aLeaseHeldElsewhereIsTriedAgainAfterAThirdOfItsTTL() {
        var runner = PartitionRunner(partition: 0, leaseTTLMs: ttl)
        runner.assignment(mine: true)
        #expect(runner.next(nowMs: 100) == .acquireLease)
        runner.leaseHeldElsewhere(nowMs: 100)
        #expect(runner.next(nowMs: 101) == .wait(untilMs: 3_100))
        #expect(runner.next(nowMs: 3_100) == .acquireLease)
    }

    @Test func aLeaseThatLapsesSoonerIsTriedAgainJustAfterItLapses() {
        var runner = PartitionRunner(partition: 0, leaseTTLMs: ttl)
        runner.assignment(mine: true)
        #expect(runner.next(nowMs: 100) == .acquireLease)
        runner.leaseHeldElsewhere(nowMs: 100, lapsesInMs: 700)
        #expect(runner.next(nowMs: 101) == .wait(untilMs: 801))
        #expect(runner.next(nowMs: 801) == .acquireLease)
        // A live holder's lease (renewed every third of a TTL) is asked again no sooner than before.
        runner.leaseHeldElsewhere(nowMs: 801, lapsesInMs: 8_500)
        #expect(runner.next(nowMs: 802) == .wait(untilMs: 3_801))
    }

    @Test func anIdlePartitionRenewsItsLeaseBeforeAThirdOfTheTTLPasses() {
        var runner = running()
        #expect(runner.next(nowMs: 2_999) == .read)
        #expect(runner.next(nowMs: 3_000) == .renewLease)
        runner.renewed(nowMs: 3_000)
        #expect(runner.next(nowMs: 3_001) == .read)
        // A commit renews it too.
        runner.read(entries: 1)
        runner.committed(nowMs: 5_000)
        #expect(runner.next(nowMs: 7_999) == .read)
    }

    @Test func aPartitionMovedAwayIsReleasedOnlyAfterTheBatchInHandCommits() {
        var runner = running()
        runner.read(entries: 10)
        runner.assignment(mine: false)
        #expect(runner.next(nowMs: 1) == .commit)
        runner.committed(nowMs: 2)
        #expect(runner.next(nowMs: 3) == .releaseLease)
        runner.released()
        #expect(runner.next(nowMs: 4) == .wait(untilMs: .max))
        #expect(!runner.holdsLease)
    }

    @Test func aLostLeaseDropsTheBatchInHand() {
        var runner = running()
        runner.read(entries: 10)
        runner.leaseLost(nowMs: 50)
        #expect(runner.state == .idle && !runner.holdsLease)
        #expect(runner.next(nowMs: 51) == .wait(untilMs: 3_050), "not committed, not read again until the lease is ours")
    }

    @Test func afterAnErrorNothingIsTrustedUntilTheRunnerResumesAtTheCommittedPosition() {
        var runner = running()
        runner.read(entries: 10)
        runner.failed(nowMs: 100, delayMs: 400)
        #expect(runner.next(nowMs: 200) == .wait(untilMs: 500))
        #expect(runner.next(nowMs: 500) == .resume, "the batch in hand is read again from the committed position")
        // Failing while not holding the lease leads back to acquiring it.
        var standby = PartitionRunner(partition: 1, leaseTTLMs: ttl)
        standby.assignment(mine: true)
        standby.failed(nowMs: 0, delayMs: 100)
        #expect(standby.next(nowMs: 100) == .acquireLease)
    }

    @Test func backoffGrowsWithRepeatedFailuresAndResetsOnACommit() {
        var runner = PartitionRunner(partition: 0, leaseTTLMs: ttl, maxBackoffMs: 10_000)
        runner.assignment(mine: true)
        runner.leaseAcquired(nowMs: 0)
        var delays: [Int64] = []
        for _ in 0..<5 {
            runner.failed(nowMs: 0)
            if case .backingOff(let until) = runner.state { delays.append(until) }
        }
        #expect(delays.count == 5)
        #expect(delays.last! >= 800, "\(delays)")   // 1,600 ms ceiling, at least half of it
        runner.resumed()
        runner.read(entries: 1)
        runner.committed(nowMs: 0)
        runner.failed(nowMs: 0)
        if case .backingOff(let until) = runner.state { #expect(until <= 100, "back to the first delay: \(until)") }
    }
}
