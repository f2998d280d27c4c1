import Foundation
import TestSupport
import Testing

/// The real `dupwatch evaluate` binary on a small file: no Redis involved.
@Suite("dupwatch evaluate")
struct EvaluateCommandTests {
    /// Customer 13085 orders glass balls twice within a day and cancels the second order;
    /// customer 12346 orders a frame twice 10 days apart. A guest row and a cancellation of a
    /// product never bought complete it.
    static let csv = """
        InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
        489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01T07:45:00,6.95,13085.0,United Kingdom
        489435,22350,CAT BOWL ,12,2009-12-01T07:46:00,2.55,,United Kingdom
        489436,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,6,2009-12-02T07:00:00,6.95,13085.0,United Kingdom
        489437,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,2009-12-02T09:00:00,2.1,12346.0,United Kingdom
        C489438,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,-6,2009-12-03T10:00:00,6.95,13085.0,United Kingdom
        C489439,99999,NOTHING BOUGHT,-1,2009-12-03T10:01:00,2.1,13085.0,United Kingdom
        489440,22041,"RECORD FRAME 7"" SINGLE SIZE ",6,2009-12-12T09:00:00,2.1,12346.0,United Kingdom

        """

    @Test func itReplaysTheFileAndPrintsTheFiguresAsJSON() async throws {
        let path = try TemporaryFiles.gzip(try TemporaryFiles.write("retail.csv", Self.csv))
        let result = try await DupwatchProcess(["evaluate", "--csv", path, "--preset", "online-retail", "--json"]).wait(timeout: 30)
        #expect(result.exitedZero, "\(result)")
        let report = try #require(try parseJSON(result.stdout) as? [String: Any])
        // Orders 489434, 489436, 489437, 489440 = 4. C489438 cancels 489436 (the latest earlier
        // order holding 85048); C489439 matches nothing. Flagged: 489436 (matching 489434, 23 h
        // 15 min) and 489440 (matching 489437, 10 days). Flagged and cancelled: 489436.
        // precision 1/2, recall 1/1, base rate 1/4, lift 2.
        let overall = try #require(report["overall"] as? [String: Any])
        #expect(overall.int("orders") == 4 && overall.int("cancelled") == 1, "\(overall)")
        #expect(overall.int("flagged") == 2 && overall.int("flagged_cancelled") == 1, "\(overall)")
        #expect(overall["precision"] as? Double == 0.5 && overall["recall"] as? Double == 1, "\(overall)")
        #expect(overall["base_rate"] as? Double == 0.25 && overall["lift"] as? Double == 2, "\(overall)")
        // ≤ 1 day: 489436 only; ≤ 7 days the same; ≤ 30 days both.
        let bands = try #require(report["by_gap"] as? [[String: Any]])
        #expect(bands.map { $0.int("max_gap_days") } == [1, 7, 30])
        #expect(bands.map { $0.int("flagged") } == [1, 1, 2] && bands.map { $0.int("flagged_cancelled") } == [1, 1, 1])
        #expect(bands[0]["lift"] as? Double == 4, "\(bands[0])")
        let counts = try #require(report["counts"] as? [String: Any])
        #expect(counts.int("rows") == 7 && counts.int("rejected_rows") == 1 && counts.int("customers") == 2, "\(counts)")
        #expect(counts.int("cancellation_invoices") == 2 && counts.int("unmatched_cancellations") == 1, "\(counts)")
        #expect((counts["rejected_rows_by_code"] as? [String: Int]) == ["missing_customer_id": 1], "\(counts)")
        let rules = try #require(report["rules"] as? [String: Any])
        #expect(rules.int("history_depth") == 5)
    }

    @Test func theTableSaysNAWhereADenominatorIsZero() async throws {
        let path = try TemporaryFiles.write("orders.csv", "order_id,customer_id,sku,qty,ts\nO-1,c1,MILK,1,1000\n")
        let result = try await DupwatchProcess(["evaluate", "--csv", path]).wait(timeout: 30)
        #expect(result.exitedZero, "\(result)")
        #expect(result.stdout.contains("1 order of 1 customer; no cancellation invoices."), "\(result.stdout)")
        let all = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("all ") }, "\(result.stdout)")
        #expect(all.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                == ["all", "1", "0", "0", "0", "n/a", "n/a", "0.00%", "n/a"], "\(all)")
    }

    @Test func aMissingColumnSaysWhichAndTheOptionThatNamesIt() async throws {
        let path = try TemporaryFiles.write("orders.csv", "order,customer_id,sku,qty,ts\nO-1,c1,MILK,1,1000\n")
        let result = try await DupwatchProcess(["evaluate", "--csv", path]).wait(timeout: 30)
        #expect(!result.exitedZero)
        #expect(result.stderr.contains("\"order_id\"") && result.stderr.contains("--order-id-column"), "\(result.stderr)")
    }
}
