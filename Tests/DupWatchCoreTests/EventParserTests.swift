import Testing
@testable import DupWatchCore

// MARK: - Helpers (file-private: other people write tests in this module too)

private let testEntryID = EntryID(milliseconds: 1_700_000_000_000, sequence: 7)

private func entry(_ source: EventSource, _ fields: [(String, String)], id: EntryID = testEntryID) -> RawEntry {
    RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field($0.0, $0.1) })
}

private func parsed(_ e: RawEntry) -> Event? {
    if case .success(let event) = EventParser.parse(e) { return event }
    return nil
}

private func rejection(_ e: RawEntry) -> Rejection? {
    if case .failure(let r) = EventParser.parse(e) { return r }
    return nil
}

private func cartEvent(_ e: RawEntry) -> CartEvent? {
    if case .cart(let c)? = parsed(e) { return c }
    return nil
}

private func orderEvent(_ e: RawEntry) -> OrderPlaced? {
    if case .order(let o)? = parsed(e) { return o }
    return nil
}

private func statusEvent(_ e: RawEntry) -> StatusUpdate? {
    if case .status(let s)? = parsed(e) { return s }
    return nil
}

fileprivate extension RawEntry {
    /// Replaces the first field called `name` (or appends one) with raw bytes.
    func setting(_ name: String, bytes: [UInt8]) -> RawEntry {
        var copy = self
        let key = Array(name.utf8)
        if let k = copy.fields.firstIndex(where: { $0.name == key }) {
            copy.fields[k].value = bytes
        } else {
            copy.fields.append(Field(name: key, value: bytes))
        }
        return copy
    }

    func setting(_ name: String, _ value: String) -> RawEntry {
        setting(name, bytes: Array(value.utf8))
    }

    func removing(_ name: String) -> RawEntry {
        var copy = self
        let key = Array(name.utf8)
        copy.fields.removeAll { $0.name == key }
        return copy
    }
}

private let baseAdd = entry(.cart, [("type", "add"), ("customer_id", "c1"), ("sku", "s1")])
private let baseChange = entry(.cart, [("type", "change"), ("customer_id", "c1"), ("sku", "s1"), ("qty", "3")])
private let baseRemove = entry(.cart, [("type", "remove"), ("customer_id", "c1"), ("sku", "s1")])
private let baseClear = entry(.cart, [("type", "clear"), ("customer_id", "c1")])
private let baseOrder = entry(.orderPlaced, [("order_id", "o1"), ("customer_id", "c1"), ("items", #"[{"sku":"a","qty":2}]"#)])
private let baseStatus = entry(.orderStatus, [("order_id", "o1"), ("customer_id", "c1"), ("status", "shipped")])

private let allBases: [RawEntry] = [baseAdd, baseChange, baseRemove, baseClear, baseOrder, baseStatus]

private func string(repeating byte: Character, count: Int) -> String {
    String(repeating: String(byte), count: count)
}

// MARK: - Whole entries

@Suite("EventParser: entries")
struct ParserEntryTests {
    @Test("an entry without fields is empty_entry for every source", arguments: EventSource.allCases)
    func emptyEntry(source: EventSource) throws {
        let r = try #require(rejection(RawEntry(source: source, id: testEntryID, fields: [])))
        #expect(r.code == "empty_entry")
    }

    @Test("an entry with only unknown fields reports the first missing field, not empty_entry")
    func onlyJunkFields() throws {
        #expect(rejection(entry(.cart, [("junk", "1")]))?.code == "missing_type")
        #expect(rejection(entry(.orderPlaced, [("junk", "1")]))?.code == "missing_customer_id")
        #expect(rejection(entry(.orderStatus, [("junk", "1")]))?.code == "missing_customer_id")
    }

    @Test("the base entries used by these tests are valid")
    func basesAreValid() {
        for base in allBases {
            #expect(parsed(base) != nil, "\(base)")
        }
    }

    @Test("unknown fields are ignored", arguments: allBases)
    func unknownFieldsIgnored(base: RawEntry) {
        let noisy = base.setting("price", "garbage\u{01}").setting("Type", "nope").setting("", "")
            .setting("x", bytes: [0xFF, 0xFE])
        #expect(parsed(noisy) == parsed(base))
    }

    @Test("field names are matched exactly (case-sensitive, no trimming)")
    func fieldNamesExact() {
        let e = entry(.cart, [("Type", "add"), ("type ", "add"), ("customer_id", "c1"), ("sku", "s1")])
        #expect(rejection(e)?.code == "missing_type")
        let f = entry(.orderStatus, [("order_id", "o1"), ("customer_ID", "c1"), ("status", "shipped")])
        #expect(rejection(f)?.code == "missing_customer_id")
    }

    @Test("duplicate field names: the first one wins")
    func duplicateFieldsFirstWins() throws {
        let e = entry(.cart, [("type", "add"), ("customer_id", "first"), ("sku", "s1"), ("customer_id", "second")])
        #expect(cartEvent(e)?.customerID == "first")
        // A bad first value is not rescued by a good second one...
        let bad = entry(.cart, [("type", "add"), ("customer_id", "c1"), ("sku", "s1"), ("qty", ""), ("qty", "5")])
        #expect(rejection(bad)?.code == "bad_qty")
        // ...and a bad second value does not spoil a good first one.
        let good = entry(.cart, [("type", "add"), ("customer_id", "c1"), ("sku", "s1"), ("qty", "5"), ("qty", "x")])
        #expect(cartEvent(good)?.action == .add(sku: "s1", quantity: 5))
        let type = entry(.cart, [("type", "clear"), ("type", "add"), ("customer_id", "c1")])
        #expect(cartEvent(type)?.action == .clear)
    }

    @Test("field names read from a reply keep their exact bytes, whether shared or not",
          arguments: ["type", "customer_id", "sku", "qty", "ts", "title", "event_id", "order_id", "items", "status",
                      "Type", "type ", "sk", "customer_ID", "price", ""])
    func fieldNameFromReplyBytes(name: String) {
        let bytes = Array(name.utf8)
        let read = bytes.withUnsafeBytes { RawEntry.Field.name($0) }
        #expect(read == bytes)
        // A shared contract name classifies like the bytes it came from.
        #expect(FieldKey.classify(read) == FieldKey.classify(bytes))
    }

    @Test("every contract field's name classifies as that field", arguments: FieldKey.allCases)
    func fieldNameClassifiesAsItsKey(key: FieldKey) {
        #expect(FieldKey.classify(Array(key.name.utf8)) == key)
        #expect(FieldKey.names[key.rawValue] == Array(key.name.utf8))
    }

    @Test("an entry built from shared field names parses like one built from fresh arrays", arguments: allBases)
    func sharedNamesParseAlike(base: RawEntry) {
        var shared = base
        shared.fields = base.fields.map { field in
            RawEntry.Field(name: field.name.withUnsafeBytes { RawEntry.Field.name($0) }, value: field.value)
        }
        #expect(parsed(shared) == parsed(base))
    }

    @Test("the Rejection reason is code: message")
    func reasonFormat() throws {
        let r = try #require(rejection(baseAdd.setting("qty", "abc")))
        #expect(r.reason == #"bad_qty: qty "abc" is not an integer"#)
    }
}

// MARK: - Cart

@Suite("EventParser: cart")
struct ParserCartTests {
    @Test("add with only the required fields gets every default")
    func addDefaults() throws {
        let c = try #require(cartEvent(baseAdd))
        #expect(c.action == .add(sku: "s1", quantity: 1))
        #expect(c.customerID == "c1")
        #expect(c.action.sku == "s1")
        #expect(c.title == nil)
        #expect(c.time == 1_700_000_000_000)
        #expect(c.eventID == "1700000000000-7")
        #expect(c.hasExplicitEventID == false)
    }

    @Test("the default event_id is the full entry id text, even for large ids")
    func defaultEventIDLarge() throws {
        let id = EntryID(milliseconds: UInt64.max, sequence: 0)
        let c = try #require(cartEvent(RawEntry(source: .cart, id: id, fields: baseAdd.fields)))
        #expect(c.eventID == "18446744073709551615-0")
        #expect(EntryID(milliseconds: 0, sequence: UInt64.max).description == "0-18446744073709551615")
        #expect(EntryID(milliseconds: 5, sequence: 10).description == "5-10")
    }

    @Test("an add with every optional field keeps them")
    func addAllFields() throws {
        let e = baseAdd.setting("qty", "4").setting("title", "Blue mug").setting("event_id", "evt-1")
            .setting("ts", "2026-11-23T10:00:00Z")
        let c = try #require(cartEvent(e))
        #expect(c.action == .add(sku: "s1", quantity: 4))
        #expect(c.title == "Blue mug")
        #expect(c.eventID == "evt-1")
        #expect(c.hasExplicitEventID)
        #expect(c.time == 1_795_428_000_000)
    }

    @Test("change, remove and clear map to their actions")
    func actions() throws {
        #expect(cartEvent(baseChange)?.action == .change(sku: "s1", quantity: 3))
        #expect(cartEvent(baseRemove)?.action == .remove(sku: "s1"))
        let clear = try #require(cartEvent(baseClear))
        #expect(clear.action == .clear)
        #expect(clear.action.sku == nil)
    }

    // type

    @Test("type is required")
    func typeMissing() {
        #expect(rejection(baseAdd.removing("type")) == Rejection("missing_type", "type is missing"))
    }

    @Test("type values are exact and case-sensitive", arguments: ["", "Add", "ADD", "Clear", "delete", "add ", " add", "ad"])
    func typeBad(value: String) throws {
        let r = try #require(rejection(baseAdd.setting("type", value)))
        #expect(r.code == "bad_type")
    }

    @Test("bad type message quotes the value")
    func typeMessage() {
        #expect(rejection(baseAdd.setting("type", "Add"))
            == Rejection("bad_type", #"type "Add" is not one of add, change, remove, clear"#))
        #expect(rejection(baseAdd.setting("type", "")) == Rejection("bad_type", "type is empty"))
    }

    @Test("type is checked before customer_id, customer_id before the rest")
    func order() {
        let noCustomer = entry(.cart, [("type", "nope"), ("qty", "x")])
        #expect(rejection(noCustomer)?.code == "bad_type")
        let noType = entry(.cart, [("customer_id", "{")])
        #expect(rejection(noType)?.code == "missing_type")
        let badCustomerAndSku = entry(.cart, [("type", "add"), ("customer_id", "{x}"), ("qty", "x")])
        #expect(rejection(badCustomerAndSku)?.code == "bad_customer_id")
        let badSkuAndQty = entry(.cart, [("type", "add"), ("customer_id", "c"), ("qty", "x")])
        #expect(rejection(badSkuAndQty)?.code == "missing_sku")
        let badQtyAndTs = baseAdd.setting("qty", "x").setting("ts", "x")
        #expect(rejection(badQtyAndTs)?.code == "bad_qty")
        let badTsAndTitle = baseAdd.setting("ts", "x").setting("title", bytes: [0xFF])
        #expect(rejection(badTsAndTitle)?.code == "bad_ts")
        let badTitleAndEventID = baseAdd.setting("title", bytes: [0xFF]).setting("event_id", "")
        #expect(rejection(badTitleAndEventID)?.code == "bad_title")
    }

    // customer_id

    @Test("customer_id is required and must not be empty")
    func customerMissingOrEmpty() {
        #expect(rejection(baseAdd.removing("customer_id")) == Rejection("missing_customer_id", "customer_id is missing"))
        #expect(rejection(baseAdd.setting("customer_id", "")) == Rejection("bad_customer_id", "customer_id is empty"))
    }

    @Test("customer_id of 128 bytes is fine, 129 is not")
    func customerLength() {
        let ok = string(repeating: "c", count: 128)
        #expect(cartEvent(baseAdd.setting("customer_id", ok))?.customerID == ok)
        #expect(rejection(baseAdd.setting("customer_id", string(repeating: "c", count: 129)))
            == Rejection("bad_customer_id", "customer_id is 129 bytes; ids are 1-128 bytes"))
        // The limit counts bytes, not characters: 64 × "é" (2 bytes each) = 128 OK; 65 × "é" = 130 too long.
        #expect(cartEvent(baseAdd.setting("customer_id", string(repeating: "é", count: 64))) != nil)
        #expect(rejection(baseAdd.setting("customer_id", string(repeating: "é", count: 65)))?.code == "bad_customer_id")
    }

    @Test("customer_id must not contain { or }", arguments: ["{", "}", "a{b", "user}", "{tag}"])
    func customerBraces(value: String) {
        #expect(rejection(baseAdd.setting("customer_id", value))
            == Rejection("bad_customer_id", "customer_id must not contain { or }"))
    }

    @Test("ids reject control characters (C0, DEL, C1)",
          arguments: ["a\u{00}b", "a\u{01}", "\tx", "x\n", "x\r", "\u{1F}", "a\u{7F}", "a\u{80}", "b\u{85}", "c\u{9F}"])
    func idControlCharacters(value: String) {
        #expect(rejection(baseAdd.setting("customer_id", value))?.code == "bad_customer_id")
        #expect(rejection(baseAdd.setting("sku", value))?.code == "bad_sku")
        #expect(rejection(baseOrder.setting("order_id", value))?.code == "bad_order_id")
        #expect(rejection(baseAdd.setting("event_id", value))?.code == "bad_event_id")
    }

    @Test("control character message quotes the value JSON-escaped")
    func controlMessage() {
        #expect(rejection(baseAdd.setting("sku", "a\u{01}"))
            == Rejection("bad_sku", #"sku "a\u0001" contains a control character"#))
    }

    @Test("ids accept non-ASCII characters just outside the control ranges",
          arguments: ["\u{A0}", "é", "日本", "😀", "\u{7E}", "a b", "\u{10FFFF}"])
    func idNonASCIIAccepted(value: String) {
        #expect(cartEvent(baseAdd.setting("customer_id", value))?.customerID == value)
    }

    @Test("ids reject invalid UTF-8",
          arguments: [[0xFF], [0x61, 0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xE2, 0x82], [0xED, 0xA0, 0x80],
                      [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
                      [0xC3]] as [[UInt8]])
    func idInvalidUTF8(bytes: [UInt8]) {
        #expect(rejection(baseAdd.setting("customer_id", bytes: bytes))
            == Rejection("bad_customer_id", "customer_id is not valid UTF-8"))
        #expect(rejection(baseAdd.setting("sku", bytes: bytes))?.code == "bad_sku")
        #expect(rejection(baseAdd.setting("event_id", bytes: bytes))?.code == "bad_event_id")
    }

    // sku

    @Test("sku is required for add, change and remove", arguments: [baseAdd, baseChange, baseRemove])
    func skuRequired(base: RawEntry) {
        #expect(rejection(base.removing("sku")) == Rejection("missing_sku", "sku is missing"))
        #expect(rejection(base.setting("sku", "")) == Rejection("bad_sku", "sku is empty"))
    }

    @Test("sku may contain braces (only customer_id may not)")
    func skuBraces() {
        #expect(cartEvent(baseAdd.setting("sku", "{sku}"))?.action.sku == "{sku}")
    }

    @Test("sku of 128 bytes is fine, 129 is not")
    func skuLength() {
        let ok = string(repeating: "s", count: 128)
        #expect(cartEvent(baseAdd.setting("sku", ok))?.action.sku == ok)
        #expect(rejection(baseAdd.setting("sku", string(repeating: "s", count: 129)))
            == Rejection("bad_sku", "sku is 129 bytes; ids are 1-128 bytes"))
    }

    @Test("sku is ignored on clear, whatever it holds")
    func skuIgnoredOnClear() {
        for value: [UInt8] in [[], [0xFF], Array("{x}".utf8), [UInt8](repeating: 0x61, count: 500)] {
            let c = cartEvent(baseClear.setting("sku", bytes: value))
            #expect(c?.action == .clear)
            #expect(c?.action.sku == nil)
        }
    }

    // qty

    @Test("add qty accepts 1, 007 and 1000000", arguments: [("1", 1), ("007", 7), ("1000000", 1_000_000), ("0000000000000000000000000000042", 42)])
    func addQtyValid(text: String, value: Int) {
        #expect(cartEvent(baseAdd.setting("qty", text))?.action == .add(sku: "s1", quantity: value))
    }

    @Test("add qty rejects out-of-range and non-integers",
          arguments: ["0", "1000001", "-1", "1.5", "1e3", " 1", "1 ", "+1", "abc", "", "0x10", "１",
                      "123456789012345678901234567890", "99999999999999999999"])
    func addQtyInvalid(text: String) {
        #expect(rejection(baseAdd.setting("qty", text))?.code == "bad_qty")
    }

    @Test("a negative qty is an integer out of range, not a non-integer")
    func negativeQtyIsOutOfRange() {
        #expect(rejection(baseAdd.setting("qty", "-3")) == Rejection("bad_qty", #"qty "-3" is out of range 1-1000000"#))
        #expect(rejection(baseChange.setting("qty", "-3")) == Rejection("bad_qty", #"qty "-3" is out of range 0-1000000"#))
        #expect(rejection(baseAdd.setting("qty", "1.5")) == Rejection("bad_qty", #"qty "1.5" is not an integer"#))
        #expect(rejection(baseAdd.setting("qty", "+3")) == Rejection("bad_qty", #"qty "+3" is not an integer"#))
    }

    @Test("change qty is required and accepts 0 through 1000000")
    func changeQty() {
        #expect(rejection(baseChange.removing("qty")) == Rejection("missing_qty", "qty is missing"))
        #expect(cartEvent(baseChange.setting("qty", "0"))?.action == .change(sku: "s1", quantity: 0))
        #expect(cartEvent(baseChange.setting("qty", "1"))?.action == .change(sku: "s1", quantity: 1))
        #expect(cartEvent(baseChange.setting("qty", "007"))?.action == .change(sku: "s1", quantity: 7))
        #expect(cartEvent(baseChange.setting("qty", "1000000"))?.action == .change(sku: "s1", quantity: 1_000_000))
    }

    @Test("change qty rejects out-of-range and non-integers",
          arguments: ["1000001", "-1", "-0", "1.5", "1e3", " 1", "", "abc", "123456789012345678901234567890"])
    func changeQtyInvalid(text: String) {
        #expect(rejection(baseChange.setting("qty", text))?.code == "bad_qty")
    }

    @Test("qty messages quote the value")
    func qtyMessages() {
        #expect(rejection(baseAdd.setting("qty", "abc")) == Rejection("bad_qty", #"qty "abc" is not an integer"#))
        #expect(rejection(baseAdd.setting("qty", "0")) == Rejection("bad_qty", #"qty "0" is out of range 1-1000000"#))
        #expect(rejection(baseChange.setting("qty", "1000001"))
            == Rejection("bad_qty", #"qty "1000001" is out of range 0-1000000"#))
        #expect(rejection(baseAdd.setting("qty", "")) == Rejection("bad_qty", "qty is empty"))
        #expect(rejection(baseAdd.setting("qty", "a\"b")) == Rejection("bad_qty", #"qty "a\"b" is not an integer"#))
    }

    @Test("long bad values are truncated in messages")
    func truncatedQuote() throws {
        let long = string(repeating: "9", count: 300)
        let r = try #require(rejection(baseAdd.setting("qty", long)))
        #expect(r.code == "bad_qty")
        #expect(r.message.utf8.count < 120)
        #expect(r.message.contains(string(repeating: "9", count: 64) + "…"))
        #expect(!r.message.contains(string(repeating: "9", count: 65)))
        // A cut never splits a UTF-8 sequence: 100 × "é" starts at an even offset, so 64 bytes = 32 é.
        let e = try #require(rejection(baseAdd.setting("qty", string(repeating: "é", count: 100))))
        #expect(e.message == "qty \"" + string(repeating: "é", count: 32) + "…\" is not an integer")
        // Invalid UTF-8 in a quoted value becomes U+FFFD.
        let f = try #require(rejection(baseAdd.setting("qty", bytes: [0x31, 0xFF])))
        #expect(f.message == "qty \"1\u{FFFD}\" is not an integer")
    }

    @Test("qty is ignored for remove and clear", arguments: [baseRemove, baseClear])
    func qtyIgnored(base: RawEntry) {
        for value: [UInt8] in [Array("abc".utf8), [], [0xFF], Array("-5".utf8)] {
            #expect(parsed(base.setting("qty", bytes: value)) == parsed(base))
        }
    }

    // title

    @Test("title of 256 bytes is kept, 257 is rejected")
    func titleLength() {
        let ok = string(repeating: "t", count: 256)
        #expect(cartEvent(baseAdd.setting("title", ok))?.title == ok)
        #expect(rejection(baseAdd.setting("title", string(repeating: "t", count: 257)))
            == Rejection("bad_title", "title is 257 bytes; at most 256 are allowed"))
    }

    @Test("an empty title means no title")
    func titleEmpty() throws {
        let c = try #require(cartEvent(baseAdd.setting("title", "")))
        #expect(c.title == nil)
    }

    @Test("title must be valid UTF-8 but may hold any characters")
    func titleUTF8() {
        #expect(rejection(baseAdd.setting("title", bytes: [0x4D, 0xFF])) == Rejection("bad_title", "title is not valid UTF-8"))
        #expect(cartEvent(baseAdd.setting("title", "Tasse „Blau“ {2}"))?.title == "Tasse „Blau“ {2}")
    }

    @Test("title is kept on change and remove, ignored on clear")
    func titlePerType() {
        #expect(cartEvent(baseChange.setting("title", "T"))?.title == "T")
        #expect(cartEvent(baseRemove.setting("title", "T"))?.title == "T")
        let clear = cartEvent(baseClear.setting("title", bytes: [0xFF]))
        #expect(clear?.action == .clear)
        #expect(clear?.title == nil)
    }

    // event_id

    @Test("event_id is validated like an id and marks the event explicit")
    func eventID() {
        let c = cartEvent(baseAdd.setting("event_id", "{evt}-1"))
        #expect(c?.eventID == "{evt}-1")
        #expect(c?.hasExplicitEventID == true)
        #expect(rejection(baseAdd.setting("event_id", "")) == Rejection("bad_event_id", "event_id is empty"))
        #expect(rejection(baseAdd.setting("event_id", string(repeating: "e", count: 129)))
            == Rejection("bad_event_id", "event_id is 129 bytes; ids are 1-128 bytes"))
        #expect(cartEvent(baseClear.setting("event_id", string(repeating: "e", count: 128)))?.hasExplicitEventID == true)
    }

    // ts

    @Test("ts overrides the entry id time; absent ts uses the entry id milliseconds")
    func cartTime() {
        #expect(cartEvent(baseAdd)?.time == 1_700_000_000_000)
        #expect(cartEvent(baseAdd.setting("ts", "1700000000123"))?.time == 1_700_000_000_123)
        #expect(cartEvent(baseAdd.setting("ts", "2026-11-23T10:00:00+01:00"))?.time == 1_795_424_400_000)
        let other = RawEntry(source: .cart, id: EntryID(milliseconds: 42, sequence: 0), fields: baseClear.fields)
        #expect(cartEvent(other)?.time == 42)
    }

    @Test("bad ts is rejected, also on types that ignore qty and sku",
          arguments: ["", "abc", "2026-02-30T00:00:00Z", "2026-11-23T10:00:00", "-1", "1.5", "253402300800000"])
    func cartBadTs(value: String) {
        #expect(rejection(baseAdd.setting("ts", value))?.code == "bad_ts")
        #expect(rejection(baseClear.setting("ts", value))?.code == "bad_ts")
    }

    @Test("bad ts message")
    func tsMessage() {
        #expect(rejection(baseAdd.setting("ts", "yesterday"))
            == Rejection("bad_ts", #"ts "yesterday" is not epoch milliseconds or ISO-8601 with a zone"#))
        #expect(rejection(baseAdd.setting("ts", "")) == Rejection("bad_ts", "ts is empty"))
    }
}

// MARK: - Order placed

@Suite("EventParser: order placed")
struct ParserOrderPlacedTests {
    func items(_ json: String) -> RawEntry { baseOrder.setting("items", json) }

    func itemsRejection(_ json: String) -> Rejection? { rejection(items(json)) }

    @Test("minimal order gets status processing and the entry id time")
    func defaults() throws {
        let o = try #require(orderEvent(baseOrder))
        #expect(o.orderID == "o1")
        #expect(o.customerID == "c1")
        #expect(o.lines == [OrderLine(sku: "a", quantity: 2)])
        #expect(o.status == .processing)
        #expect(o.time == 1_700_000_000_000)
    }

    @Test("explicit status and ts are used")
    func explicitStatusAndTime() throws {
        let o = try #require(orderEvent(baseOrder.setting("status", "delivered").setting("ts", "2024-02-29T12:34:56.789Z")))
        #expect(o.status == .delivered)
        #expect(o.time == 1_709_210_096_789)
    }

    @Test("every status value is accepted", arguments: OrderStatus.allCases)
    func statuses(status: OrderStatus) {
        #expect(orderEvent(baseOrder.setting("status", status.rawValue))?.status == status)
    }

    @Test("status is case-sensitive and must not be empty", arguments: ["Shipped", "PROCESSING", "canceled", "", "done", "shipped "])
    func badStatus(value: String) {
        #expect(rejection(baseOrder.setting("status", value))?.code == "bad_status")
    }

    @Test("required fields: customer_id, order_id, items (customer_id is reported first)")
    func required() {
        #expect(rejection(baseOrder.removing("customer_id"))?.code == "missing_customer_id")
        #expect(rejection(baseOrder.removing("order_id")) == Rejection("missing_order_id", "order_id is missing"))
        #expect(rejection(baseOrder.removing("items")) == Rejection("missing_items", "items is missing"))
        #expect(rejection(baseOrder.removing("order_id").removing("customer_id"))?.code == "missing_customer_id")
        #expect(rejection(baseOrder.setting("order_id", "")) == Rejection("bad_order_id", "order_id is empty"))
        #expect(rejection(baseOrder.setting("items", "")) == Rejection("bad_items", "items is empty"))
        #expect(rejection(baseOrder.setting("customer_id", "{c}"))?.code == "bad_customer_id")
    }

    @Test("order_id: 128 bytes ok, 129 bad, braces allowed")
    func orderID() {
        #expect(orderEvent(baseOrder.setting("order_id", string(repeating: "o", count: 128))) != nil)
        #expect(rejection(baseOrder.setting("order_id", string(repeating: "o", count: 129)))?.code == "bad_order_id")
        #expect(orderEvent(baseOrder.setting("order_id", "{o}"))?.orderID == "{o}")
    }

    @Test("items is checked before status and ts")
    func itemsBeforeStatus() {
        #expect(rejection(items("x").setting("status", "x").setting("ts", "x"))?.code == "bad_items")
        #expect(rejection(baseOrder.setting("status", "x").setting("ts", "x"))?.code == "bad_status")
    }

    @Test("items that are not JSON", arguments: ["[", "[{", "abc", "[1,]", "{\"sku\":", "[01]", "[\"\\x\"]", "[1] [2]"])
    func notJSON(json: String) throws {
        let r = try #require(itemsRejection(json))
        #expect(r.code == "bad_items")
        #expect(r.message.hasPrefix("items is not valid JSON: "))
    }

    @Test("a JSON syntax error names the byte offset")
    func jsonErrorMessage() {
        #expect(itemsRejection("[1,}") == Rejection("bad_items", "items is not valid JSON: unexpected character at byte 3"))
        #expect(rejection(baseOrder.setting("items", bytes: [0x5B, 0x22, 0xFF, 0x22, 0x5D]))
            == Rejection("bad_items", "items is not valid JSON: invalid UTF-8 at byte 2"))
    }

    @Test("items must be an array", arguments: [#"{"sku":"a","qty":1}"#, #""a""#, "1", "null", "true"])
    func notArray(json: String) {
        #expect(itemsRejection(json) == Rejection("bad_items", "items is not a JSON array"))
    }

    @Test("items must not be an empty array")
    func emptyArray() {
        #expect(itemsRejection("[]") == Rejection("bad_items", "items is an empty array; at least 1 line is required"))
        #expect(itemsRejection(" [ ] ")?.code == "bad_items")
    }

    func manyLines(_ n: Int) -> String {
        "[" + (0..<n).map { #"{"sku":"s\#($0)","qty":1}"# }.joined(separator: ",") + "]"
    }

    @Test("500 lines are accepted, 501 are not")
    func lineLimit() throws {
        let o = try #require(orderEvent(items(manyLines(500))))
        #expect(o.lines.count == 500)
        #expect(o.lines.first == OrderLine(sku: "s0", quantity: 1))
        #expect(o.lines.last == OrderLine(sku: "s499", quantity: 1))
        #expect(itemsRejection(manyLines(501)) == Rejection("bad_items", "items has 501 lines; at most 500 are allowed"))
    }

    @Test("every line must be an object", arguments: ["[1]", "[[]]", "[null]", #"["a"]"#, #"[{"sku":"a","qty":1},2]"#])
    func lineNotObject(json: String) throws {
        let r = try #require(itemsRejection(json))
        #expect(r.code == "bad_items")
        #expect(r.message.hasSuffix("is not an object"))
    }

    @Test("line numbers in messages are 1-based")
    func lineNumbers() {
        #expect(itemsRejection(#"[{"sku":"a","qty":1},2]"#) == Rejection("bad_items", "items line 2 is not an object"))
    }

    @Test("sku must be a JSON string holding a valid id",
          arguments: [#"[{"qty":1}]"#, #"[{"sku":5,"qty":1}]"#, #"[{"sku":null,"qty":1}]"#, #"[{"sku":["a"],"qty":1}]"#,
                      #"[{"sku":"","qty":1}]"#, #"[{"sku":"a\u0001","qty":1}]"#, #"[{"sku":"a\u0085","qty":1}]"#,
                      #"[{"sku":"a\n","qty":1}]"#])
    func badSku(json: String) {
        #expect(itemsRejection(json)?.code == "bad_items")
    }

    @Test("sku messages")
    func skuMessages() {
        #expect(itemsRejection(#"[{"qty":1}]"#) == Rejection("bad_items", "items line 1 has no sku"))
        #expect(itemsRejection(#"[{"sku":5,"qty":1}]"#) == Rejection("bad_items", "items line 1 sku 5 is not a string"))
        let long = string(repeating: "k", count: 129)
        #expect(itemsRejection(#"[{"sku":"\#(long)","qty":1}]"#)
            == Rejection("bad_items", "items line 1 sku is 129 bytes; ids are 1-128 bytes"))
    }

    @Test("sku of 128 bytes, braces and escapes are fine")
    func goodSku() throws {
        let long = string(repeating: "k", count: 128)
        #expect(orderEvent(items(#"[{"sku":"\#(long)","qty":1}]"#))?.lines.first?.sku == long)
        #expect(orderEvent(items(#"[{"sku":"{a}","qty":1}]"#))?.lines.first?.sku == "{a}")
        #expect(orderEvent(items(#"[{"sku":"caf\u00e9 \"x\"","qty":1}]"#))?.lines.first?.sku == "café \"x\"")
    }

    @Test("qty must be a JSON integer 1-1000000",
          arguments: ["1.0", "1e2", "1E2", "\"3\"", "true", "null", "0", "-1", "-0", "1000001", "[1]",
                      "123456789012345678901234567890", "1.5"])
    func badQty(qty: String) {
        #expect(itemsRejection(#"[{"sku":"a","qty":\#(qty)}]"#)?.code == "bad_items")
    }

    @Test("qty messages")
    func qtyMessages() {
        #expect(itemsRejection(#"[{"sku":"a"}]"#) == Rejection("bad_items", "items line 1 has no qty"))
        #expect(itemsRejection(#"[{"sku":"a","qty":1.0}]"#) == Rejection("bad_items", "items line 1 qty 1.0 is not an integer"))
        #expect(itemsRejection(#"[{"sku":"a","qty":"3"}]"#) == Rejection("bad_items", #"items line 1 qty "3" is not an integer"#))
        #expect(itemsRejection(#"[{"sku":"a","qty":0}]"#) == Rejection("bad_items", "items line 1 qty 0 is out of range 1-1000000"))
    }

    @Test("qty 1 and 1000000 are accepted")
    func qtyBounds() {
        #expect(orderEvent(items(#"[{"sku":"a","qty":1}]"#))?.lines == [OrderLine(sku: "a", quantity: 1)])
        #expect(orderEvent(items(#"[{"sku":"a","qty":1000000}]"#))?.lines == [OrderLine(sku: "a", quantity: 1_000_000)])
    }

    @Test("lines of the same sku are summed in order of first appearance")
    func duplicateSkusSummed() throws {
        let o = try #require(orderEvent(items(#"[{"sku":"b","qty":1},{"sku":"a","qty":2},{"sku":"b","qty":3},{"sku":"c","qty":1},{"sku":"a","qty":5}]"#)))
        #expect(o.lines == [OrderLine(sku: "b", quantity: 4), OrderLine(sku: "a", quantity: 7), OrderLine(sku: "c", quantity: 1)])
    }

    @Test("summing works the same for large orders (more than 16 distinct skus)")
    func duplicateSkusSummedLarge() throws {
        var parts: [String] = []
        for round in 1...3 {
            for k in 0..<40 { parts.append(#"{"sku":"s\#(k)","qty":\#(round)}"#) }
        }
        let o = try #require(orderEvent(items("[" + parts.joined(separator: ",") + "]")))
        #expect(o.lines.map(\.sku) == (0..<40).map { "s\($0)" })
        #expect(o.lines.allSatisfy { $0.quantity == 6 })
    }

    @Test("a summed quantity above 1000000 is rejected; exactly 1000000 is fine")
    func sumCap() {
        #expect(orderEvent(items(#"[{"sku":"a","qty":999999},{"sku":"a","qty":1}]"#))?.lines
            == [OrderLine(sku: "a", quantity: 1_000_000)])
        #expect(itemsRejection(#"[{"sku":"a","qty":1000000},{"sku":"a","qty":1}]"#)
            == Rejection("bad_items", #"items sku "a" adds up to 1000001; at most 1000000 are allowed"#))
    }

    @Test("the first non-empty title of a sku wins; null and empty mean none")
    func titles() throws {
        let o = try #require(orderEvent(items(#"[{"sku":"a","qty":1,"title":""},{"sku":"b","qty":1,"title":null},{"sku":"a","qty":1,"title":"First"},{"sku":"a","qty":1,"title":"Second"},{"sku":"c","qty":1}]"#)))
        #expect(o.lines == [OrderLine(sku: "a", quantity: 3, title: "First"),
                            OrderLine(sku: "b", quantity: 1, title: nil),
                            OrderLine(sku: "c", quantity: 1, title: nil)])
    }

    @Test("title must be a string (or null) of at most 256 bytes")
    func badTitles() {
        #expect(itemsRejection(#"[{"sku":"a","qty":1,"title":5}]"#) == Rejection("bad_items", "items line 1 title 5 is not a string"))
        #expect(itemsRejection(#"[{"sku":"a","qty":1,"title":{}}]"#)?.code == "bad_items")
        let t256 = string(repeating: "t", count: 256)
        #expect(orderEvent(items(#"[{"sku":"a","qty":1,"title":"\#(t256)"}]"#))?.lines.first?.title == t256)
        #expect(itemsRejection(#"[{"sku":"a","qty":1,"title":"\#(t256)t"}]"#)
            == Rejection("bad_items", "items line 1 title is 257 bytes; at most 256 are allowed"))
    }

    @Test("unknown keys in a line are ignored; repeated known keys are rejected")
    func lineKeys() {
        #expect(orderEvent(items(#"[{"price":9.99,"sku":"a","extra":{"x":[1]},"qty":1}]"#))?.lines
            == [OrderLine(sku: "a", quantity: 1)])
        #expect(itemsRejection(#"[{"sku":"a","qty":1,"qty":5}]"#)
            == Rejection("bad_items", #"items line 1 has more than one "qty" key"#))
        #expect(itemsRejection(#"[{"sku":"a","sku":"b","qty":1}]"#)?.code == "bad_items")
    }

    @Test("whitespace around JSON tokens is allowed")
    func whitespace() {
        #expect(orderEvent(items(" [ {\n\"sku\" : \"a\" ,\t\"qty\" : 2 } ] \r\n"))?.lines == [OrderLine(sku: "a", quantity: 2)])
    }

    @Test("qty and title fields outside items are ignored on orders")
    func unusedFields() {
        #expect(parsed(baseOrder.setting("qty", "x").setting("sku", "").setting("type", "zzz")) == parsed(baseOrder))
    }

    @Test("bad ts on an order")
    func badTs() {
        #expect(rejection(baseOrder.setting("ts", "2026-11-23T10:00:00z"))?.code == "bad_ts")
    }
}

// MARK: - Order status

@Suite("EventParser: order status")
struct ParserOrderStatusTests {
    @Test("valid status update; time defaults to the entry id")
    func valid() throws {
        let s = try #require(statusEvent(baseStatus))
        #expect(s == StatusUpdate(orderID: "o1", customerID: "c1", status: .shipped, time: 1_700_000_000_000))
    }

    @Test("every status value is accepted", arguments: OrderStatus.allCases)
    func statuses(status: OrderStatus) {
        #expect(statusEvent(baseStatus.setting("status", status.rawValue))?.status == status)
    }

    @Test("status is required, non-empty and case-sensitive")
    func status() {
        #expect(rejection(baseStatus.removing("status")) == Rejection("missing_status", "status is missing"))
        #expect(rejection(baseStatus.setting("status", "")) == Rejection("bad_status", "status is empty"))
        #expect(rejection(baseStatus.setting("status", "Shipped"))
            == Rejection("bad_status", #"status "Shipped" is not one of processing, shipped, delivered, cancelled, returned"#))
        #expect(rejection(baseStatus.setting("status", "CANCELLED"))?.code == "bad_status")
    }

    @Test("ts becomes the update time and is validated")
    func time() {
        #expect(statusEvent(baseStatus.setting("ts", "2026-11-23T10:00:00-0530"))?.time == 1_795_447_800_000)
        #expect(statusEvent(baseStatus.setting("ts", "5"))?.time == 5)
        #expect(rejection(baseStatus.setting("ts", "2026-11-23T24:00:00Z"))?.code == "bad_ts")
    }

    @Test("customer_id and order_id are required and validated, customer_id first")
    func ids() {
        #expect(rejection(baseStatus.removing("customer_id")) == Rejection("missing_customer_id", "customer_id is missing"))
        #expect(rejection(baseStatus.removing("order_id"))?.code == "missing_order_id")
        #expect(rejection(baseStatus.removing("order_id").setting("customer_id", ""))?.code == "bad_customer_id")
        #expect(rejection(baseStatus.setting("order_id", bytes: [0xFE]))?.code == "bad_order_id")
        #expect(rejection(baseStatus.setting("customer_id", "a}")) == Rejection("bad_customer_id", "customer_id must not contain { or }"))
        #expect(rejection(baseStatus.removing("status").setting("order_id", ""))?.code == "bad_order_id")
    }

    @Test("fields a status update does not use are ignored")
    func unusedFields() {
        #expect(parsed(baseStatus.setting("items", "not json").setting("qty", "-1").setting("title", bytes: [0xFF]))
            == parsed(baseStatus))
    }
}
