import Foundation
import Testing
import DupWatchCore
import DupWatchStore
import DupWatchWorker
import RedisClient

private func id(_ ms: UInt64, _ seq: UInt64 = 0) -> EntryID { EntryID(milliseconds: ms, sequence: seq) }
private func bulk(_ s: String) -> RedisReply { .bulk(Array(s.utf8)) }

/// The shape of one `XINFO GROUPS` row (Redis 7.0).
private func groupRow(_ name: String, lastDelivered: String, entriesRead: Int64?) -> RedisReply {
    .array([bulk("name"), bulk(name), bulk("consumers"), .integer(0), bulk("pending"), .integer(0),
            bulk("last-delivered-id"), bulk(lastDelivered), bulk("entries-read"), entriesRead.map(RedisReply.integer) ?? .null,
            bulk("lag"), .integer(0)])
}

@Suite("Group cursor")
struct GroupCursorTests {
    @Test func readsTheGroupPositionsFromXinfoGroupsAndIgnoresOtherGroups() throws {
        let positions = try GroupCursor.positions(group: "dupwatch", infos: [
            (.cart, .array([groupRow("other", lastDelivered: "9-9", entriesRead: 99),
                            groupRow("dupwatch", lastDelivered: "1700000000000-3", entriesRead: 42)])),
            (.orderPlaced, .array([groupRow("dupwatch", lastDelivered: "5-0", entriesRead: nil)])),
            (.orderStatus, .array([])),
        ])
        #expect(positions[.cart] == .init(id: id(1_700_000_000_000, 3), entriesRead: 42))
        #expect(positions[.orderPlaced] == .init(id: id(5), entriesRead: nil))
        #expect(positions[.orderStatus] == nil)
    }

    @Test func aNewGroupHasReadNothingThoughRedisDoesNotSaySo() throws {
        let positions = try GroupCursor.positions(group: "g", infos: [(.cart, .array([groupRow("g", lastDelivered: "0-0", entriesRead: nil)]))])
        #expect(positions[.cart] == .init(id: id(0), entriesRead: 0))
    }

    @Test func anErrorReplyOrABadIdThrows() {
        #expect(throws: RedisError.self) {
            try GroupCursor.positions(group: "g", infos: [(.cart, .error("ERR no such key"))])
        }
        #expect(throws: RedisError.self) {
            try GroupCursor.positions(group: "g", infos: [(.cart, .array([groupRow("g", lastDelivered: "x", entriesRead: 1)]))])
        }
    }

    @Test func readsRunAheadOfTheCommittedPositionAndAResumeGoesBack() {
        var cursor = GroupCursor()
        cursor.resume(at: [.cart: .init(id: id(10), entriesRead: 5)])
        #expect(cursor.readPosition(.cart) == id(10))
        #expect(cursor.readPosition(.orderPlaced) == id(0), "a stream the group has no position in is read from the start")
        cursor.didRead(.cart, upTo: id(30))
        cursor.didRead(.cart, upTo: id(20))
        #expect(cursor.readPosition(.cart) == id(30), "the read position only moves forward")
        #expect(cursor.committed[.cart]?.id == id(10), "reading does not commit")
        cursor.resume(at: cursor.committed)
        #expect(cursor.readPosition(.cart) == id(10))
    }

    @Test func aCommitMovesTheGroupToTheLastProcessedEntryAndCountsWhatItRead() {
        var cursor = GroupCursor()
        cursor.resume(at: [.cart: .init(id: id(10), entriesRead: 5), .orderPlaced: .init(id: id(3), entriesRead: nil)])
        let moved = cursor.advance([.cart: (last: id(25), count: 3), .orderPlaced: (last: id(7), count: 2),
                                    .orderStatus: (last: id(8), count: 1)])
        #expect(moved[.cart] == .init(id: id(25), entriesRead: 8))
        #expect(moved[.orderPlaced] == .init(id: id(7), entriesRead: nil), "an unknown entries-read stays unknown")
        #expect(moved[.orderStatus] == .init(id: id(8), entriesRead: nil))
        #expect(cursor.committed[.cart]?.id == id(10), "nothing moves before the commit landed")
        cursor.didCommit(moved)
        #expect(cursor.committed[.cart] == .init(id: id(25), entriesRead: 8))
        #expect(cursor.advance([:]).isEmpty)
    }

    @Test func theGroupMoveIsOneXgroupSetidWithEntriesRead() {
        var commit = BatchCommit(keys: KeySchema(prefix: "t:"), limits: StoreLimits())
        commit.advanceGroup(source: .orderStatus, group: "dupwatch", to: "12-3", entriesRead: 40)
        commit.advanceGroup(source: .cart, group: "dupwatch", to: "13-0", entriesRead: nil)
        #expect(commit.commands == [
            .xgroupSetID(stream: "t:stream:order:status", group: "dupwatch", id: "12-3", entriesRead: 40),
            .xgroupSetID(stream: "t:stream:cart:events", group: "dupwatch", id: "13-0", entriesRead: nil),
        ])
        // Encoded in one place, with ENTRIESREAD only when known.
        #expect(commit.commands.map { String(decoding: $0.encoded.encoded, as: UTF8.self) } == [
            "*7\r\n$6\r\nXGROUP\r\n$5\r\nSETID\r\n$21\r\nt:stream:order:status\r\n$8\r\ndupwatch\r\n$4\r\n12-3\r\n$11\r\nENTRIESREAD\r\n$2\r\n40\r\n",
            "*5\r\n$6\r\nXGROUP\r\n$5\r\nSETID\r\n$20\r\nt:stream:cart:events\r\n$8\r\ndupwatch\r\n$4\r\n13-0\r\n",
        ])
    }
}
