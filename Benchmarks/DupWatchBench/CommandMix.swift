/// A node's commands of one phase, split the way issue 16 asks about them: coordination
/// (what workers send to share partitions, not to process events), the lease check that every
/// batch carries, and the work itself.
///
/// Counted from `INFO commandstats`, which names commands, not their purpose, so a command is
/// coordination only when nothing else sends it, or when it is provably the coordination copy
/// of a shared name:
/// - only coordination sends `CLUSTER *` (slot-map refreshes), `ZREMRANGEBYSCORE`, `ZRANGE`,
///   `ZREM` (membership), `SET` (a lease taken or handed over), `UNWATCH`, `INCR`,
///   `XGROUP CREATE`, `XINFO GROUPS` (a partition resumed) and connection set-up (`AUTH`,
///   `HELLO`, `SELECT`, `CLIENT *`, `PING`);
/// - `ZADD` is also the order-history index: a heartbeat sends one `ZADD` and one
///   `ZREMRANGEBYSCORE` on the members key, so as many `ZADD`s as `ZREMRANGEBYSCORE`s are
///   coordination;
/// - `GET` reads nothing but leases and counters: each `WATCH` (a batch's lease check, or a
///   lease taken, renewed, handed over) is followed by one `GET` of the holder, and that pair is
///   the per-batch fencing; the `GET`s beyond them read the lease holders for the assignment.
/// A lease renewed on its own (an idle partition) is `WATCH`, `GET`, `MULTI`, `PEXPIRE`,
/// `EXEC`: its `MULTI/EXEC/PEXPIRE` look like a commit's and count as work. The benchmark's own
/// commands (`INFO`, its `XINFO GROUPS` samples) are taken out first.
public struct CommandMix: Sendable, Equatable, Codable {
    public var coordination: Int64
    /// `WATCH` + `GET` of the lease holder, once per batch (and per lease operation).
    public var fencing: Int64
    public var work: Int64

    public init(coordination: Int64, fencing: Int64, work: Int64) {
        self.coordination = coordination
        self.fencing = fencing
        self.work = work
    }

    /// - Parameters:
    ///   - calls: calls per command (`cmdstat_` names) in the phase.
    ///   - own: the benchmark's own calls among them, left out of every class.
    public init(calls: [String: Int64], own: [String: Int64] = [:]) {
        var remaining = calls.merging(own.mapValues { -$0 }, uniquingKeysWith: +).mapValues { max(0, $0) }
        remaining["info"] = nil
        func take(_ name: String, _ count: Int64? = nil) -> Int64 {
            let available = remaining[name] ?? 0
            let taken = min(available, count ?? available)
            remaining[name] = available - taken
            return taken
        }
        var coordination: Int64 = 0
        for name in Array(remaining.keys) where Self.onlyCoordination(name) { coordination += take(name) }
        coordination += take("zadd", calls["zremrangebyscore"] ?? 0)
        let watches = take("watch")
        let fencing = watches + take("get", watches)
        coordination += take("get")
        self.init(coordination: coordination, fencing: fencing, work: remaining.values.reduce(0, +))
    }

    public var total: Int64 { coordination + fencing + work }

    static func onlyCoordination(_ name: String) -> Bool {
        if name.hasPrefix("cluster|") || name.hasPrefix("client|") { return true }
        return ["zremrangebyscore", "zrange", "zrem", "set", "unwatch", "incr", "xgroup|create", "xinfo|groups",
                "auth", "hello", "select", "ping"].contains(name)
    }

    public static func + (a: CommandMix, b: CommandMix) -> CommandMix {
        CommandMix(coordination: a.coordination + b.coordination, fencing: a.fencing + b.fencing, work: a.work + b.work)
    }
}
