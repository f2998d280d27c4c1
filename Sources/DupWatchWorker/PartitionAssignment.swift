/// Which worker runs which partition: every live worker computes the same answer from the same
/// facts (the live members and the current lease holders), like Kafka's sticky assignor.
///
/// - Even: each member gets `N / M` partitions, the first `N mod M` members (in name order)
///   one more.
/// - Sticky: a partition stays with its current holder while that holder is live and within
///   its share, so a member joining or leaving moves only the partitions that must move.
/// - Deterministic: partitions that move go, lowest first, to the members furthest below their
///   share, ties by name.
///
/// The assignment only says where partitions should be; the lease of each partition still
/// decides who may commit for it, so two workers that briefly disagree never both commit.
public enum PartitionAssignment {
    /// - Parameters:
    ///   - count: the number of partitions.
    ///   - members: the live workers' consumer names.
    ///   - holders: the current holder of each partition that has one.
    /// When to renew the membership and assign again (epoch ms): a third of a TTL from now, or
    /// just after the next other member's entry lapses if that is sooner. A member lapses only
    /// when it stopped renewing (a live one renews every third of a TTL), so its partitions are
    /// given out the moment it is gone rather than up to a third of a TTL later.
    public static func nextHeartbeatMs(nowMs: Int64, ttlMs: Int64, memberExpiries: [String: Int64], me: String) -> Int64 {
        let regular = nowMs + max(100, ttlMs / 3)
        let nextLapse = memberExpiries.filter { $0.key != me && $0.value > nowMs }.values.min()
        return min(regular, nextLapse.map { $0 + 1 } ?? regular)
    }

    public static func assign(count: Int, members: Set<String>, holders: [Int: String]) -> [Int: String] {
        let sorted = members.sorted()
        guard !sorted.isEmpty else { return [:] }
        var quota: [String: Int] = [:]
        for (index, member) in sorted.enumerated() {
            quota[member] = count / sorted.count + (index < count % sorted.count ? 1 : 0)
        }
        var assigned: [Int: String] = [:]
        var load: [String: Int] = Dictionary(uniqueKeysWithValues: sorted.map { ($0, 0) })
        for partition in 0..<count {
            guard let holder = holders[partition], let limit = quota[holder], load[holder]! < limit else { continue }
            assigned[partition] = holder
            load[holder]! += 1
        }
        for partition in 0..<count where assigned[partition] == nil {
            let member = sorted.max { a, b in
                let gapA = quota[a]! - load[a]!, gapB = quota[b]! - load[b]!
                return gapA != gapB ? gapA < gapB : a > b
            }!
            assigned[partition] = member
            load[member]! += 1
        }
        return assigned
    }
}
