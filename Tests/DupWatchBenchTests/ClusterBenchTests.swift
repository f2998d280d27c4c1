import DupWatchBench
import RedisClient
import Testing

@Suite("Cluster benchmark: INFO counters, command classes, capacity model")
struct ClusterBenchTests {
    @Test func infoGivesCPUCommandsAndErrors() {
        let info = """
            # Server\r
            redis_version:7.0.15\r
            # Replication\r
            role:slave\r
            # CPU\r
            used_cpu_sys:1.500000\r
            used_cpu_user:2.250000\r
            used_cpu_sys_children:0.250000\r
            used_cpu_user_children:0.000000\r
            used_cpu_sys_main_thread:1.000000\r
            used_cpu_user_main_thread:2.000000\r
            # Commandstats\r
            cmdstat_xadd:calls=120,usec=900,usec_per_call=7.50,rejected_calls=0,failed_calls=0\r
            cmdstat_cluster|slots:calls=3,usec=60,usec_per_call=20.00,rejected_calls=0,failed_calls=0\r
            # Errorstats\r
            errorstat_CROSSSLOT:count=2\r
            """
        let counters = NodeCounters(node: "127.0.0.1:7003", info: info)
        #expect(counters.isReplica)
        #expect(counters.mainThreadCPUMicros == 3_000_000)
        #expect(counters.processCPUMicros == 4_000_000) // children (AOF rewrites) included
        #expect(counters.calls == ["xadd": 120, "cluster|slots": 3])
        #expect(counters.errors == ["CROSSSLOT": 2])
    }

    @Test func aPhaseIsTheDifferenceOfTwoReadings() {
        let before = NodeCounters(node: "n", mainThreadCPUMicros: 10, processCPUMicros: 20,
                                  calls: ["xadd": 5, "get": 7], errors: ["MOVED": 1])
        let after = NodeCounters(node: "n", mainThreadCPUMicros: 15, processCPUMicros: 32,
                                 calls: ["xadd": 9, "get": 7, "watch": 2], errors: ["MOVED": 1])
        let phase = after - before
        #expect(phase.mainThreadCPUMicros == 5)
        #expect(phase.processCPUMicros == 12)
        #expect(phase.calls == ["xadd": 4, "watch": 2]) // unchanged counters drop out
        #expect(phase.errors.isEmpty)
    }

    @Test func sharedNamesCountAsCoordinationOnlyForTheirCoordinationCopies() {
        // 10 heartbeats (ZADD + ZREMRANGEBYSCORE + ZRANGE + 8 holder GETs each), 400 batches
        // (WATCH + GET of the lease, a ZADD of the history index in 300 of them), 2 leases taken.
        let calls: [String: Int64] = [
            "zadd": 310, "zremrangebyscore": 10, "zrange": 10, "get": 480, "watch": 400, "set": 2,
            "cluster|slots": 1, "xread": 400, "multi": 402, "exec": 402, "hset": 900, "info": 1, "xinfo|groups": 30,
        ]
        let mix = CommandMix(calls: calls, own: ["xinfo|groups": 24])
        #expect(mix.coordination == 10 + 10 + 10 + 80 + 2 + 1 + 6) // ZADD, ZREMRANGEBYSCORE, ZRANGE, GET, SET, CLUSTER, XINFO
        #expect(mix.fencing == 800)
        #expect(mix.work == 300 + 400 + 402 + 402 + 900) // the history ZADDs stay work; INFO is the benchmark's
    }

    @Test func moreWatchesThanGetsLeaveNoGetToCoordination() {
        let mix = CommandMix(calls: ["watch": 5, "get": 3])
        #expect(mix == CommandMix(coordination: 0, fencing: 8, work: 0))
    }

    @Test func aSingleNodeDrainLeavesTheWorkersCommandsWithoutThePushOrTheChecks() {
        let calls: [String: Int64] = ["xadd": 1_120, "flushall": 1, "info": 6, "xlen": 2, "xpending": 3, "config|resetstat": 1,
                                      "exec": 3, "hset": 40, "xread": 4]
        // 1,000 entries pushed: the other 120 XADDs are the worker's alerts and dead letters.
        #expect(DrainBenchmark.workerCalls(from: calls, pushed: 1_000) == ["xadd": 120, "exec": 3, "hset": 40, "xread": 4])
    }

    @Test func capacityGrowsWithWholePartitionsPerMaster() {
        let model = CapacityModel(partitions: 8, redisMicrosPerEvent: 20, workerMicrosPerEvent: 25)
        #expect(model.bottleneck == "worker")
        #expect(model.eventsPerSecond(masters: 1) == 40_000)
        #expect(model.eventsPerSecond(masters: 2) == 80_000)
        // 8 partitions on 3 masters: the busiest holds 3, so 8/3 of one core, not 3.
        #expect(abs(model.eventsPerSecond(masters: 3) - 8.0 / 3.0 * 40_000) < 1e-6)
        // Never more than one core per partition.
        #expect(model.eventsPerSecond(masters: 16) == 8 * 40_000)
        #expect(CapacityModel(partitions: 8, redisMicrosPerEvent: 0, workerMicrosPerEvent: 0).eventsPerSecond(masters: 3) == 0)
    }

    @Test func replicasComeFromClusterNodesInTheirMastersOrder() throws {
        let text = """
            aaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
            bbb 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-16383
            ccc 127.0.0.1:7002@17002 slave bbb 0 0 2 connected
            ddd 127.0.0.1:7003@17003 slave aaa 0 0 1 connected
            eee 127.0.0.1:7004@17004 slave,fail aaa 0 0 1 disconnected
            """
        let masters = [ClusterNode(host: "127.0.0.1", port: 7000), ClusterNode(host: "127.0.0.1", port: 7001)]
        #expect(try ClusterNodes.replicas(clusterNodes: text, of: masters) == [ClusterNode(host: "127.0.0.1", port: 7003), ClusterNode(host: "127.0.0.1", port: 7002)])
    }
}
