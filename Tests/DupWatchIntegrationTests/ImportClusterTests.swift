import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch import orders` into partitioned deployments, on a real local Redis Cluster and on
/// one Redis: each customer's orders land in its partition's keys, as partitioned workers write
/// them; a rerun changes nothing; a killed import run again ends where a whole one does; the
/// import never writes while a worker holds a partition, and no worker takes one during it.
@Suite("dupwatch import orders into partitions", .serialized)
struct ImportClusterTests {
    /// Every state key on `connections` (a cluster's masters, or one Redis) as type, TTL
    /// presence and value, read in three pipelines per node; the leases, the streams, the alert
    /// indexes and the analytics (which the import never writes: they count the live service)
    /// are left out.
    static func state(_ connections: [RedisConnection]) throws -> [String: String] {
        var out: [String: String] = [:]
        for connection in connections {
            let keys = try connection.command("KEYS", "*").array.map { try $0.string }
                .filter { !$0.hasPrefix("dupwatch:") && !$0.hasPrefix("alerts:") && !$0.hasPrefix("stream:") && !$0.hasPrefix("stats:") }
            let types = try connection.pipeline(keys.map { RedisCommand("TYPE", $0) }).map { try $0.string }
            let reads = zip(keys, types).map { key, type in
                switch type {
                case "hash": RedisCommand("HGETALL", key)
                case "list": RedisCommand("LRANGE", key, "0", "-1")
                case "zset": RedisCommand("ZRANGE", key, "0", "-1", "WITHSCORES")
                default: RedisCommand("TYPE", key)
                }
            }
            let values = try connection.pipeline(reads)
            let ttls = try connection.pipeline(keys.map { RedisCommand("PTTL", $0) })
            for index in keys.indices {
                let value: String
                switch types[index] {
                case "hash": value = try values[index].stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
                case "list", "zset": value = try values[index].array.map { try $0.string }.joined(separator: ",")
                default: value = "?"
                }
                out[keys[index]] = "\(types[index]) \(try ttls[index].int > 0 ? "ttl" : "no ttl") \(value)"
            }
        }
        return out
    }

    static func masters(_ client: RedisCluster) throws -> [RedisConnection] {
        try client.masterConnections().map(\.connection)
    }

    /// The DUMP of every key but the leases, on every master.
    static func dump(_ client: RedisCluster) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for connection in try masters(client) {
            let keys = try connection.command("KEYS", "*").array.map { try $0.string }.filter { !$0.hasPrefix("dupwatch:lease") }
            for (key, dump) in zip(keys, try connection.pipeline(keys.map { RedisCommand("DUMP", $0) })) {
                out[key] = try dump.bytes
            }
        }
        return out
    }

    /// `customers` customers with `ordersEach` orders of two lines each (titles with a comma, a
    /// quote and a backslash), a day apart, the customers' rows interleaved as a shop's are.
    static func manyOrders(customers: Int, ordersEach: Int) -> [ImportTests.FixtureOrder] {
        var orders: [ImportTests.FixtureOrder] = []
        for round in 0..<ordersEach {
            for customer in 0..<customers {
                let day = String(format: "2026-%02d-%02dT10:00:00Z", 1 + round / 28, 1 + round % 28)
                orders.append(ImportTests.FixtureOrder(
                    id: "O-\(customer)-\(round)", customer: "c\(customer)", ts: day,
                    lines: [("S\((customer + round) % 7)", 1 + round % 3, "Item, \"\(round % 5)\" \\ \(customer % 3)"),
                            ("T\(customer % 11)", 2, nil)]))
            }
        }
        return orders
    }

    /// The same shape in the Online Retail layout (its preset), with a cancellation invoice every
    /// third round per customer for a product of an order 7 rounds back, off the last-5 list:
    /// the import finds it through the history index.
    static func retailCSV(customers: Int, ordersEach: Int) -> String {
        var csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        for round in 0..<ordersEach {
            let day = String(format: "2010-%02d-%02dT10:00:00", 1 + round / 28, 1 + round % 28)
            for customer in 0..<customers {
                let invoice = 500_000 + round * customers + customer
                csv += "\(invoice),S\(round % 9),\"Item, \"\"\(round % 9)\"\"\",\(1 + customer % 3),\(day),1.5,\(20000 + customer).0,United Kingdom\n"
                csv += "\(invoice),T\(customer % 11),Tea,2,\(day),1.5,\(20000 + customer).0,United Kingdom\n"
                if round >= 7, round % 3 == 0 {
                    csv += "C\(invoice),S\((round - 7) % 9),Item,-1,\(day),1.5,\(20000 + customer).0,United Kingdom\n"
                }
            }
        }
        return csv
    }

    /// XADD of the fixture's orders to `stream:order:placed` on the cluster, in file order.
    static func push(_ orders: [ImportTests.FixtureOrder], to client: RedisCluster) throws {
        let stream = KeySchema().orderPlacedStream
        for order in orders {
            var command = RedisCommand("XADD", stream, "*", "order_id", order.id, "customer_id", order.customer,
                                       "items", try ImportTests.items(order.lines), "ts", order.ts)
            if let status = order.status {
                command.append("status")
                command.append(status)
            }
            _ = try client.send(command, slot: HashSlot(key: stream)).throwIfError()
        }
    }

    @Test func onAClusterTheImportWritesWhatPartitionedWorkersWriteAndARerunNothing() async throws {
        let cluster = try RedisTestCluster(masters: 3, replicas: 0)
        let client = try RedisCluster(seeds: cluster.seeds)
        let h = try Harness() // runs the binaries
        let seeds = cluster.seedList

        // The workers' side: the fixture's orders through the input stream, the router and a
        // partitioned worker.
        try Self.push(ImportTests.orders, to: client)
        #expect(try await h.runDupwatch(["route", "--redis-url", seeds, "--partitions", "4", "--drain"]).exitedZero)
        let drained = try await h.runDupwatch(["worker", "--redis-url", seeds, "--partitions", "4", "--drain"])
        #expect(drained.exitedZero, "\(drained)")
        let worked = try Self.state(Self.masters(client))
        #expect(worked.keys.contains { $0.hasPrefix("orders:{p") && $0.hasSuffix("}:{c1}") }, "\(worked.keys.sorted())")

        // The import's side, on the same cluster emptied (the partition count goes with it).
        for connection in try Self.masters(client) { _ = try connection.command("FLUSHALL") }
        let path = try TemporaryFiles.write("orders.csv", ImportTests.csv())
        let result = try await h.runDupwatch(["import", "orders", "--redis-url", seeds, path, "--partitions", "4"])
        #expect(result.exitedZero, "\(result)")
        #expect(result.stdout.hasPrefix("import rows=15 orders=10 cancellations=0 customers=3 rejected=1 "), "\(result.stdout)")
        #expect(try Self.state(Self.masters(client)) == worked)
        let nodesWithState = try Self.masters(client).filter { try !Self.state([$0]).isEmpty }
        #expect(nodesWithState.count >= 2, "the three customers' partitions are on more than one master")
        // Every lease is handed over.
        for p in 0..<4 {
            let key = try Partitioning(count: 4).keys(of: p).lease(group: "dupwatch")
            let holder = try client.send(RedisCommand("GET", key), slot: HashSlot(key: key)).optionalString
            #expect(holder?.hasPrefix("released:import-") == true, "\(key): \(holder ?? "none")")
        }

        // Again, with the count now stored: every order is found, nothing is written.
        let before = try Self.dump(client)
        let again = try await h.runDupwatch(["import", "orders", "--redis-url", seeds, path])
        #expect(again.exitedZero, "\(again)")
        #expect(again.stderr.contains("10 of the 10 orders were stored already"), "\(again.stderr)")
        #expect(try Self.dump(client) == before)
    }

    @Test func onAClusterAnImportKilledMidwayAndRunAgainEndsWhereAWholeOneDoes() async throws {
        let path = try TemporaryFiles.write("retail.csv", Self.retailCSV(customers: 400, ordersEach: 15))
        // The reference: one whole import into four partitions of one Redis (the same key names).
        let single = try Harness()
        let whole = try await single.runDupwatch(["import", "orders", "--redis-url", single.url, path, "--partitions", "4",
                                                  "--preset", "online-retail"])
        #expect(whole.exitedZero, "\(whole)")
        #expect(whole.stdout.contains(" cancellations=800 "), "every cancellation found its order: \(whole.stdout)")
        let expected = try Self.state([single.redis])
        #expect(expected.count > 1000)

        let cluster = try RedisTestCluster(masters: 3, replicas: 0)
        let client = try RedisCluster(seeds: cluster.seeds)
        let killed = try single.start(["import", "orders", "--redis-url", cluster.seedList, path, "--partitions", "4",
                                       "--preset", "online-retail", "--batch", "20", "--lease-ttl", "1s"])
        let started = try await single.eventually(timeout: 20) {
            try Self.masters(client).contains { try $0.command("DBSIZE").int > 200 }
        }
        killed.signal(SIGKILL)
        let end = try await killed.wait(timeout: 10)
        #expect(started && end.signaled, "the import was not killed midway: \(end)")
        let partial = try Self.state(Self.masters(client))
        #expect(partial.count < expected.count, "the killed import wrote everything already")

        // Its leases lapse after 1 s; --wait waits for them.
        let resumed = try await single.runDupwatch(["import", "orders", "--redis-url", cluster.seedList, path, "--wait",
                                                    "--preset", "online-retail"])
        #expect(resumed.exitedZero, "\(resumed)")
        #expect(try Self.state(Self.masters(client)) == expected)
    }

    @Test func onAClusterItRefusesWhileAPartitionedWorkerHoldsALeaseAndWaitsWithWait() async throws {
        let cluster = try RedisTestCluster(masters: 3, replicas: 0)
        let client = try RedisCluster(seeds: cluster.seeds)
        let h = try Harness()
        let worker = try h.start(["worker", "--redis-url", cluster.seedList, "--partitions", "4", "--consumer", "w-holder"])
        defer { worker.signal(SIGKILL) }
        #expect(try await worker.waitForStderr(timeout: 20) { $0.contains("holds partition") })
        let path = try TemporaryFiles.write("orders.csv", ImportTests.csv())
        let refused = try await h.runDupwatch(["import", "orders", "--redis-url", cluster.seedList, path])
        #expect(!refused.exitedZero, "\(refused)")
        #expect(refused.stderr.contains("w-holder") && refused.stderr.contains("--wait"), "\(refused.stderr)")
        #expect(try Self.state(Self.masters(client)).isEmpty, "nothing written")

        let waiting = try h.start(["import", "orders", "--redis-url", cluster.seedList, path, "--wait"])
        #expect(try await waiting.waitForStderr(timeout: 20) { $0.contains("waiting for w-holder") })
        #expect(try Self.state(Self.masters(client)).isEmpty, "nothing written while it waits")
        worker.signal(SIGTERM) // a clean stop hands every partition over at once
        let done = try await waiting.wait(timeout: 30)
        #expect(done.exitedZero, "\(done)")
        #expect(done.stdout.hasPrefix("import rows=15 orders=10 "), "\(done.stdout)")
    }

    /// A worker started while the import runs finds every partition held, even with a 1 s lease
    /// (the import renews its leases between flushes), and takes them when the import ends.
    @Test func aWorkerStartedDuringAnImportTakesNoPartitionUntilItEnds() async throws {
        let orders = Self.manyOrders(customers: 1000, ordersEach: 15)
        let path = try TemporaryFiles.write("many.csv", ImportTests.csv(orders, badRow: false))
        let reference = try Harness()
        #expect(try await reference.runDupwatch(["import", "orders", "--redis-url", reference.url, path, "--partitions", "4"]).exitedZero)

        let h = try Harness()
        let importing = try h.start(["import", "orders", "--redis-url", h.url, path, "--partitions", "4", "--batch", "10",
                                     "--lease-ttl", "1s"])
        #expect(try await h.eventually(timeout: 20) { try h.redis.command("KEYS", "order:*").array.count > 0 })
        let worker = try h.start(["worker", "--redis-url", h.url, "--partitions", "4", "--lease-ttl", "1s", "--consumer", "w-late"])
        defer { worker.signal(SIGKILL) }
        #expect(try await h.eventually(timeout: 10) { try h.redis.command("ZSCORE", "dupwatch:members:dupwatch", "w-late").optionalString != nil })
        // Longer than a lease's TTL with the worker trying for the partitions.
        try await Task.sleep(for: .milliseconds(1500))
        let workerSoFar = worker.stderrSoFar
        #expect(importing.isRunning, "the import ended too soon to show anything; give it a larger file")
        if importing.isRunning {
            #expect(!workerSoFar.contains("holds partition"), "a worker took a partition during the import: \(workerSoFar)")
        }
        // A partition taken from the import would have failed its next commit (WATCH).
        let imported = try await importing.wait(timeout: 60)
        #expect(imported.exitedZero, "the import lost a lease to the worker: \(imported)")
        #expect(try await worker.waitForStderr(timeout: 20) { $0.contains("holds partition") }, "the worker takes the partitions afterwards")
        #expect(try Self.state([h.redis]) == Self.state([reference.redis]))
    }
}
