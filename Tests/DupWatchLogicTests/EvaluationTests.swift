import DupWatchCore
import DupWatchImport
import DupWatchStore
import Foundation
import TestSupport
import Testing

/// `dupwatch evaluate`'s replay, on small hand-made Online Retail files read by the importer's
/// own reader. Every expected figure is derived by hand in the comments.
@Suite("Evaluation: replaying an order file against later cancellations")
struct EvaluationTests {
    static let header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

    /// One Online Retail row: `invoice` (a leading C cancels), one unit of `sku`, at `time`
    /// (UK local time, read as UTC), for `customer`.
    static func row(_ invoice: String, _ sku: String, _ time: String, _ customer: String) -> String {
        "\(invoice),\(sku),Title of \(sku),\(invoice.hasPrefix("C") ? "-1" : "1"),\(time),1.25,\(customer),United Kingdom\n"
    }

    /// Replays `rows` (after the header) as `dupwatch evaluate --preset online-retail` does.
    static func evaluate(_ rows: [String], rules: RuleConfig = RuleConfig()) throws -> EvaluationReport {
        try evaluate(csv: header + rows.joined(), preset: .onlineRetail, columns: .onlineRetail, rules: rules)
    }

    static func evaluate(csv: String, preset: OrderFilePreset?, columns: OrderColumns,
                         rules: RuleConfig = RuleConfig()) throws -> EvaluationReport {
        let path = try TemporaryFiles.write("orders.csv", csv)
        let reader = try OrderFileReader(input: ImportInput(path: path), format: .csv, preset: preset, columns: columns)
        var replay = OrderReplay(rules: rules)
        while let item = try reader.next() { replay.replay(item) }
        return replay.report()
    }

    static func figures(_ orders: Int, _ cancelled: Int, _ flagged: Int, _ flaggedCancelled: Int) -> EvaluationFigures {
        EvaluationFigures(orders: orders, cancelled: cancelled, flagged: flagged, flaggedCancelled: flaggedCancelled)
    }

    static func close(_ value: Double?, _ expected: Double?) -> Bool {
        switch (value, expected) {
        case (nil, nil): true
        case (let value?, let expected?): abs(value - expected) < 1e-12
        default: false
        }
    }

    @Test func flaggedAndCancelledOrdersAndTheGapBandsAtTheirEdges() throws {
        let report = try Self.evaluate([
            // Customer 1.
            Self.row("100001", "A", "2026-01-01T10:00:00", "1"),
            // Matches 100001 exactly one day later: in the 1-day band (the bands include their edge).
            Self.row("100002", "A", "2026-01-02T10:00:00", "1"),
            // Matches 100002 (the newest order holding A) one day and a minute later: 7 and 30 days only.
            Self.row("100003", "A", "2026-01-03T10:01:00", "1"),
            // Cancels 100003, the latest earlier order holding A: flagged and cancelled.
            Self.row("C100004", "A", "2026-01-05T00:00:00", "1"),
            // 100003 is cancelled now and never matches again: the nearest match is 100002,
            // 38 days 14 hours earlier. Flagged, in no band.
            Self.row("100005", "A", "2026-02-10T00:00:00", "1"),
            // Customer 2.
            Self.row("200001", "B", "2026-01-01T00:00:00", "2"),
            Self.row("200001", "C", "2026-01-01T00:00:00", "2"),
            // Matches 200001 on C exactly 7 days later: the 7- and 30-day bands.
            Self.row("200002", "C", "2026-01-08T00:00:00", "2"),
            // No order of customer 2 holds X: matches nothing.
            Self.row("C200003", "X", "2026-01-09T00:00:00", "2"),
            // The latest earlier order holding B is 200001 (200002 holds only C): cancelled, never flagged.
            Self.row("C200004", "B", "2026-01-10T00:00:00", "2"),
            // Customer 3 has no order at all: matches nothing.
            Self.row("C300001", "A", "2026-01-10T00:00:00", "3"),
        ])
        // Orders: 100001, 100002, 100003, 100005, 200001, 200002 = 6. Cancelled: 100003, 200001 = 2.
        // Flagged: 100002 (1 d), 100003 (1 d 1 min), 100005 (38 d), 200002 (7 d) = 4; of them cancelled: 100003.
        #expect(report.overall == Self.figures(6, 2, 4, 1))
        // ≤ 1 day: 100002 only. ≤ 7 days and ≤ 30 days: 100002, 100003, 200002.
        #expect(report.byGap == [
            GapBand(maxGapDays: 1, figures: Self.figures(6, 2, 1, 0)),
            GapBand(maxGapDays: 7, figures: Self.figures(6, 2, 3, 1)),
            GapBand(maxGapDays: 30, figures: Self.figures(6, 2, 3, 1)),
        ])
        // precision 1/4, recall 1/2, base rate 2/6, lift (1/4) / (1/3) = 0.75.
        #expect(Self.close(report.overall.precision, 0.25) && Self.close(report.overall.recall, 0.5))
        #expect(Self.close(report.overall.baseRate, 1.0 / 3) && Self.close(report.overall.lift, 0.75))
        // 7 days: precision 1/3, recall 1/2 (of all cancelled orders), lift (1/3) / (1/3) = 1.
        #expect(Self.close(report.byGap[1].figures.precision, 1.0 / 3) && Self.close(report.byGap[1].figures.recall, 0.5))
        #expect(Self.close(report.byGap[1].figures.lift, 1))
        // 1 day: nothing flagged was cancelled: precision, recall and lift 0, not n/a.
        #expect(report.byGap[0].figures.precision == 0 && report.byGap[0].figures.lift == 0)
        #expect(report.counts.cancellationInvoices == 4 && report.counts.unmatchedCancellations == 2)
        #expect(report.counts.customers == 2 && report.counts.orders == 6 && report.counts.rows == 11)
    }

    @Test func aCancellationCancelsTheLatestEarlierOrderHoldingAProductAmongAllNotOnlyTheLastN() throws {
        let report = try Self.evaluate([
            Self.row("100001", "A", "2026-01-01T10:00:00", "1"),
            Self.row("100002", "B", "2026-01-02T10:00:00", "1"),
            Self.row("100003", "C", "2026-01-03T10:00:00", "1"),
            // With a history depth of 2, 100001 and 100002 have left the last-N list.
            Self.row("100004", "D", "2026-01-04T10:00:00", "1"),
            // A or B: 100001 and 100002 hold one; the latest is 100002.
            Self.row("C100005", "A", "2026-01-05T10:00:00", "1"),
            Self.row("C100005", "B", "2026-01-05T10:00:00", "1"),
            // Two orders of one minute hold E; 100007 matches 100006 (gap 0: flagged).
            Self.row("100006", "E", "2026-01-06T10:00:00", "1"),
            Self.row("100007", "E", "2026-01-06T10:00:00", "1"),
            // An order of the cancellation's own minute is not earlier: it cancels 100007 (the
            // greater id of the two equal times), not 100008.
            Self.row("100008", "E", "2026-01-07T10:00:00", "1"),
            Self.row("C100009", "E", "2026-01-07T10:00:00", "1"),
            // 100007 is cancelled: this matches 100008, a day earlier (had 100008 been cancelled,
            // it would match 100007, two days earlier).
            Self.row("100010", "E", "2026-01-08T10:00:00", "1"),
        ], rules: RuleConfig(historyDepth: 2))
        // Orders 8 (100001-100004, 100006-100008, 100010); cancelled 100002 and 100007; flagged
        // 100007 (matching 100006, gap 0), 100008 (matching 100007, 1 day) and 100010 (matching
        // 100008, 1 day); of them cancelled: 100007.
        #expect(report.overall == Self.figures(8, 2, 3, 1))
        #expect(report.counts.unmatchedCancellations == 0)
        #expect(report.byGap[0].figures == Self.figures(8, 2, 3, 1))
    }

    @Test func theSharedDefinitionBreaksTiesByTheGreaterOrderIDWhateverTheOrderGiven() {
        func order(_ id: String, _ time: Int64, _ skus: [String]) -> StoredOrder {
            StoredOrder(orderID: id, placedAt: time, status: .processing, lines: skus.map { OrderLine(sku: $0, quantity: 1) })
        }
        let orders = [order("100010", 5, ["A"]), order("100009", 5, ["A"]), order("100011", 5, ["B"]), order("100012", 9, ["A"]),
                      order("100008", 4, ["A"])]
        let cancellation = Cancellation(invoice: "C1", customerID: "1", skus: ["A", "Z"], time: 9)
        #expect(cancellation.target(among: orders)?.orderID == "100010")
        #expect(cancellation.target(among: orders.reversed())?.orderID == "100010")
        #expect(Cancellation(invoice: "C2", customerID: "1", skus: ["Z"], time: 9).target(among: orders) == nil)
        #expect(Cancellation(invoice: "C3", customerID: "1", skus: ["A"], time: 4).target(among: orders) == nil)
    }

    @Test func quietSKUsNeverFlagButAreStillCancelled() throws {
        let rows = [
            Self.row("100001", "POST", "2026-01-01T10:00:00", "1"),
            Self.row("100001", "A", "2026-01-01T10:00:00", "1"),
            Self.row("100002", "POST", "2026-01-01T11:00:00", "1"),
            Self.row("100003", "POST", "2026-01-01T12:00:00", "1"),
            Self.row("100003", "A", "2026-01-01T12:00:00", "1"),
            // The latest earlier order holding POST: 100003.
            Self.row("C100004", "POST", "2026-01-01T13:00:00", "1"),
        ]
        // Quiet POST: 100002 raises nothing; 100003 matches 100001 on A (2 hours). Flagged 1,
        // cancelled 1 (100003): precision 1, recall 1, base rate 1/3, lift 3.
        let quiet = try Self.evaluate(rows, rules: RuleConfig(quietSKUs: ["POST"]))
        #expect(quiet.overall == Self.figures(3, 1, 1, 1))
        #expect(Self.close(quiet.overall.lift, 3))
        #expect(quiet.quietSKUs == ["POST"])
        // Without: 100002 matches 100001 on POST, 100003 matches 100002 on POST. Flagged 2.
        #expect(try Self.evaluate(rows).overall == Self.figures(3, 1, 2, 1))
    }

    @Test func rejectedRowsRepeatedOrderIDsAndRowsOutOfTimeOrderAreCountedNotFatal() throws {
        let report = try Self.evaluate(csv: """
            order_id,customer_id,sku,qty,ts
            O1,c1,A,1,2000
            O2,c1,B,1,3000
            O1,c1,C,1,3000
            O3,c1,A,abc,4000
            O4,c2,A,1,1000
            O5,,A,1,5000

            """, preset: nil, columns: .contract)
        // O1 twice (its second run is a repeated order id, ignored), O3 bad_qty, O5 missing
        // customer; O4 is dated before O2: out of time order.
        #expect(report.counts.rows == 6 && report.counts.orders == 3 && report.counts.repeatedOrderIDs == 1)
        #expect(report.counts.rejectedRows == 2)
        #expect(report.counts.rejectedRowsByCode == ["bad_qty": 1, "bad_customer_id": 1])
        #expect(report.counts.outOfTimeOrder == 1)
        // No cancellation invoices without the preset: nothing is cancelled, recall and lift n/a.
        #expect(report.overall == Self.figures(3, 0, 0, 0))
        #expect(report.overall.precision == nil && report.overall.recall == nil && report.overall.lift == nil)
        #expect(report.overall.baseRate == 0)
    }

    @Test func ratiosWithoutADenominatorAreNullInJSONNeverNaN() throws {
        let report = try Self.evaluate([])
        #expect(report.overall == Self.figures(0, 0, 0, 0))
        let json = JSONText.encode(report)
        #expect(json.contains(#""overall":{"base_rate":null,"cancelled":0,"flagged":0,"flagged_cancelled":0,"lift":null,"orders":0,"precision":null,"recall":null}"#),
                "\(json)")
        #expect(json.contains(#"{"base_rate":null,"cancelled":0,"flagged":0,"flagged_cancelled":0,"lift":null,"max_gap_days":1,"orders":0,"precision":null,"recall":null}"#),
                "\(json)")
        #expect(!json.contains("NaN") && !json.contains("nan"))
    }
}
