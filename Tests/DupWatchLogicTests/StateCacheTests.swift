import Testing
import DupWatchCore
import DupWatchWorker

private func state(_ n: Int64) -> CustomerState {
    CustomerState(lastCartEventAt: n, cart: ["S": CartLine(sku: "S", quantity: 1, addedAt: n)])
}

@Suite("State cache")
struct StateCacheTests {
    @Test func getAfterPut() {
        var cache = StateCache(capacity: 100)
        cache.put("A", state(1))
        cache.put("B", state(2))
        #expect(cache.get("A") == state(1))
        #expect(cache.get("B") == state(2))
        #expect(cache.get("C") == nil)
    }

    @Test func putReplacesTheCustomersState() {
        var cache = StateCache(capacity: 100)
        cache.put("A", state(1))
        cache.put("A", state(2))
        #expect(cache.get("A") == state(2))
        #expect(cache.count == 1)
    }

    @Test func putReplacesAStateHeldInTheOldGeneration() {
        var cache = StateCache(capacity: 4)
        cache.put("A", state(1))
        cache.put("B", state(2))   // young is full (2): A and B become the old generation
        cache.put("A", state(3))
        #expect(cache.get("A") == state(3))
        #expect(cache.count == 2)
    }

    @Test func countNeverExceedsCapacity() {
        for capacity in [1, 2, 3, 4, 7, 10, 64] {
            var cache = StateCache(capacity: capacity)
            for k in 0..<500 {
                cache.put("C\(k)", state(Int64(k)))
                #expect(cache.count <= capacity, "capacity \(capacity) after \(k + 1) puts")
                if k % 3 == 0 { _ = cache.get("C\(k / 2)") }
                #expect(cache.count <= capacity, "capacity \(capacity) after a get")
            }
        }
    }

    @Test func latestPutIsAlwaysRetrievable() {
        for capacity in [1, 2, 5, 10] {
            var cache = StateCache(capacity: capacity)
            for k in 0..<50 {
                cache.put("C\(k)", state(Int64(k)))
                #expect(cache.get("C\(k)") == state(Int64(k)), "capacity \(capacity), C\(k)")
            }
        }
    }

    @Test func oldEntriesAreEventuallyEvicted() {
        var cache = StateCache(capacity: 10)
        cache.put("first", state(0))
        for k in 0..<100 { cache.put("C\(k)", state(Int64(k))) }
        #expect(cache.get("first") == nil)
    }

    @Test func frequentlyReadEntrySurvivesChurn() {
        var cache = StateCache(capacity: 10)
        cache.put("hot", state(7))
        for k in 0..<200 {
            cache.put("C\(k)", state(Int64(k)))
            #expect(cache.get("hot") == state(7), "lost after \(k + 1) puts")
        }
    }

    @Test func olderOrdersAreDroppedOnPut() {
        var full = state(1)
        full.recentOrders = [StoredOrder(orderID: "O-6", placedAt: 6, status: .processing, lines: [OrderLine(sku: "S", quantity: 1)])]
        full.olderOrders = ["O-1": StoredOrder(orderID: "O-1", placedAt: 1, status: .delivered, lines: [OrderLine(sku: "S", quantity: 1)])]
        full.eventIDs = ["ev": 1]
        var cache = StateCache(capacity: 10)
        cache.put("A", full)
        let cached = cache.get("A")
        #expect(cached?.olderOrders.isEmpty == true)
        var expected = full
        expected.olderOrders = [:]
        #expect(cached == expected)
    }

    @Test func removeAllEmptiesBothGenerations() {
        var cache = StateCache(capacity: 4)
        cache.put("A", state(1))
        cache.put("B", state(2))   // rotated into the old generation
        cache.put("C", state(3))   // young
        #expect(cache.count == 3)
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.get("A") == nil)
        #expect(cache.get("B") == nil)
        #expect(cache.get("C") == nil)
    }

    @Test func zeroCapacityCachesNothing() {
        var cache = StateCache(capacity: 0)
        cache.put("A", state(1))
        #expect(cache.count == 0)
        #expect(cache.get("A") == nil)
    }
}
