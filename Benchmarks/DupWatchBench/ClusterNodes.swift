import Foundation
public import RedisClient

/// The nodes of the cluster under measurement, masters and replicas, each with a connection of
/// its own for `INFO` and the phase's set-up (`FLUSHALL`, `WAIT`); the `RedisCluster` client
/// routes by slot. Used from one thread.
public final class ClusterNodes {
    public let seeds: [RedisURL]
    public let cluster: RedisCluster
    public let masters: [ClusterNode]
    public let replicas: [ClusterNode]
    private var connections: [ClusterNode: RedisConnection] = [:]

    public init(seeds: [RedisURL]) throws {
        self.seeds = seeds
        let cluster = try RedisCluster(seeds: seeds, commandTimeoutMs: 120_000)
        let topology = cluster.topology
        let masters = topology.masters.sorted { $0.description < $1.description }
        self.cluster = cluster
        self.masters = masters
        // Not `CLUSTER SLOTS`: Redis 7.0 leaves out a replica that has not acknowledged any
        // replication offset yet, as on a cluster that has taken no write.
        let lines = try cluster.connection(for: HashSlot(0)!).command("CLUSTER", "NODES").string
        replicas = try Self.replicas(clusterNodes: lines, of: masters)
    }

    /// The replicas in a `CLUSTER NODES` reply (`<id> <host:port@bus> <flags> <master id> ...`),
    /// in the order of their masters in `masters`.
    public static func replicas(clusterNodes text: String, of masters: [ClusterNode]) throws -> [ClusterNode] {
        let rows = text.split(separator: "\n").map { $0.split(separator: " ") }.filter { $0.count >= 4 }
        func node(_ row: [Substring]) -> ClusterNode? {
            ClusterNode(address: row[1].split(separator: "@").first ?? "")
        }
        var idOf: [ClusterNode: Substring] = [:]
        for row in rows { if let node = node(row) { idOf[node] = row[0] } }
        return masters.flatMap { master in
            rows.filter { row in
                let flags = row[2].split(separator: ",")
                return flags.contains("slave") && !flags.contains("fail") && row[3] == idOf[master]
            }.compactMap(node)
        }
    }

    public var all: [ClusterNode] { masters + replicas }

    /// The master that serves `slot`.
    public func master(of slot: HashSlot) -> ClusterNode? { cluster.topology.master(of: slot) }

    public func connection(to node: ClusterNode) throws -> RedisConnection {
        if let existing = connections[node], !existing.isBroken { return existing }
        var url = seeds[0]
        url.host = node.host
        url.port = node.port
        let connection = try RedisConnection(url: url, commandTimeoutMs: 120_000)
        connections[node] = connection
        return connection
    }

    /// Every node's counters now, in `all`'s order.
    public func counters() throws -> [NodeCounters] {
        try all.map { try NodeCounters.read(connection(to: $0), node: $0.description) }
    }

    /// `FLUSHALL` on every master (replicas follow), then no AOF rewrite in progress.
    public func flushAll() throws {
        for master in masters {
            let connection = try connection(to: master)
            try connection.command("FLUSHALL").throwIfError()
        }
        try settle()
    }

    /// Waits until every replica has what its master wrote, and no AOF rewrite runs, so that
    /// neither is billed to the phase measured next. Returns the commands it sent to each
    /// master besides `INFO`, for a phase that ends with it to leave out.
    @discardableResult
    public func settle() throws -> [String: [String: Int64]] {
        var sent: [String: [String: Int64]] = [:]
        for master in masters {
            let connection = try connection(to: master)
            let wanted = cluster.topology.replicas[master]?.count ?? 0
            if wanted > 0 {
                // WAIT covers this connection's writes only; a write of its own (removed at
                // once) marks "now".
                let key = settleKey(on: master)
                try connection.command("SET", key, "1").throwIfError()
                try connection.command("DEL", key).throwIfError()
                try connection.command("WAIT", String(wanted), "10000").throwIfError()
                sent[master.description] = ["set": 1, "del": 1, "wait": 1]
            }
        }
        for node in all { try RedisInfo.waitForAOFRewrite(connection(to: node)) }
        return sent
    }

    /// The keys on the masters that are in none of `slots`: `DBSIZE` minus
    /// `CLUSTER COUNTKEYSINSLOT` of each of `slots` that the master serves.
    public func keysOutside(_ slots: Set<HashSlot>) throws -> Int64 {
        var outside: Int64 = 0
        for master in masters {
            let connection = try connection(to: master)
            outside += try connection.command("DBSIZE").int
            for slot in slots where cluster.topology.master(of: slot) == master {
                outside -= try connection.command("CLUSTER", "COUNTKEYSINSLOT", slot.description).int
            }
        }
        return outside
    }

    /// A key in a slot that `master` serves.
    private func settleKey(on master: ClusterNode) -> String {
        var candidate = 0
        while true {
            let key = "dupwatch-bench:settle:\(candidate)"
            if cluster.topology.master(of: HashSlot(key: key)) == master { return key }
            candidate += 1
        }
    }
}
