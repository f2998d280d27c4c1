import Testing
import DupWatchCore
import DupWatchStore
import TestSupport

@Suite("Cart line format")
struct CartLineFormatTests {
    @Test func encodesQuantityAddedAtAndTitle() {
        #expect(CartLineFormat.encode(CartLine(sku: "S", quantity: 3, addedAt: 1_795_168_800_000, title: "Milk"))
            == "3|1795168800000|Milk")
        #expect(CartLineFormat.encode(CartLine(sku: "S", quantity: 1, addedAt: 5)) == "1|5|")
    }

    @Test func lastEventFieldName() {
        #expect(CartLineFormat.lastEventField == "_p")
    }

    @Test func roundTrips() {
        let lines = [
            CartLine(sku: "MILK", quantity: 2, addedAt: 1_795_168_800_000, title: "Organic Milk 1L"),
            CartLine(sku: "MILK", quantity: 1_000_000, addedAt: 0, title: nil),
            CartLine(sku: "X|Y", quantity: 7, addedAt: 42, title: "a|b||c|"),
            CartLine(sku: "É", quantity: 1, addedAt: 253_402_300_799_999, title: "Crème brûlée ×2"),
            CartLine(sku: "TEA", quantity: 3, addedAt: 9, title: "!a", alerted: true),
            CartLine(sku: "TEA", quantity: 3, addedAt: 9, title: nil, alerted: true),
        ]
        for line in lines {
            #expect(CartLineFormat.decode(sku: line.sku, CartLineFormat.encode(line)) == line)
        }
    }

    @Test func anAlertedLineIsMarkedByALeadingBang() {
        #expect(CartLineFormat.encode(CartLine(sku: "S", quantity: 2, addedAt: 5, title: "t", alerted: true)) == "!2|5|t")
        #expect(CartLineFormat.decode(sku: "S", "2|5|!t")?.alerted == false)
        #expect(CartLineFormat.decode(sku: "S", "!!2|5|t") == nil)
    }

    @Test func decodeTakesTheSkuFromTheFieldName() {
        #expect(CartLineFormat.decode(sku: "EGGS", "6|100|") == CartLine(sku: "EGGS", quantity: 6, addedAt: 100))
    }

    @Test func decodeRejectsValuesItDidNotWrite() {
        for bad in ["", "3", "3|100", "x|100|t", "3|y|t", "3.5|100|t", "|100|t", "3||t", "+3|100|t", "3|1e5|t"] {
            #expect(CartLineFormat.decode(sku: "S", bad) == nil, "\(bad)")
        }
    }

    @Test func asciiDecimalReadsWhatDupWatchWritesAndNothingElse() {
        func parse(_ text: String) -> Int64? {
            var text = text
            return text.withUTF8 { ASCIIDecimal.int64(UnsafeRawBufferPointer($0)) }
        }
        #expect(parse("0") == 0)
        #expect(parse("007") == 7)
        #expect(parse("1795168800000") == 1_795_168_800_000)
        #expect(parse("-42") == -42)
        #expect(parse("999999999999999999") == 999_999_999_999_999_999)
        #expect(parse("9223372036854775807") == Int64.max)
        #expect(parse("-9223372036854775808") == Int64.min)
        for bad in ["", "-", "+1", "1 ", " 1", "1.0", "0x10", "--1", "9223372036854775808", "123456789012345678901234567890"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
        var big = "99999999999999999999999"
        #expect(big.withUTF8 { ASCIIDecimal.read(UnsafeRawBufferPointer($0)) } == .outOfRange)
        var word = "12a"
        #expect(word.withUTF8 { ASCIIDecimal.read(UnsafeRawBufferPointer($0)) } == .notAnInteger)
    }
}

@Suite("Stored order format")
struct StoredOrderFormatTests {
    let order = StoredOrder(orderID: "O-1001", placedAt: 1_795_426_200_000, status: .shipped, lines: [
        OrderLine(sku: "MILK", quantity: 2, title: "Organic Milk 1L"),
        OrderLine(sku: "EGGS", quantity: 12),
    ])

    @Test func fields() {
        let fields = StoredOrderFormat.fields(of: order)
        #expect(fields.map(\.0) == ["ts", "status", "items"])
        let f = Dictionary(fields, uniquingKeysWith: { a, _ in a })
        #expect(f["ts"] == "1795426200000")
        #expect(f["status"] == "shipped")
        #expect(f["items"] == "MILK\t2\tOrganic Milk 1L\nEGGS\t12")
    }

    @Test func aFlaggedOrderCarriesFlaggedAndAnUnflaggedOneNoField() {
        var flagged = order
        flagged.flagged = true
        let fields = StoredOrderFormat.fields(of: flagged)
        #expect(fields.map(\.0) == ["ts", "status", "items", "flagged"])
        #expect(StoredOrderFormat.decode(orderID: "O-1001", Dictionary(fields, uniquingKeysWith: { a, _ in a })) == flagged)
        let plain = Dictionary(StoredOrderFormat.fields(of: order), uniquingKeysWith: { a, _ in a })
        #expect(StoredOrderFormat.decode(orderID: "O-1001", plain)?.flagged == false)
    }

    @Test func itemsTextEscapesTheTitleOnly() {
        let text = StoredOrderFormat.itemsText([OrderLine(sku: #"a"b\c"#, quantity: 1, title: "tab\there\nnew\\line\r")])
        #expect(text == #"a"b\c"# + "\t1\t" + #"tab\there\nnew\\line\r"#)
        #expect(StoredOrderFormat.decodeItems(text) == [OrderLine(sku: #"a"b\c"#, quantity: 1, title: "tab\there\nnew\\line\r")])
    }

    /// Titles made of the escaped characters next to each other, at the ends and beside
    /// multi-byte characters, and random ones, read back exactly; the text is the documented one.
    @Test func titleEscapesRoundTripByteForByte() {
        let titles = ["\\", "\\\\", "\t", "\\n", "\\\n", "a\\tb", "É\\\tü\n€", "\r\n", "end\\", "\\start", "ß\t", "\u{1F600}\\"]
        for title in titles {
            let lines = [OrderLine(sku: "A", quantity: 1, title: title), OrderLine(sku: "B", quantity: 2, title: title + "x")]
            #expect(StoredOrderFormat.decodeItems(StoredOrderFormat.itemsText(lines)) == lines, "\(title.debugDescription)")
        }
        #expect(StoredOrderFormat.itemsText([OrderLine(sku: "A", quantity: 7, title: "\\n\n")]) == "A\t7\t" + #"\\n\n"#)
        var random = SeededRandom(seed: 18)
        let pieces = ["\\", "\t", "\n", "\r", "n", "t", "é", "€", " ", "|", "\u{1F600}"]
        for _ in 0..<500 {
            let title = String((0..<random.int(12)).map { _ in random.pick(pieces) }.joined())
            let line = OrderLine(sku: "S", quantity: 1 + random.int(1_000_000), title: title.isEmpty ? nil : title)
            #expect(StoredOrderFormat.decodeItems(StoredOrderFormat.itemsText([line])) == [line], "\(title.debugDescription)")
        }
    }

    @Test func onlyTheFourEscapesAreRead() {
        #expect(StoredOrderFormat.decodeItems("A\t1\t" + #"\\\t\n\r"#) == [OrderLine(sku: "A", quantity: 1, title: "\\\t\n\r")])
        for bad in [#"\x"#, #"ok\"#, #"\\\"#, #"\"#, #"\N"#, #"\0"#, "\\\u{E9}"] {
            #expect(StoredOrderFormat.decodeItems("A\t1\t" + bad) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func itemsInTheRetiredJSONFormAreNotAnOrder() {
        // Only the compact lines are read: an order hash in any other form is corrupt state.
        #expect(StoredOrderFormat.decodeItems(#"[{"sku":"MILK","qty":2,"title":"Organic Milk 1L"},{"sku":"EGGS","qty":12}]"#) == nil)
    }

    @Test func roundTrips() throws {
        let fields = Dictionary(StoredOrderFormat.fields(of: order), uniquingKeysWith: { a, _ in a })
        #expect(StoredOrderFormat.decode(orderID: "O-1001", fields) == order)
        for status in OrderStatus.allCases {
            var other = order
            other.status = status
            other.lines = [OrderLine(sku: #"q"uote"#, quantity: 1_000_000, title: "É|ü")]
            let f = Dictionary(StoredOrderFormat.fields(of: other), uniquingKeysWith: { a, _ in a })
            #expect(StoredOrderFormat.decode(orderID: other.orderID, f) == other)
        }
    }

    @Test func decodeRejectsIncompleteOrCorruptHashes() {
        let good = Dictionary(StoredOrderFormat.fields(of: order), uniquingKeysWith: { a, _ in a })
        #expect(StoredOrderFormat.decode(orderID: "O-1001", good) != nil)
        var cases: [[String: String]] = [[:]]
        for field in ["ts", "status", "items"] {
            var missing = good
            missing[field] = nil
            cases.append(missing)
        }
        for (field, value) in [("ts", "yesterday"), ("ts", ""), ("status", "Shipped"), ("status", "lost"),
                               ("items", "not json"), ("items", "[]"), ("items", #"{"sku":"A","qty":1}"#),
                               ("items", #"[{"sku":"A","qty":0}]"#), ("items", "A\t0"), ("items", "A\t1x"),
                               ("items", "\t1"), ("items", "A\t1\n"), ("items", "A\t+1"), ("items", "A\t1000001"),
                               ("items", "A\t1\tbad \\q escape"), ("items", "A\t1\ttrailing \\"), ("items", "A\u{1}\t1")] {
            var bad = good
            bad[field] = value
            cases.append(bad)
        }
        for fields in cases {
            #expect(StoredOrderFormat.decode(orderID: "O-1001", fields) == nil, "\(fields)")
        }
    }
}
