import Foundation
import TestSupport
import Testing

/// `dupwatch bench --floor` measures the host with `dupwatch relay` in the worker's place; the
/// measurement is only meaningful if the relay really answers what it reads with alerts the
/// benchmark can match.
@Suite("Latency floor relay against redis-server")
struct LatencyFloorRelayIntegrationTests {
    /// `groupsExist`: as after the warm-up drain of `bench --latency-warm-events`.
    @Test(arguments: [(0, false, false, false), (1, false, false, false), (1, true, false, false),
                      (1, true, true, false), (0, true, false, true)])
    func everyNthEntryReadBecomesAnAlertCarryingItsTriggerID(stateReads: Int, handOver: Bool, groupsExist: Bool,
                                                             dupwatchShaped: Bool) async throws {
        let h = try Harness()
        if groupsExist {
            for stream in Streams.inputs {
                try h.redis.command("XGROUP", "CREATE", stream, "dupwatch", "0", "MKSTREAM")
            }
        }
        let relay = try h.startBench(["relay", "--redis-url", h.url, "--state-reads", "\(stateReads)", "--alert-every", "2"]
                                + (handOver ? ["--hand-over"] : []) + (dupwatchShaped ? ["--dupwatch-shaped"] : []))
        defer { relay.signal(SIGKILL) }
        // The relay reads from where the streams end when it starts: wait until it has started
        // (it creates the groups first, then takes the streams' ends).
        #expect(try await h.eventually(timeout: 10) { try h.groupInfo(Streams.cart) != nil })
        try await Task.sleep(for: .milliseconds(200))

        let cart1 = try h.cartAdd("C1", sku: "MILK", ts: "2026-11-20T10:00:00Z")
        let cart2 = try h.cartAdd("C2", sku: "EGGS", ts: "2026-11-20T10:00:01Z")
        try h.order("O-9", customer: "C1", items: itemsJSON([("MILK", 1, nil)]), ts: "2026-11-20T10:00:02Z")
        try h.order("O-10", customer: "C2", items: itemsJSON([("EGGS", 1, nil)]), ts: "2026-11-20T10:00:03Z")

        #expect(try await h.eventually(timeout: 10) { try h.alerts().count == 2 })
        // The 2nd and 4th entry read (entries arrive in this order whatever the reads' sizes):
        // a cart entry by its stream id, an order by its order id, as the benchmark looks them up.
        let triggers = try h.alerts().compactMap { $0["trigger_id"] }
        #expect(Set(triggers) == [cart2, "O-10"], "triggers: \(triggers), cart entries \(cart1), \(cart2)")
        if dupwatchShaped {
            // DupWatch's commit: each customer's cart written, each group moved to the last entry read.
            for customer in ["C1", "C2"] {
                #expect(try h.hash("cart:{\(customer)}")["_p"] != nil, "cart of \(customer)")
            }
            #expect(try h.groupInfo(Streams.cart)?["last-delivered-id"]?.string == cart2)
        }
    }
}
