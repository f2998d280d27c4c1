import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("Cluster redirects and slot maps (no I/O)")
struct ClusterLogicTests {
    @Test func redirectsAreReadFromErrorReplies() {
        #expect(ClusterRedirect(errorReply: "MOVED 3999 127.0.0.1:7001") == .moved(slot: HashSlot(3999)!, to: ClusterNode(host: "127.0.0.1", port: 7001)))
        #expect(ClusterRedirect(errorReply: "ASK 12 10.0.0.5:6380") == .ask(slot: HashSlot(12)!, to: ClusterNode(host: "10.0.0.5", port: 6380)))
        #expect(ClusterRedirect(errorReply: "MOVED 1 [::1]:7000") == .moved(slot: HashSlot(1)!, to: ClusterNode(host: "::1", port: 7000)))
        for busy in ["TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTERDOWN The cluster is down",
                     "MASTERDOWN Link with MASTER is down", "LOADING Redis is loading the dataset in memory"] {
            #expect(ClusterRedirect(errorReply: busy) == .retryLater, "\(busy)")
        }
        for other in ["ERR wrong number of arguments", "MOVED 99999 127.0.0.1:7001", "MOVED x 1:2", "ASK 1 nohost", "WRONGTYPE x", ""] {
            #expect(ClusterRedirect(errorReply: other) == nil, "\(other)")
        }
    }

    @Test func aSlotMapIsReadFromClusterSlotsAndPatchedByMoved() throws {
        let reply = RedisReply.array([
            .array([.integer(0), .integer(8191), .array([.bulk(Array("127.0.0.1".utf8)), .integer(7000), .bulk(Array("id-a".utf8))]),
                    .array([.bulk(Array("127.0.0.1".utf8)), .integer(7003), .bulk(Array("id-d".utf8))])]),
            .array([.integer(8192), .integer(16383), .array([.bulk([]), .integer(7001), .bulk(Array("id-b".utf8))])]),
        ])
        var map = try ClusterTopology(clusterSlots: reply, reachedAt: ClusterNode(host: "10.1.1.1", port: 7001))
        let a = ClusterNode(host: "127.0.0.1", port: 7000)
        let b = ClusterNode(host: "10.1.1.1", port: 7001)
        #expect(map.master(of: HashSlot(0)!) == a)
        #expect(map.master(of: HashSlot(8191)!) == a)
        #expect(map.master(of: HashSlot(8192)!) == b, "an empty host is the host the map was read from")
        #expect(map.replicas[a] == [ClusterNode(host: "127.0.0.1", port: 7003)])
        #expect(map.coversAllSlots && map.masters == [a, b])
        map.move(HashSlot(5)!, to: b)
        #expect(map.master(of: HashSlot(5)!) == b && map.master(of: HashSlot(6)!) == a)
        #expect(throws: RedisError.self) {
            try ClusterTopology(clusterSlots: .array([.array([.integer(0), .integer(20000), .array([.bulk([]), .integer(1)])])]),
                                reachedAt: a)
        }
    }

    @Test func aNodeListTakesTheFirstURLsCredentials() throws {
        let urls = try RedisURL.list(parsing: "redis://dupwatch:s3cret@127.0.0.1:7000, 127.0.0.1:7001,redis://other:pw@10.0.0.1:7002")
        #expect(urls.map(\.port) == [7000, 7001, 7002])
        #expect(urls[1].username == "dupwatch" && urls[1].password == "s3cret")
        #expect(urls[2].username == "other")
        #expect(try RedisURL.list(parsing: "redis://127.0.0.1:6379").count == 1)
        #expect(throws: RedisURLError.self) { try RedisURL.list(parsing: "") }
        #expect(throws: RedisURLError.self) { try RedisURL.list(parsing: "redis://127.0.0.1:7000,127.0.0.1:notaport") }
    }
}

@Suite("RedisCluster against a real 6-node cluster", .serialized)
struct ClusterTests {
    @Test func commandsAreRoutedBySlotAndTheSlotsAgreeWithRedis() throws {
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: [cluster.seeds[0]])
        #expect(client.topology.coversAllSlots && client.topology.masters.count == 3)
        for key in ["foo", "bar", "cart:{c42}", "stream:cart:events:{p3-7}", "ünïcode"] {
            // Our CRC16 gives the slot Redis gives.
            let slot = try client.command("CLUSTER", "KEYSLOT", key).int
            #expect(Int(slot) == Int(HashSlot(key: key).value), "\(key)")
            try client.command("SET", key, "v-\(key)")
            #expect(try client.command("GET", key).string == "v-\(key)")
            // It is stored on the master of its slot, and only there.
            let owner = try cluster.master(of: HashSlot(key: key))
            #expect(try owner.connect().command("EXISTS", key).int == 1)
        }
    }

    /// A caller that wrote commands and failed before reading their replies must not hand the
    /// next caller a connection whose next reply answers one of those commands.
    @Test func aConnectionLeftOwingRepliesIsReplaced() throws {
        let server = try RedisTestServer()
        let client = try RedisCluster(seeds: [server.url]) // not in cluster mode: one node
        try client.command("SET", "k", "v")
        let slot = HashSlot(key: "k")
        try client.connection(for: slot).write([RedisCommand("INCR", "counter"), RedisCommand("INCR", "counter")])
        #expect(try client.command("GET", "k").string == "v")
        #expect(try client.connection(for: slot).send(RedisCommand("PING")).string == "PONG")
    }

    @Test func aMovedSlotIsFollowedAndRemembered() throws {
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        let key = "moved-key"
        let slot = HashSlot(key: key)
        try client.command("SET", key, "1")
        let source = try cluster.master(of: slot)
        let target = try #require(cluster.nodes.first { node in
            node.port != source.port && (try? cluster.currentTopology().masters.contains { $0.port == node.port }) == true
        })
        let targetID = try target.connect().command("CLUSTER", "MYID").string
        let sourceID = try source.connect().command("CLUSTER", "MYID").string
        // Migrate the slot: IMPORTING on the target, MIGRATING on the source, the key moved, then
        // the slot given to the target everywhere.
        try target.connect().command("CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID)
        try source.connect().command("CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID)
        // Once the key has moved, the migrating source answers ASK for it.
        try source.connect().command("MIGRATE", "127.0.0.1", "\(target.port)", key, "0", "5000")
        #expect(try client.command("GET", key).string == "1", "ASK to the importing node")
        #expect(client.topology.master(of: slot)?.port == source.port, "an ASK leaves the map as it is")
        let masters = try cluster.currentTopology().masters
        for node in cluster.nodes where masters.contains(where: { $0.port == node.port }) {
            try node.connect().command("CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID)
        }
        #expect(try client.command("GET", key).string == "1", "MOVED to the new owner")
        #expect(client.topology.master(of: slot)?.port == target.port, "a MOVED updates the map")
    }

    @Test func afterAMasterIsKilledItsReplicaServesItsSlots() async throws {
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        let key = "survivor"
        try client.command("SET", key, "before")
        let master = try cluster.master(of: HashSlot(key: key))
        // Make sure the replica has the write before the master dies.
        let replicated = try await eventually(timeout: 15) { try master.connect().command("WAIT", "1", "1000").int == 1 }
        #expect(replicated, "no replica acknowledged the write")
        master.kill()
        let started = Date()
        var value: String?
        while Date().timeIntervalSince(started) < 30 {
            if let reply = try? client.command("GET", key), let text = try? reply.string {
                value = text
                break
            }
        }
        #expect(value == "before", "the replica did not take over within 30 s")
        #expect(client.topology.master(of: HashSlot(key: key))?.port != master.port)
    }
}
