import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// `dupwatch route` against a real redis-server and a real cluster: entries keep their ids and
/// fields, land in their customer's partition, and routing again adds nothing.
@Suite("dupwatch route")
struct RouterTests {
    /// The input of the tests: 3 streams, 6 customers, one entry without a customer.
    private func pushInput(_ xadd: (String, [(String, String)]) throws -> String) throws -> [String: [String]] {
        var idsByStream: [String: [String]] = [:]
        for round in 0..<4 {
            for customer in ["c1", "c2", "c3", "c42", "demo-alice", "R12346"] {
                idsByStream[Streams.cart, default: []].append(try xadd(Streams.cart, [
                    ("type", "add"), ("customer_id", customer), ("sku", "S\(round)"), ("title", "T\u{e9}\(round)")]))
                idsByStream[Streams.orderPlaced, default: []].append(try xadd(Streams.orderPlaced, [
                    ("order_id", "O-\(customer)-\(round)"), ("customer_id", customer), ("items", #"[{"sku":"S0","qty":1}]"#)]))
            }
            idsByStream[Streams.orderStatus, default: []].append(try xadd(Streams.orderStatus, [
                ("order_id", "O-c1-\(round)"), ("customer_id", "c1"), ("status", "shipped")]))
        }
        idsByStream[Streams.cart, default: []].append(try xadd(Streams.cart, [("type", "add"), ("sku", "NOBODY")]))
        return idsByStream
    }

    /// Every partition stream's entries (ids and fields), by the partition's keys.
    private func partitionStreams(_ partitioning: Partitioning, read: (String) throws -> [StreamEntry]) throws -> [String: [StreamEntry]] {
        var out: [String: [StreamEntry]] = [:]
        for p in 0..<partitioning.count {
            for stream in partitioning.keys(of: p).inputStreams { out[stream] = try read(stream) }
        }
        return out
    }

    /// What routing must give: each source entry with a customer, in its partition's stream of
    /// the same kind, under the same id, with the same fields.
    private func expectRouted(_ partitioning: Partitioning, sources: [String: [StreamEntry]], routed: [String: [StreamEntry]]) {
        var expected: [String: [StreamEntry]] = [:]
        let schema = KeySchema()
        for (stream, entries) in sources {
            let source = schema.source(ofStream: stream)!
            for entry in entries {
                guard let customer = entry.value(of: "customer_id").map({ String(decoding: $0, as: UTF8.self) }) else { continue }
                let target = partitioning.keys(of: partitioning.partition(of: customer)).stream(for: source)
                expected[target, default: []].append(entry)
            }
        }
        for (stream, entries) in routed where !entries.isEmpty || expected[stream] != nil {
            #expect(entries == (expected[stream] ?? []), "\(stream)")
        }
        let expectedCount = expected.values.reduce(0) { $0 + $1.count }
        let routedCount = routed.values.reduce(0) { $0 + $1.count }
        #expect(expectedCount == routedCount)
    }

    @Test func entriesLandInTheirCustomersPartitionUnderTheirIdsAndRoutingAgainAddsNothing() async throws {
        let h = try Harness()
        _ = try pushInput { stream, fields in try h.xadd(stream, fields) }
        let partitioning = try Partitioning(count: 4)
        let first = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"])
        #expect(first.exitedZero, "\(first)")
        func read(_ stream: String) throws -> [StreamEntry] {
            try h.redis.send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        let sources = try Dictionary(uniqueKeysWithValues: Streams.inputs.map { ($0, try read($0)) })
        let routed = try partitionStreams(partitioning, read: read)
        expectRouted(partitioning, sources: sources, routed: routed)
        let used = routed.values.filter { !$0.isEmpty }.count
        #expect(used > 4, "customers spread over several partitions")
        #expect(try h.redis.command("GET", "dupwatch:partitions").string == "4")

        // The entry without a customer is dead-lettered with the usual reason.
        let letters = try h.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?["reason"]?.hasPrefix("missing_customer_id: ") == true, "\(letters)")
        #expect(letters.first?["source_id"] == sources[Streams.cart]?.last?.id)

        // Again, and again with every position forgotten: nothing is added twice.
        let again = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"])
        #expect(again.exitedZero, "\(again)")
        for key in try h.redis.command("KEYS", "dupwatch:routed:*").array { try h.redis.command("DEL", try key.string) }
        let forgotten = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"])
        #expect(forgotten.exitedZero, "\(forgotten)")
        #expect(try partitionStreams(partitioning, read: read) == routed)
        #expect(try h.deadLetters().count == 1)
    }

    /// A router that lost its positions routes everything again: every partition's XADDs are
    /// refused as already there, and it says nothing and goes on (it once stopped for good,
    /// looking up the first refusal while the other partitions' replies were unread).
    @Test func routingAgainWithoutPositionsIntoManyPartitionsAtOnceIsQuiet() async throws {
        let h = try Harness()
        for i in 0..<40 { try h.xadd(Streams.cart, ["type": "add", "customer_id": "c\(i)", "sku": "S"]) }
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        for key in try h.redis.command("KEYS", "dupwatch:routed:*").array { try h.redis.command("DEL", try key.string) }
        let again = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain", "--log-level", "warning"], timeout: 30)
        #expect(again.exitedZero, "\(again)")
        #expect(again.stderr.isEmpty, "\(again.stderr)")
    }

    @Test func anotherPartitionCountIsRefused() async throws {
        let h = try Harness()
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "4", "--drain"]).exitedZero)
        let other = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "8", "--drain"])
        #expect(other.status == 1 && !other.signaled, "\(other)")
        let says = other.stderr.contains("has 4 partitions") && other.stderr.contains("--partitions 4")
        #expect(says, "\(other)")
        let odd = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "6", "--drain"])
        let refused = odd.status == 64 && odd.stderr.contains("power of two")
        #expect(refused, "\(odd)")
    }

    /// A partition stream written directly (XADD *) and through the router: the router's next
    /// re-add of an older id is refused, and the router says why instead of skipping it.
    @Test func aPartitionStreamWrittenDirectlyStopsTheRouterWithAClearError() async throws {
        let h = try Harness()
        let partitioning = try Partitioning(count: 2)
        try h.xadd(Streams.cart, ["type": "add", "customer_id": "c1", "sku": "A"])
        #expect(try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "2", "--drain"]).exitedZero)
        let partitionStream = partitioning.keys(of: partitioning.partition(of: "c1")).cartStream
        // A source entry not routed yet, then a direct write to its partition, with a later id.
        try h.xadd(Streams.cart, ["type": "add", "customer_id": "c1", "sku": "B"])
        let last = try #require(EntryID(h.entries(Streams.cart).last!.id))
        try h.redis.command("XADD", partitionStream, "\(last.milliseconds + 5)-0", "type", "add", "customer_id", "c1", "sku", "DIRECT")
        let mixed = try await h.runDupwatch(["route", "--redis-url", h.url, "--partitions", "2", "--drain"])
        #expect(mixed.status == 1, "\(mixed)")
        #expect(mixed.stderr.contains("one ingress"), "\(mixed)")
    }

    @Test func onARealClusterEachPartitionIsWrittenOnItsOwnNode() async throws {
        let cluster = try RedisTestCluster()
        let client = try RedisCluster(seeds: cluster.seeds)
        let h = try Harness() // only to run the binary
        _ = try pushInput { stream, fields in
            var command = RedisCommand("XADD")
            command.append(stream)
            command.append("*")
            for (name, value) in fields { command.append(name); command.append(value) }
            return try client.send(command, slot: HashSlot(key: stream)).throwIfError().string
        }
        let partitioning = try Partitioning(count: 8)
        let result = try await h.runDupwatch(["route", "--redis-url", cluster.seedList, "--partitions", "8", "--drain"], timeout: 60)
        #expect(result.exitedZero, "\(result)")
        func read(_ stream: String) throws -> [StreamEntry] {
            try client.connection(for: HashSlot(key: stream)).send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries)
        }
        let sources = try Dictionary(uniqueKeysWithValues: Streams.inputs.map { ($0, try read($0)) })
        let routed = try partitionStreams(partitioning, read: read)
        expectRouted(partitioning, sources: sources, routed: routed)
        // Every partition stream lives on the master of its partition's slot.
        for p in 0..<8 {
            let owner = try cluster.master(of: partitioning.slot(of: p))
            let stream = partitioning.keys(of: p).cartStream
            if !(routed[stream] ?? []).isEmpty { #expect(try owner.connect().command("EXISTS", stream).int == 1, "\(stream)") }
        }
    }
}
