import DupWatchBench
import DupWatchCore
import RedisClient
import Testing

@Suite("Latency floor relay")
struct LatencyFloorRelayTests {
    // The latency benchmark looks a sent entry up by its order id (orders) or stream id (cart):
    // the relay's alerts must carry the same trigger ids, or nothing is measured.
    @Test func anOrderIsTriggeredByItsOrderIDACartEntryByItsStreamID() {
        let order = StreamEntry(id: "1700000000000-3", fields: [
            StreamField(name: "customer_id", value: "C1"), StreamField(name: "order_id", value: "O-77"),
        ])
        let cart = StreamEntry(id: "1700000000000-4", fields: [
            StreamField(name: "customer_id", value: "C1"), StreamField(name: "order_id", value: "O-77"),
        ])
        #expect(LatencyFloorRelay.triggerID(of: order, source: .orderPlaced) == "O-77")
        #expect(LatencyFloorRelay.triggerID(of: cart, source: .cart) == "1700000000000-4")
    }

    @Test func anOrderWithoutAnOrderIDFallsBackToItsStreamID() {
        let order = StreamEntry(id: "1700000000000-5", fields: [StreamField(name: "customer_id", value: "C1")])
        #expect(LatencyFloorRelay.triggerID(of: order, source: .orderPlaced) == "1700000000000-5")
    }
}
