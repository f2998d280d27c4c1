import Foundation
public import RedisClient

/// A throwaway Redis Cluster: `masters` nodes with `replicas` each, every node a
/// `RedisTestServer` on free loopback ports (its cluster bus port chosen free too) in its own
/// temp directory, created with `redis-cli --cluster create`. A short node timeout keeps
/// failovers to seconds. Everything is stopped and removed when the instance goes away.
public final class RedisTestCluster: @unchecked Sendable {
    public let nodes: [RedisTestServer]
    public let nodeTimeoutMs: Int

    public init(masters: Int = 3, replicas: Int = 1, nodeTimeoutMs: Int = 1500, extraArguments: [String] = []) throws {
        self.nodeTimeoutMs = nodeTimeoutMs
        var nodes: [RedisTestServer] = []
        for _ in 0..<(masters * (1 + replicas)) {
            let busPort = try RedisTestServer.freeLoopbackPort()
            nodes.append(try RedisTestServer(extraArguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "\(nodeTimeoutMs)", "--cluster-port", "\(busPort)",
                "--appendonly", "yes", "--appendfsync", "everysec",
            ] + extraArguments))
        }
        self.nodes = nodes
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        create.arguments = ["redis-cli", "--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
            + ["--cluster-replicas", "\(replicas)", "--cluster-yes"]
        let output = Pipe()
        create.standardOutput = output
        create.standardError = output
        try create.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        create.waitUntilExit()
        guard create.terminationStatus == 0 else {
            throw TestSupportError("redis-cli --cluster create failed (status \(create.terminationStatus)):\n\(text)")
        }
        try waitUntilHealthy(replicas: masters * replicas)
    }

    /// Every node's URL, comma-separated: a `--redis-url` with all of them as seeds.
    public var seedList: String {
        nodes.map { "redis://127.0.0.1:\($0.port)" }.joined(separator: ",")
    }

    public var seeds: [RedisURL] { nodes.map(\.url) }

    /// The running node that is the master of `slot` now.
    public func master(of slot: HashSlot) throws -> RedisTestServer {
        let topology = try currentTopology()
        guard let node = topology.master(of: slot), let server = nodes.first(where: { $0.port == node.port }) else {
            throw TestSupportError("no master serves slot \(slot)")
        }
        return server
    }

    public func currentTopology() throws -> ClusterTopology {
        for node in nodes where node.isRunning {
            guard let connection = try? node.connect() else { continue }
            let map = try ClusterTopology(clusterSlots: try connection.command("CLUSTER", "SLOTS"),
                                          reachedAt: ClusterNode(host: "127.0.0.1", port: node.port))
            if map.coversAllSlots { return map }
        }
        throw TestSupportError("no running node reports a slot map that covers every slot")
    }

    /// Waits until every running node says `cluster_state:ok` and `replicas` replicas are attached.
    public func waitUntilHealthy(replicas: Int? = nil, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            do {
                var healthy = true
                for node in nodes where node.isRunning {
                    let info = try node.connect().command("CLUSTER", "INFO").string
                    if !info.contains("cluster_state:ok") { healthy = false; last = "node \(node.port): \(info.prefix(40))" }
                }
                if healthy, let replicas {
                    // Attached and in sync: a replica's link to its master is up.
                    var synced = 0
                    for node in nodes where node.isRunning {
                        let info = try node.connect().command("INFO", "replication").string
                        if info.contains("role:slave"), info.contains("master_link_status:up") { synced += 1 }
                    }
                    if synced < replicas { healthy = false; last = "\(synced) of \(replicas) replicas in sync" }
                }
                if healthy { return }
            } catch {
                last = "\(error)"
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestSupportError("the cluster did not become healthy within \(timeout) s (\(last))")
    }
}
