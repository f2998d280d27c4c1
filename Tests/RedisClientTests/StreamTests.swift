import Testing
import RedisClient
import TestSupport

@Suite("Stream commands and decoders")
struct StreamTests {
    @Test func groupCreationTellsAnExistingGroupFromOtherRefusals() throws {
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
    }

    @Test func xreadDecodesEveryStreamItsEntriesAndBinaryFields() throws {
        let server = try RedisTestServer()
        let c = try server.connect()
        #expect(try c.send(RedisCommand("XREAD", "BLOCK", "10", "STREAMS", "events", "$"), decode: StreamCommands.decodeXRead).isEmpty)

        var ids: [String] = []
        for i in 0..<3 {
            let reply = try c.send(StreamCommands.xadd("events", fields: [
                StreamField(name: "n", value: "\(i)"),
                StreamField(name: [0, 1], value: [0xFF, 0]),
            ]))
            ids.append(try reply.throwIfError().string)
        }
        _ = try c.send(StreamCommands.xadd("b", id: "2-1", maxLenApprox: 1000, fields: [StreamField(name: "x", value: "")])).throwIfError()

        let read = try c.send(RedisCommand("XREAD", "COUNT", "10", "STREAMS", "events", "b", "0", "0"), decode: StreamCommands.decodeXRead)
        #expect(read.map(\.stream) == ["events", "b"])
        #expect(read[0].entries.map(\.id) == ids)
        #expect(read[0].entries[1].fields == [StreamField(name: "n", value: "1"), StreamField(name: [0, 1], value: [0xFF, 0])])
        #expect(read[0].entries[2].value(of: "n") == Array("2".utf8))
        #expect(read[1].entries == [StreamEntry(id: "2-1", fields: [StreamField(name: "x", value: "")])])

        let range = try c.send(RedisCommand("XREVRANGE", "events", "+", "-", "COUNT", "2"), decode: StreamCommands.decodeEntries)
        #expect(range.map(\.id) == [ids[2], ids[1]])
    }

    @Test func decodersRejectWrongShapesAndRethrowServerErrors() throws {
        let server = try RedisTestServer()
        let c = try server.connect()
        _ = try c.command("SET", "plain", "value")
        let shape = #expect(throws: RedisError.self) {
            try c.send(RedisCommand("GET", "plain"), decode: StreamCommands.decodeXRead)
        }
        #expect(shape?.kind == .protocolViolation)
        #expect(throws: RedisError.self) { try c.send(RedisCommand("PING"), decode: StreamCommands.decodeEntries) }
        let wrongType = #expect(throws: RedisError.self) {
            try c.send(RedisCommand("XREAD", "STREAMS", "plain", "0"), decode: StreamCommands.decodeXRead)
        }
        #expect(wrongType?.kind == .server(code: "WRONGTYPE"))
        // The connection stays usable after a decode failure of a complete reply.
        #expect(try c.command("PING") == .status("PONG"))
    }
}
