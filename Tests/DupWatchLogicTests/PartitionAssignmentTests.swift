import DupWatchWorker
import TestSupport
import Testing

@Suite("Partition assignment")
struct PartitionAssignmentTests {
    private func shares(_ assignment: [Int: String]) -> [String: Int] {
        assignment.values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    @Test func everyPartitionGetsOneLiveMemberAndSharesDifferByAtMostOne() {
        for (count, members) in [(64, 3), (16, 16), (8, 3), (1024, 7), (4, 6)] {
            let names = Set((0..<members).map { "w\($0)" })
            let assignment = PartitionAssignment.assign(count: count, members: names, holders: [:])
            #expect(assignment.count == count)
            #expect(Set(assignment.values).isSubset(of: names))
            let loads = names.map { shares(assignment)[$0] ?? 0 }
            #expect(loads.max()! - loads.min()! <= 1, "\(count) over \(members): \(loads)")
        }
        #expect(PartitionAssignment.assign(count: 8, members: [], holders: [:]).isEmpty)
    }

    @Test func theNextHeartbeatComesJustAfterAnotherMembersEntryLapsesIfThatIsSooner() {
        let ttl: Int64 = 9_000
        // Alone, or with members that renewed lately: a third of a TTL.
        #expect(PartitionAssignment.nextHeartbeatMs(nowMs: 1_000, ttlMs: ttl, memberExpiries: ["me": 10_000], me: "me") == 4_000)
        #expect(PartitionAssignment.nextHeartbeatMs(nowMs: 1_000, ttlMs: ttl, memberExpiries: ["me": 10_000, "b": 9_500], me: "me") == 4_000)
        // A member that stopped renewing lapses at 2,500: assign again right after.
        #expect(PartitionAssignment.nextHeartbeatMs(nowMs: 1_000, ttlMs: ttl, memberExpiries: ["me": 10_000, "b": 9_500, "dead": 2_500], me: "me") == 2_501)
        // Entries already lapsed (removed before the read) and this worker's own do not count.
        #expect(PartitionAssignment.nextHeartbeatMs(nowMs: 1_000, ttlMs: ttl, memberExpiries: ["me": 1_200, "gone": 900], me: "me") == 4_000)
    }

    @Test func aJoiningMemberTakesOnlyWhatItNeeds() {
        let before = PartitionAssignment.assign(count: 64, members: ["a", "b"], holders: [:])
        let after = PartitionAssignment.assign(count: 64, members: ["a", "b", "c"], holders: before)
        let moved = (0..<64).filter { before[$0] != after[$0] }
        #expect(moved.count == 21, "\(moved.count) moved")
        #expect(moved.allSatisfy { after[$0] == "c" })
        #expect(shares(after) == ["a": 22, "b": 21, "c": 21])
    }

    @Test func aLeavingMembersPartitionsAreSharedOutAndNothingElseMoves() {
        let before = PartitionAssignment.assign(count: 64, members: ["a", "b", "c"], holders: [:])
        let after = PartitionAssignment.assign(count: 64, members: ["a", "c"], holders: before)
        for partition in 0..<64 where before[partition] != "b" {
            #expect(after[partition] == before[partition], "partition \(partition) moved")
        }
        #expect(shares(after) == ["a": 32, "c": 32])
    }

    @Test func everyMemberComputesTheSameAnswer() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<200 {
            let members = Set((0..<(1 + random.int(6))).map { _ in "w\(random.int(9))" })
            var holders: [Int: String] = [:]
            for partition in 0..<32 where random.chance(70) { holders[partition] = "w\(random.int(9))" }
            let first = PartitionAssignment.assign(count: 32, members: members, holders: holders)
            let shuffled = Set(members.shuffled())
            #expect(PartitionAssignment.assign(count: 32, members: shuffled, holders: holders) == first)
            #expect(first.count == 32 && Set(first.values).isSubset(of: members))
            // A live holder within its share keeps its partition.
            let loads = shares(first)
            for (partition, holder) in holders where members.contains(holder) && first[partition] != holder {
                #expect(loads[holder]! >= 32 / members.count, "\(holder) lost partition \(partition) while under its share")
            }
        }
    }
}
