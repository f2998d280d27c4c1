import Testing
import DupWatchCore
import DupWatchStore
import DupWatchWorker
import RedisClient

private let hour: Int64 = 3_600_000
/// 2026-11-20T10:00:00Z
private let t0: Int64 = 1_795_168_800_000

private func entry(_ source: EventSource, _ offsetMs: Int64, _ fields: [(String, String)]) -> DeliveredEntry {
    let id = EntryID(milliseconds: UInt64(t0 + offsetMs), sequence: 0)
    return DeliveredEntry(source: source, id: id,
                          entry: RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field($0.0, $0.1) }))
}

private func bulk(_ s: String) -> RedisReply { .bulk(Array(s.utf8)) }

/// One `XINFO GROUPS` row as Redis 7.0 gives it; `lag` nil is Redis's null (lag unknown).
private func groupRow(_ name: String, lag: Int64?) -> RedisReply {
    .array([bulk("name"), bulk(name), bulk("consumers"), .integer(0), bulk("pending"), .integer(0),
            bulk("last-delivered-id"), bulk("5-0"), bulk("entries-read"), .integer(5),
            bulk("lag"), lag.map(RedisReply.integer) ?? .null])
}

/// What a committed batch adds to the worker's counters, and how the lag sample reads
/// `XINFO GROUPS`: the values behind `dupwatch_*` without a metrics backend.
@Suite("Worker metrics")
struct WorkerMetricsTests {
    @Test func theStreamLabelsAreTheUnpartitionedNamesInRankOrder() {
        #expect(WorkerMetrics.streamLabels == ["stream:cart:events", "stream:order:placed", "stream:order:status"])
    }

    @Test func aBatchCountsEntriesPerStreamAlertsByTriggerAndMatchDeadLettersAndRepeatedIDs() {
        let planner = BatchPlanner(rules: DuplicateRules(), keys: KeySchema(), limits: StoreLimits())
        let milk = #"[{"sku":"MILK","qty":1}]"#
        let batch = planner.parse([
            // c1: an order, then the same SKU added to the cart three days later (cart -> order),
            // then added again (cart -> cart: it is in the active cart now; the gap rule does
            // not apply to a second add within the gap, so push it past the gap).
            entry(.orderPlaced, 0, [("order_id", "O-1"), ("customer_id", "c1"), ("items", milk)]),
            entry(.cart, 72 * hour, [("type", "add"), ("customer_id", "c1"), ("sku", "MILK")]),
            entry(.cart, 80 * hour, [("type", "add"), ("customer_id", "c1"), ("sku", "MILK")]),
            // c2: the same order twice (a repeated order_id), then a new order of the same SKU.
            entry(.orderPlaced, 1, [("order_id", "O-2"), ("customer_id", "c2"), ("items", milk)]),
            entry(.orderPlaced, 2, [("order_id", "O-2"), ("customer_id", "c2"), ("items", milk)]),
            entry(.orderPlaced, 48 * hour, [("order_id", "O-3"), ("customer_id", "c2"), ("items", milk)]),
            // Two broken entries.
            entry(.cart, 3, [("type", "add"), ("customer_id", "c3"), ("sku", "MILK"), ("qty", "-3")]),
            entry(.orderStatus, 4, [("order_id", "O-404"), ("customer_id", "c3"), ("status", "shipped")]),
        ])
        let plan = planner.plan(batch, states: [:], detectedAt: t0 + 100 * hour)
        let tally = WorkerMetrics.tally(plan)

        #expect(tally.eventsApplied == [3, 4, 1], "per stream in rank order: cart, order placed, order status")
        var alerts = [0, 0, 0, 0]
        for alert in plan.alerts {
            alerts[WorkerMetrics.alertIndex(trigger: alert.trigger, match: alert.match.kind)] += 1
        }
        #expect(tally.alerts == alerts)
        #expect(tally.alerts[WorkerMetrics.alertIndex(trigger: .cart, match: .order)] >= 1)
        #expect(tally.alerts[WorkerMetrics.alertIndex(trigger: .cart, match: .cart)] >= 1)
        #expect(tally.alerts[WorkerMetrics.alertIndex(trigger: .order, match: .order)] == 1)
        #expect(tally.alerts.reduce(0, +) == plan.alerts.count)
        #expect(tally.deadLetters == 2)
        #expect(tally.duplicates == 1)
    }

    @Test func anEmptyBatchCountsNothing() {
        let planner = BatchPlanner(rules: DuplicateRules(), keys: KeySchema(), limits: StoreLimits())
        let plan = planner.plan(planner.parse([]), states: [:], detectedAt: t0)
        #expect(WorkerMetrics.tally(plan) == WorkerMetrics.Tally())
    }

    @Test func theAlertCountersAreFourDistinctPairs() {
        let pairs: [(Alert.Kind, Alert.Kind)] = [(.cart, .cart), (.cart, .order), (.order, .cart), (.order, .order)]
        #expect(Set(pairs.map { WorkerMetrics.alertIndex(trigger: $0.0, match: $0.1) }) == [0, 1, 2, 3])
    }

    @Test func theLagSampleReadsTheGroupsLagAndSkipsWhatRedisCannotTell() {
        let (lags, errors) = LagSampler.lags(group: "dupwatch", infos: [
            (.cart, .array([groupRow("other", lag: 99), groupRow("dupwatch", lag: 42)])),
            (.orderPlaced, .array([groupRow("dupwatch", lag: nil)])),
            (.orderStatus, .array([])),
        ])
        #expect(lags == [.cart: 42])
        #expect(errors.isEmpty)
    }

    @Test func aRefusedLagSampleIsAnErrorOfThatStreamOnly() {
        let (lags, errors) = LagSampler.lags(group: "g", infos: [
            (.cart, .error("NOPERM this user has no permissions to run the 'xinfo|groups' command")),
            (.orderPlaced, .array([groupRow("g", lag: 0)])),
            (.orderStatus, .integer(3)),
        ])
        #expect(lags == [.orderPlaced: 0])
        #expect(errors.map(\.source) == [.cart, .orderStatus])
        #expect(errors.first?.message.hasPrefix("NOPERM") == true)
    }
}
