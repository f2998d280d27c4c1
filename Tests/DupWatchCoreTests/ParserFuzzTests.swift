import Testing
import TestSupport
@testable import DupWatchCore

/// Builds random field maps biased towards the contract so that both the success and the
/// failure paths are exercised.
struct EntryFuzzer {
    var rng: SeededRandom

    static let names = ["type", "customer_id", "sku", "qty", "ts", "title", "event_id", "order_id", "items", "status"]
    static let junkNames = ["", "Type", "QTY", "sku ", "customer-id", "id", "price", "\u{00}", "tsx", "items2"]

    mutating func idBytes() -> [UInt8] {
        switch rng.int(12) {
        case 0: return []
        case 1: return [UInt8](repeating: 0x61, count: 127 + rng.int(4)) // 127...130 bytes
        case 2: return Array("a{b}".utf8)
        case 3: return [0x61, UInt8(rng.int(0x20))] // control character
        case 4: return rng.bytes(max: 8)
        case 5: return [0xC2, 0x80 + UInt8(rng.int(0x40))] // C1 control or a valid 2-byte char
        case 6: return Array("日本-\(rng.int(1000))".utf8)
        default: return Array("id\(rng.int(50))".utf8)
        }
    }

    mutating func numberText() -> String {
        switch rng.int(14) {
        case 0: return ""
        case 1: return "0"
        case 2: return "1000000"
        case 3: return "1000001"
        case 4: return "-\(rng.int(10))"
        case 5: return "1.5"
        case 6: return "1e3"
        case 7: return " 1"
        case 8: return String(repeating: "9", count: 1 + rng.int(40))
        case 9: return "00\(rng.int(100))"
        case 10: return "abc"
        default: return String(rng.int(2_000_000))
        }
    }

    mutating func timeText() -> String {
        switch rng.int(10) {
        case 0: return ""
        case 1: return String(rng.next() % 300_000_000_000_000)
        case 2: return "\(1970 + rng.int(9000))-\(rng.int(14))-\(rng.int(33))T10:00:00Z"
        case 3: return "2026-0\(1 + rng.int(9))-\(10 + rng.int(22))T\(10 + rng.int(15)):\(10 + rng.int(52)):\(10 + rng.int(52))\(rng.pick(["Z", "z", "+01:00", "-0530", "", "+24:00", ".5Z", ".123456789+0100"]))"
        case 4: return String(repeating: "1", count: 1 + rng.int(30))
        case 5: return "yesterday"
        default: return String(1_600_000_000_000 + Int64(rng.int(1_000_000_000)))
        }
    }

    mutating func jsonScalar() -> String {
        switch rng.int(12) {
        case 0: return "null"
        case 1: return "true"
        case 2: return "1.0"
        case 3: return "1e2"
        case 4: return "\"3\""
        case 5: return "-1"
        case 6: return "0"
        case 7: return "123456789012345678901234567890"
        case 8: return "[]"
        default: return String(1 + rng.int(1_000_000))
        }
    }

    mutating func itemLine() -> String {
        var members: [String] = []
        if !rng.chance(5) {
            let sku: String = switch rng.int(10) {
            case 0: jsonScalar()
            case 1: "\"\""
            case 2: "\"\\u0001\""
            case 3: "\"\(String(repeating: "k", count: 127 + rng.int(4)))\""
            case 4: "\"\\ud83d\\ude00\""
            default: "\"s\(rng.int(6))\""
            }
            members.append("\"sku\":\(sku)")
        }
        if !rng.chance(5) { members.append("\"qty\":\(rng.chance(70) ? String(1 + rng.int(10)) : jsonScalar())") }
        if rng.chance(30) {
            members.append("\"title\":\(rng.pick(["null", "\"\"", "\"Mug\"", "5", "\"\(String(repeating: "t", count: 255 + rng.int(3)))\""]))")
        }
        if rng.chance(10) { members.append("\"price\":{\"x\":[1,2]}") }
        if rng.chance(3), let first = members.first { members.append(first) }
        members.shuffle(using: &self)
        return "{" + members.joined(separator: ",") + "}"
    }

    mutating func itemsBytes() -> [UInt8] {
        switch rng.int(16) {
        case 0: return []
        case 1: return rng.bytes(max: 30)
        case 2: return Array(rng.pick(["[]", "{}", "null", "[1]", "[[]]", "\"x\"", "[{}]", "[", "[{\"sku\":\"a\",\"qty\":1},]"]).utf8)
        case 3: return Array(("[" + (0..<(499 + rng.int(3))).map { #"{"sku":"s\#($0)","qty":1}"# }.joined(separator: ",") + "]").utf8)
        case 4, 5:
            // A valid-looking document with one byte flipped or the tail cut off.
            var doc = Array(("[" + (0..<(1 + rng.int(4))).map { _ in itemLine() }.joined(separator: ",") + "]").utf8)
            if rng.chance(50) {
                doc[rng.int(doc.count)] = UInt8(truncatingIfNeeded: rng.next())
            } else {
                doc.removeLast(1 + rng.int(doc.count))
            }
            return doc
        case 6: return Array(#"[{"sku":"a","qty":600000},{"sku":"a","qty":600000}]"#.utf8)
        default:
            return Array(("[" + (0..<(1 + rng.int(6))).map { _ in itemLine() }.joined(separator: ",") + "]").utf8)
        }
    }

    mutating func value(for name: String) -> [UInt8] {
        if rng.chance(4) { return rng.bytes(max: 20) }
        switch name {
        case "type": return Array(rng.pick(["add", "change", "remove", "clear", "Add", "", "CLEAR", "delete"]).utf8)
        case "customer_id", "sku", "order_id", "event_id": return idBytes()
        case "qty": return Array(numberText().utf8)
        case "ts": return Array(timeText().utf8)
        case "title":
            return rng.chance(20) ? [UInt8](repeating: 0x74, count: 250 + rng.int(10)) : Array(rng.pick(["", "Mug", "Tasse „Blau“"]).utf8)
        case "items": return itemsBytes()
        case "status":
            return Array(rng.pick(["processing", "shipped", "delivered", "cancelled", "returned", "Shipped", "", "lost"]).utf8)
        default: return rng.bytes(max: 20)
        }
    }

    /// A value that is valid for `name` (ids, quantities, times, items, statuses).
    mutating func cleanValue(for name: String) -> [UInt8] {
        switch name {
        case "type": return Array(rng.pick(["add", "change", "remove", "clear"]).utf8)
        case "qty": return Array(String(rng.int(1_000_001)).utf8)
        case "items":
            let lines = (0..<(1 + rng.int(5))).map { _ in #"{"sku":"s\#(rng.int(4))","qty":\#(1 + rng.int(1000))}"# }
            return Array(("[" + lines.joined(separator: ",") + "]").utf8)
        case "status": return Array(rng.pick(OrderStatus.allCases).rawValue.utf8)
        default: return Array("id-\(rng.int(1000))".utf8)
        }
    }

    /// A field map for `source`: usually the fields that source needs, plus random extras,
    /// duplicates, junk names and omissions.
    mutating func entry(for source: EventSource) -> RawEntry {
        var fields: [RawEntry.Field] = []
        if rng.chance(2) { return RawEntry(source: source, id: EntryID(milliseconds: 1, sequence: 0), fields: []) }
        let needed: [String] = switch source {
        case .cart: ["type", "customer_id", "sku", "qty"]
        case .orderPlaced: ["order_id", "customer_id", "items"]
        case .orderStatus: ["order_id", "customer_id", "status"]
        }
        // A third of the entries start from well-formed values, so the success path is well covered.
        let clean = rng.chance(33)
        for name in needed where clean || !rng.chance(6) {
            fields.append(RawEntry.Field(name: Array(name.utf8), value: clean ? cleanValue(for: name) : value(for: name)))
        }
        for _ in 0..<rng.int(4) {
            let name = rng.chance(75) ? rng.pick(Self.names) : rng.pick(Self.junkNames)
            fields.append(RawEntry.Field(name: Array(name.utf8), value: value(for: name)))
        }
        if rng.chance(5) { fields.append(RawEntry.Field(name: rng.bytes(max: 6), value: rng.bytes(max: 6))) }
        fields.shuffle(using: &self)
        let id = EntryID(milliseconds: rng.next() % 2_000_000_000_000, sequence: rng.next() % 5)
        return RawEntry(source: source, id: id, fields: fields)
    }
}

extension EntryFuzzer: RandomNumberGenerator {
    mutating func next() -> UInt64 { rng.next() }
}

private let knownCodes: Set<String> = [
    "empty_entry", "missing_type", "bad_type", "missing_customer_id", "bad_customer_id", "missing_sku", "bad_sku",
    "missing_qty", "bad_qty", "bad_ts", "bad_title", "missing_order_id", "bad_order_id", "missing_items", "bad_items",
    "missing_status", "bad_status", "bad_event_id",
]

private func first(_ name: String, in e: RawEntry) -> [UInt8]? { e.value(of: name) }

private func checkID(_ s: String, braces: Bool = true, _ comment: Comment) {
    let bytes = Array(s.utf8)
    #expect((1...128).contains(bytes.count), comment)
    #expect(!s.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, comment)
    if !braces { #expect(!s.contains("{") && !s.contains("}"), comment) }
}

/// The invariants every accepted event satisfies, checked against the raw entry.
private func checkInvariants(_ event: Event, _ e: RawEntry) {
    let c: Comment = "\(e)"
    checkID(event.customerID, braces: false, c)
    #expect(first("customer_id", in: e) == Array(event.customerID.utf8), c)
    let expectedTime: Int64?
    if let ts = first("ts", in: e) { expectedTime = EventTime.parse(ts) } else { expectedTime = Int64(e.id.milliseconds) }
    #expect(expectedTime != nil, c)
    switch event {
    case .cart(let cart):
        #expect(cart.time == expectedTime, c)
        switch cart.action {
        case .add(_, let q):
            #expect((1...1_000_000).contains(q), c)
            #expect(first("type", in: e) == Array("add".utf8), c)
        case .change(_, let q):
            #expect((0...1_000_000).contains(q), c)
            #expect(first("qty", in: e) != nil, c)
        case .remove:
            #expect(first("type", in: e) == Array("remove".utf8), c)
        case .clear:
            #expect(cart.action.sku == nil, c)
        }
        if case .clear = cart.action {} else {
            if let sku = cart.action.sku {
                checkID(sku, c)
                #expect(first("sku", in: e) == Array(sku.utf8), c)
            } else {
                Issue.record("\(cart.action) without a sku: \(e)")
            }
        }
        if let title = cart.title { #expect((1...256).contains(title.utf8.count), c) }
        if cart.hasExplicitEventID {
            checkID(cart.eventID, c)
            #expect(first("event_id", in: e) == Array(cart.eventID.utf8), c)
        } else {
            #expect(first("event_id", in: e) == nil, c)
            #expect(cart.eventID == e.id.description, c)
        }
    case .order(let order):
        #expect(order.time == expectedTime, c)
        checkID(order.orderID, c)
        #expect((1...500).contains(order.lines.count), c)
        #expect(Set(order.lines.map(\.sku)).count == order.lines.count, "skus are summed, so distinct: \(e)")
        for line in order.lines {
            checkID(line.sku, c)
            #expect((1...1_000_000).contains(line.quantity), c)
            if let t = line.title { #expect((1...256).contains(t.utf8.count), c) }
        }
        let status = first("status", in: e).map { String(decoding: $0, as: UTF8.self) } ?? "processing"
        #expect(order.status.rawValue == status, c)
    case .status(let update):
        #expect(update.time == expectedTime, c)
        checkID(update.orderID, c)
        #expect(first("status", in: e) == Array(update.status.rawValue.utf8), c)
    }
}

@Suite("EventParser fuzzing")
struct ParserFuzzTests {
    @Test("random field maps never crash; failures have well-formed codes; successes keep the invariants",
          arguments: [(EventSource.cart, UInt64(1)), (.orderPlaced, 2), (.orderStatus, 3)])
    func fuzz(source: EventSource, seed: UInt64) throws {
        let codePattern = #/^(missing|bad)_[a-z_]+$|^empty_entry$/#
        var fuzzer = EntryFuzzer(rng: SeededRandom(seed: 0xD0_0D_FE_ED &+ seed))
        var successes = 0
        var codes: [String: Int] = [:]
        let rounds = 6_000
        for _ in 0..<rounds {
            let e = fuzzer.entry(for: source)
            let result = EventParser.parse(e)
            #expect(EventParser.parse(e) == result, "parsing is deterministic")
            switch result {
            case .success(let event):
                successes += 1
                checkInvariants(event, e)
            case .failure(let r):
                codes[r.code, default: 0] += 1
                #expect(try codePattern.wholeMatch(in: r.code) != nil, "\(r)")
                #expect(knownCodes.contains(r.code), "\(r)")
                #expect(!r.message.isEmpty && !r.message.contains("\n"), "\(r)")
                if e.fields.isEmpty { #expect(r.code == "empty_entry") }
            }
        }
        // The generator must reach both paths, or the checks above would prove nothing.
        #expect(successes >= rounds / 20, "only \(successes) of \(rounds) entries were valid")
        #expect(rounds - successes >= rounds / 5)
        let expected: Set<String> = switch source {
        case .cart: ["empty_entry", "missing_type", "bad_type", "bad_customer_id", "missing_sku", "bad_sku", "bad_qty",
                     "missing_qty", "bad_ts", "bad_title", "bad_event_id"]
        case .orderPlaced: ["empty_entry", "missing_order_id", "bad_order_id", "missing_items", "bad_items",
                            "bad_customer_id", "bad_status", "bad_ts"]
        case .orderStatus: ["empty_entry", "missing_status", "bad_status", "bad_order_id", "bad_customer_id", "bad_ts"]
        }
        #expect(expected.isSubset(of: codes.keys), "codes seen: \(codes)")
    }

    @Test("random bytes and mutated documents never crash the JSON reader")
    func jsonFuzz() {
        var fuzzer = EntryFuzzer(rng: SeededRandom(seed: 99))
        var parsedCount = 0
        for round in 0..<5_000 {
            let bytes = round % 2 == 0 ? fuzzer.itemsBytes() : fuzzer.rng.bytes(max: 64)
            if (try? JSONReader.parse(bytes)) != nil { parsedCount += 1 }
            // Whatever the reader makes of it, the items parser answers with lines or bad_items.
            switch Result(catching: { () throws(Rejection) -> [OrderLine] in try EventParser.parseItems(bytes) }) {
            case .success(let lines): #expect((1...500).contains(lines.count))
            case .failure(let r): #expect(r.code == "bad_items")
            }
        }
        #expect(parsedCount > 500)
    }
}
