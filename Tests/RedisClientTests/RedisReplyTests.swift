import RedisClient
import Testing

@Suite("RedisReply accessors")
struct RedisReplyTests {
    @Test func fieldMapReadsAFlatNameValueArray() throws {
        let reply = RedisReply.array([.bulk(Array("name".utf8)), .bulk(Array("dupwatch".utf8)),
                                      .bulk(Array("lag".utf8)), .integer(3), .bulk(Array("last".utf8)), .null])
        let map = try reply.fieldMap
        #expect(try map["name"]?.string == "dupwatch")
        #expect(try map["lag"]?.int == 3)
        #expect(map["last"] == .null)
        #expect(map.count == 3)
    }

    @Test func stringMapReadsAHashAndRefusesNonStringValues() throws {
        let hash = RedisReply.array([.bulk(Array("a".utf8)), .bulk(Array("1".utf8)), .bulk(Array("b".utf8)), .bulk([])])
        #expect(try hash.stringMap == ["a": "1", "b": ""])
        let nested = RedisReply.array([.bulk(Array("a".utf8)), .array([])])
        #expect(throws: RedisError.self) { try nested.stringMap }
    }

    @Test func fieldMapOfAnErrorReplyThrowsTheServerError() {
        #expect(throws: RedisError.self) { try RedisReply.error("WRONGTYPE Operation against a key").fieldMap }
    }
}
