import Testing
import RedisClient
import TestSupport

@Suite("Stream commands and decoders")
struct StreamTests {
    @Test func consumerGroupLifecycle() throws {
        let server = try RedisTestServer()
        let c = try server.connect()

        let created = try c.send(StreamCommands.xgroupCreate("events", group: "g", startID: "$"))
        #expect(created == .status("OK"))
        #expect(!StreamCommands.groupExisted(created))
        let again = try c.send(StreamCommands.xgroupCreate("events", group: "g"))
        let busy = #expect(throws: RedisError.self) { try again.throwIfError() }
        #expect(busy?.kind == .server(code: "BUSYGROUP"))
        #expect(StreamCommands.groupExisted(again))
        // Another refusal is not taken for an existing group.
        let invalidID = try c.send(StreamCommands.xgroupCreate("events", group: "g2", startID: "not-an-id"))
        #expect(!StreamCommands.groupExisted(invalidID) && (try? invalidID.throwIfError()) == nil)

        // Nothing yet: XREADGROUP returns null, decoded as [].
        let empty = try c.send(StreamCommands.xreadgroup(group: "g", consumer: "c1", stream: "events", count: 10, blockMs: 10))
        #expect(empty == .null)
        #expect(try StreamCommands.decodeXRead(empty).isEmpty)

        var ids: [String] = []
        for i in 0..<3 {
            let reply = try c.send(StreamCommands.xadd("events", fields: [
                StreamField(name: "n", value: "\(i)"),
                StreamField(name: [0, 1], value: [0xFF, 0]),
            ]))
            ids.append(try reply.throwIfError().string)
        }

        let read = try StreamCommands.decodeXRead(
            c.send(StreamCommands.xreadgroup(group: "g", consumer: "c1", stream: "events", count: 10)))
        #expect(read.count == 1)
        #expect(read[0].stream == "events")
        #expect(read[0].entries.map(\.id) == ids)
        #expect(read[0].entries[1].fields == [StreamField(name: "n", value: "1"), StreamField(name: [0, 1], value: [0xFF, 0])])
        #expect(read[0].entries[2].value(of: "n") == Array("2".utf8))

        #expect(try c.send(StreamCommands.xack("events", group: "g", ids: [ids[0]])) == .integer(1))
        #expect(try c.command("XDEL", "events", ids[1]) == .integer(1))

        // Pending history of c1: the deleted message comes back with nil fields.
        let history = try StreamCommands.decodeXRead(
            c.send(StreamCommands.xreadgroup(group: "g", consumer: "c1", stream: "events", id: "0")))
        #expect(history.count == 1)
        #expect(history[0].entries == [
            StreamEntry(id: ids[1], fields: nil),
            StreamEntry(id: ids[2], fields: [StreamField(name: "n", value: "2"), StreamField(name: [0, 1], value: [0xFF, 0])]),
        ])

        let pending = try StreamCommands.decodeXPendingRange(c.send(StreamCommands.xpendingRange("events", group: "g", count: 10)))
        #expect(pending.map(\.id) == [ids[1], ids[2]])
        #expect(pending.allSatisfy { $0.consumer == "c1" && $0.deliveries >= 1 && $0.idleMs >= 0 })
        let summary = try StreamCommands.decodeXPendingSummary(c.command("XPENDING", "events", "g"))
        #expect(summary.count == 2)
        #expect(summary.smallestID == ids[1])
        #expect(summary.largestID == ids[2])
        #expect(summary.consumers.map(\.name) == ["c1"])
        #expect(summary.consumers.first?.pending == 2)

        // XAUTOCLAIM (Redis 7): the deleted entry is reported in deletedIDs and dropped from the PEL.
        let claimed = try StreamCommands.decodeXAutoClaim(
            c.send(StreamCommands.xautoclaim("events", group: "g", consumer: "c2", minIdleMs: 0, count: 10)))
        #expect(claimed.nextID == "0-0")
        #expect(claimed.entries.map(\.id) == [ids[2]])
        #expect(claimed.entries.first?.fields?.first == StreamField(name: "n", value: "2"))
        #expect(claimed.deletedIDs == [ids[1]])

        let after = try StreamCommands.decodePendingEntries(c.send(StreamCommands.xpendingRange("events", group: "g", count: 10)))
        #expect(after.count == 1)
        #expect(after.first?.id == ids[2])
        #expect(after.first?.consumer == "c2")
        #expect(after.first.map { $0.deliveries >= 2 } == true)

        // IDLE filter and consumer filter.
        let idle = try StreamCommands.decodeXPendingRange(
            c.send(StreamCommands.xpendingRange("events", group: "g", count: 10, minIdleMs: 600_000)))
        #expect(idle.isEmpty)
        let byC1 = try StreamCommands.decodeXPendingRange(
            c.send(StreamCommands.xpendingRange("events", group: "g", count: 10, consumer: "c1")))
        #expect(byC1.isEmpty)

        // JUSTID form.
        let justID = try StreamCommands.decodeXAutoClaim(
            c.send(StreamCommands.xautoclaim("events", group: "g", consumer: "c3", minIdleMs: 0, justID: true)))
        #expect(justID.entries == [StreamEntry(id: ids[2], fields: nil)])
    }

    @Test func xreadAndXrangeDecoding() throws {
        let server = try RedisTestServer()
        let c = try server.connect()
        _ = try c.send(StreamCommands.xadd("a", id: "1-1", fields: [StreamField(name: "k", value: "v")])).throwIfError()
        _ = try c.send(StreamCommands.xadd("b", id: "2-1", maxLenApprox: 1000, fields: [StreamField(name: "x", value: "")])).throwIfError()
        let read = try StreamCommands.decodeXRead(c.command("XREAD", "COUNT", "10", "STREAMS", "a", "b", "0", "0"))
        #expect(read.map(\.stream) == ["a", "b"])
        #expect(read[0].entries == [StreamEntry(id: "1-1", fields: [StreamField(name: "k", value: "v")])])
        #expect(read[1].entries == [StreamEntry(id: "2-1", fields: [StreamField(name: "x", value: "")])])
        let range = try StreamCommands.decodeEntries(c.command("XRANGE", "a", "-", "+"))
        #expect(range.map(\.id) == ["1-1"])
        #expect(try StreamCommands.decodeXRead(c.command("XREAD", "BLOCK", "10", "STREAMS", "a", "$")).isEmpty)
    }

    @Test func decodersRejectWrongShapes() {
        let shape = #expect(throws: RedisError.self) { try StreamCommands.decodeXRead(.integer(1)) }
        #expect(shape?.kind == .protocolViolation)
        #expect(throws: RedisError.self) { try StreamCommands.decodeEntry(.array([.bulk([49])])) }
        #expect(throws: RedisError.self) {
            try StreamCommands.decodeEntry(.array([.bulk([49]), .array([.bulk([1])])]))
        }
        #expect(throws: RedisError.self) { try StreamCommands.decodeXAutoClaim(.array([.bulk([48])])) }
        #expect(throws: RedisError.self) { try StreamCommands.decodeXPendingRange(.array([.array([.bulk([48])])])) }
        let server = #expect(throws: RedisError.self) { try StreamCommands.decodeXRead(.error("NOGROUP No such key")) }
        #expect(server?.kind == .server(code: "NOGROUP"))
    }
}
