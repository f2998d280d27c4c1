/// A Redis stream entry id (`<ms>-<seq>`). Ordered like Redis orders them.
public struct EntryID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: UInt64
    public let sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3`; nil for anything else. Runs once per delivered entry, so it
    /// walks the UTF-8 bytes instead of going through the generic integer parser.
    public init?(_ text: some StringProtocol) {
        var ms: UInt64 = 0
        var seq: UInt64 = 0
        var sawDash = false
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "-") {
                guard !sawDash, digits > 0 else { return nil }
                sawDash = true
                digits = 0
                continue
            }
            guard byte >= 0x30, byte <= 0x39, digits < 19 else { return nil }
            digits += 1
            if sawDash { seq = seq * 10 + UInt64(byte - 0x30) } else { ms = ms * 10 + UInt64(byte - 0x30) }
        }
        guard sawDash, digits > 0 else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    /// Processing order across the three streams: entry id, then the stream (cart, orders,
    /// statuses) for ids equal across streams, so an order and its status update XADDed in the
    /// same millisecond are applied in that order.
    public static func processingOrder(_ a: (EntryID, EventSource), _ b: (EntryID, EventSource)) -> Bool {
        if a.0 != b.0 { return a.0 < b.0 }
        return a.1.rank < b.1.rank
    }

    public static func < (a: EntryID, b: EntryID) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }
}
