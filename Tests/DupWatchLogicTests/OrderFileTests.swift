import DupWatchCore
import DupWatchImport
import Foundation
import TestSupport
import Testing

@Suite("Order files: CSV, JSON lines, gzip, the online-retail preset")
struct OrderFileTests {
    static func file(_ contents: String, name: String = "orders.csv") throws -> String {
        try TemporaryFiles.write(name, contents)
    }

    /// Every item of a file, as text that is easy to compare.
    static func items(_ path: String, format: OrderFileFormat = .csv, preset: OrderFilePreset? = nil,
                      columns: OrderColumns = .contract) throws -> [String] {
        let reader = try OrderFileReader(input: ImportInput(path: path), format: format, preset: preset, columns: columns)
        var out: [String] = []
        while let item = try reader.next() {
            switch item {
            case .order(let order, let rows, let line):
                let lines = order.lines.map { "\($0.sku)x\($0.quantity)\($0.title.map { "(\($0))" } ?? "")" }.joined(separator: " ")
                out.append("order \(order.orderID) \(order.customerID) \(order.time) \(order.status.rawValue) [\(lines)] rows=\(rows) line=\(line)")
            case .cancellation(let cancellation, let rows, let line):
                out.append("cancel \(cancellation.invoice) \(cancellation.customerID) \(cancellation.time) \(cancellation.skus) rows=\(rows) line=\(line)")
            case .rejected(let line, let rows, let reason):
                out.append("reject \(line) \(rows) \(reason.prefix { $0 != ":" })")
            }
        }
        return out
    }

    @Test func csvRowsOfOneOrderIdAreOneOrderWithQuotedFieldsAndSummedSKUs() throws {
        let path = try Self.file(#"""
            ts,order_id,customer_id,sku,qty,title,extra
            1000,O-1,c1,MILK,2,"Milk, ""organic""",x
            1000,O-1,c1,BREAD,1,,x
            1000,O-1,c1,MILK,3,Other title,x
            2000,O-2,c2,TEA,1,"two
            lines",x
            2000,O-2,c2,TEA,abc,,x

            3000,O-3,c{3},TEA,1,,x
            2026-01-01T00:00:00Z,O-4,c1,JAM,1,,x
            """#)
        #expect(try Self.items(path) == [
            "order O-1 c1 1000 processing [MILKx5(Milk, \"organic\") BREADx1] rows=3 line=2",
            "reject 7 1 bad_qty",
            "order O-2 c2 2000 processing [TEAx1(two\nlines)] rows=1 line=5",
            "reject 9 1 bad_customer_id",
            "order O-4 c1 1767225600000 processing [JAMx1] rows=1 line=10",
        ])
    }

    @Test func gzipAndPlainReadTheSame() throws {
        var text = "order_id,customer_id,sku,qty,ts\n"
        for index in 0..<20_000 { text += "O-\(index / 3),c\(index % 7),SKU-\(index % 11),\(index % 5 + 1),\(1000 + index)\n" }
        let plain = try Self.file(text)
        let items = try Self.items(plain)
        #expect(items.count == 6667)
        #expect(try Self.items(try TemporaryFiles.gzip(plain)) == items)
    }

    @Test func namedColumnsAndAMissingOne() throws {
        let path = try Self.file("Id,Who,What,How many,When,State\nA1,c1,S,2,5000,shipped\n")
        let columns = OrderColumns(orderID: "Id", customer: "Who", sku: "What", qty: "How many", title: nil, time: "When", status: "State")
        #expect(try Self.items(path, columns: columns) == ["order A1 c1 5000 shipped [Sx2] rows=1 line=2"])
        var missing = columns
        missing.sku = "Product"
        #expect(throws: OrderFileError.self) { try Self.items(path, columns: missing) }
    }

    @Test func anOrderOfMoreThan500LinesIsRejectedWhole() throws {
        var text = "order_id,customer_id,sku,qty,ts\n"
        for index in 0..<501 { text += "BIG,c1,S\(index),1,1000\n" }
        text += "SMALL,c1,S,1,2000\n"
        #expect(try Self.items(try Self.file(text)) == ["reject 2 501 bad_items", "order SMALL c1 2000 processing [Sx1] rows=1 line=503"])
    }

    @Test func theOnlineRetailPreset() throws {
        let path = try Self.file("""
            InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
            489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01T07:45:00,6.95,13085.0,United Kingdom
            489434,79323W, WHITE CHERRY LIGHTS,12,2009-12-01T07:45:00,6.75,13085.0,United Kingdom
            489435,22350,CAT BOWL ,12,2009-12-01T07:46:00,2.55,,United Kingdom
            A563185,B,Adjust bad debt,1,2011-08-12T14:50:00,11062.06,,United Kingdom
            C489449,85048,GLASS BALL,-12,2009-12-01T10:33:00,2.1,13085,United Kingdom
            """)
        #expect(try Self.items(path, preset: .onlineRetail, columns: .onlineRetail) == [
            "order 489434 13085 1259653500000 processing [85048x12(15CM CHRISTMAS GLASS BALL 20 LIGHTS) 79323Wx12( WHITE CHERRY LIGHTS)] rows=2 line=2",
            "reject 4 1 missing_customer_id",
            "reject 5 1 not_an_order",
            "cancel C489449 13085 1259663580000 [\"85048\"] rows=1 line=6",
        ])
    }

    @Test func jsonLinesAreTheOrderStreamsFields() throws {
        let path = try Self.file("""
            {"order_id":"O-1","customer_id":"c1","ts":"1000","items":[{"sku":"A","qty":1},{"sku":"A","qty":2,"title":"T"}],"status":"shipped"}
            {"order_id":"O-2","customer_id":"c1","ts":2000,"items":"[{\\"sku\\":\\"B\\",\\"qty\\":1}]"}
            {"order_id":"O-3","customer_id":"c1","items":[{"sku":"A","qty":1}]}

            [1,2]
            """, name: "orders.jsonl")
        #expect(try Self.items(path, format: .jsonl) == [
            "order O-1 c1 1000 shipped [Ax3(T)] rows=1 line=1",
            "order O-2 c1 2000 processing [Bx1] rows=1 line=2",
            "reject 3 1 missing_ts",
            "reject 5 1 bad_json",
        ])
    }
}
