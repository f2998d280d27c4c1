import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient
import TestSupport
import Testing

/// The one-call state read (`StateFunctions`, `FCALL_RO`) against the plain reads it replaces
/// for a caught-up worker: they must give the same states, corrupt ones included, and a missing
/// function must surface as a Redis error, never as a customer's corrupt state.
@Suite("State read in one call: the Redis Function library")
struct StateFunctionTests {
    private let keys = KeySchema()
    private let loader = StateLoader(keys: KeySchema(), historyDepth: 5)

    /// Customers covering what the loader meets: a full state, a new customer, an order hash
    /// that retention removed, an older order an event names, and each kind of corrupt key.
    private func writeFixtures(_ redis: RedisConnection) throws {
        func order(_ customer: String, _ id: String, ts: Int, status: String = "processing", items: String) throws {
            try redis.command("HSET", keys.order(customer, id), "ts", String(ts), "status", status, "items", items)
        }
        try redis.command("HSET", keys.cart("FULL"), "_p", "1700000000000", "MILK", "2|1699990000000|Organic Milk 1L",
                          "EGGS", "1|1699990001000|")
        try redis.command("RPUSH", keys.recentOrders("FULL"), "O3", "O2", "O1")
        try order("FULL", "O3", ts: 1_700_000_300_000, items: "MILK\t2\tOrganic Milk 1L\nBREAD\t1")
        // O2's hash lapsed (retention): skipped, not corrupt.
        try order("FULL", "O1", ts: 1_700_000_100_000, status: "cancelled", items: "EGGS\t12")
        try order("FULL", "O0", ts: 1_600_000_000_000, status: "delivered", items: "TEA\t1")
        try redis.command("HSET", keys.eventIDs("FULL"), "E1", "1700000000000")

        try redis.command("SET", keys.cart("BADCART"), "not a hash")
        try redis.command("HSET", keys.cart("BADLIST"), "_p", "1")
        try redis.command("HSET", keys.recentOrders("BADLIST"), "x", "y")
        try redis.command("RPUSH", keys.recentOrders("BADORDER"), "OK", "STRING")
        try order("BADORDER", "OK", ts: 1, items: "A\t1")
        try redis.command("SET", keys.order("BADORDER", "STRING"), "not a hash")
        try redis.command("RPUSH", keys.recentOrders("HALFORDER"), "H1")
        try redis.command("HSET", keys.order("HALFORDER", "H1"), "status", "placed")
    }

    private let customers = ["FULL", "NEW", "BADCART", "BADLIST", "BADORDER", "HALFORDER"]
    private let named: [String: Set<String>] = ["FULL": ["O0", "O3"], "NEW": ["N1"]]

    @Test func oneCallGivesTheSameStatesAsPlainReadsCorruptOnesIncluded() throws {
        let server = try RedisTestServer()
        let redis = try server.connect()
        try writeFixtures(redis)
        try redis.command("FUNCTION", "LOAD", StateFunctions.library)

        let plain = try loader.load(customers: customers, namedOrders: named, eventIDsOf: ["FULL"], cached: [:],
                                    after: [], oneRoundTrip: false, from: redis).states
        let commandsBefore = try Self.calls(redis)
        let oneCall = try loader.load(customers: customers, namedOrders: named, eventIDsOf: ["FULL"], cached: [:],
                                      after: [], oneRoundTrip: true, from: redis).states
        let commandsAfter = try Self.calls(redis)

        #expect(oneCall == plain)
        for customer in customers {
            #expect(oneCall[customer] == plain[customer], "\(customer): \(String(describing: oneCall[customer])) vs \(String(describing: plain[customer]))")
        }
        // The fixtures are what the comparison is worth: check that they read as intended.
        guard case .state(let full)? = plain["FULL"] else {
            Issue.record("FULL: \(String(describing: plain["FULL"]))")
            return
        }
        #expect(full.recentOrders.map(\.orderID) == ["O3", "O1"])
        #expect(full.olderOrders.keys.sorted() == ["O0"])
        #expect(full.cart["MILK"]?.title == "Organic Milk 1L")
        #expect(full.eventIDs == ["E1": 1_700_000_000_000])
        #expect(plain["NEW"] == .state(CustomerState()))
        for corrupt in ["BADCART", "BADLIST", "BADORDER", "HALFORDER"] {
            guard case .corrupt? = plain[corrupt] else {
                Issue.record("\(corrupt) should be corrupt: \(String(describing: plain[corrupt]))")
                continue
            }
        }
        // The one-call read did go through the function: one call per customer.
        #expect(commandsAfter["fcall_ro", default: 0] - commandsBefore["fcall_ro", default: 0] == Int64(customers.count))
    }

    @Test func missingFunctionIsARedisErrorAndLeavesNoReplyUnread() throws {
        let server = try RedisTestServer()
        let redis = try server.connect()
        try writeFixtures(redis)
        let error = #expect(throws: RedisError.self) {
            _ = try loader.load(customers: customers, namedOrders: named, eventIDsOf: nil, cached: [:],
                                after: [RedisCommand("PING")], oneRoundTrip: true, from: redis)
        }
        #expect(error?.message.contains("Function not found") == true, "\(String(describing: error))")
        #expect(error?.message.contains(StateFunctions.readState) == true, "\(String(describing: error))")
        #expect(try redis.command("ECHO", "in step") == .bulk(Array("in step".utf8)))
    }

    @Test func prepareLoadsTheLibraryOnceAndReportsReady() throws {
        let server = try RedisTestServer()
        let redis = try server.connect()
        #expect(try StateFunctions.prepare(on: redis, keys: keys) == .ready)
        let libraries = try redis.command("FUNCTION", "LIST", "LIBRARYNAME", StateFunctions.libraryName).array
        #expect(libraries.count == 1)
        // Loaded: the second call finds the function and loads nothing.
        try redis.command("CONFIG", "RESETSTAT")
        #expect(try StateFunctions.prepare(on: redis, keys: keys) == .ready)
        #expect(try Self.calls(redis)["function|load"] == nil)
    }

    /// `INFO commandstats` call counts by lower-case command name.
    static func calls(_ redis: RedisConnection) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for line in try redis.command("INFO", "commandstats").string.split(whereSeparator: \.isNewline)
        where line.hasPrefix("cmdstat_") {
            let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let calls = parts[1].split(separator: ",").first?.split(separator: "=").last,
                  let count = Int64(calls) else { continue }
            result[String(parts[0])] = count
        }
        return result
    }
}
