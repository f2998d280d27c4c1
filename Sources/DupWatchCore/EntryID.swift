/// A Redis stream entry id (`<ms>-<seq>`). Ordered like Redis orders them.
public struct EntryID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: UInt64
    public let sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3`; nil for anything else.
    public init?(_ text: String) {
        var text = text
        guard let id = text.withUTF8({ EntryID(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }

    /// From the bytes of an id as Redis sends it (`<ms>-<seq>`).
    public init?(utf8: UnsafeRawBufferPointer) {
        guard let dash = utf8.firstIndex(of: UInt8(ascii: "-")),
              case .some(.some(let ms)) = ASCIIDecimal.magnitude(UnsafeRawBufferPointer(rebasing: utf8[..<dash])),
              case .some(.some(let seq)) = ASCIIDecimal.magnitude(UnsafeRawBufferPointer(rebasing: utf8[(dash + 1)...]))
        else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    /// `<ms>-<seq>`, formatted on the stack and then copied: it runs per entry (default event
    /// ids, dead letters, group positions), an id of up to 15 bytes (a 13-digit time and a 1-digit
    /// sequence) then becomes a small string with no heap allocation, and interpolation allocated.
    public var description: String {
        // Two UInt64 (at most 20 digits each) and a dash.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { buffer in
            var n = 0
            func put(_ v: UInt64) {
                var count = 0
                var x = v
                repeat { count += 1; x /= 10 } while x > 0
                var pos = n + count - 1
                x = v
                repeat {
                    buffer[pos] = UInt8(truncatingIfNeeded: 0x30 + x % 10)
                    x /= 10
                    pos -= 1
                } while x > 0
                n += count
            }
            put(milliseconds)
            buffer[n] = 0x2D
            n += 1
            put(sequence)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }

    /// Processing order across the three streams; see `ProcessingKey`.
    public static func processingOrder(_ a: (EntryID, EventSource), _ b: (EntryID, EventSource)) -> Bool {
        ProcessingKey(a.0, a.1) < ProcessingKey(b.0, b.1)
    }

    public static func < (a: EntryID, b: EntryID) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }
}

/// The order in which entries of the three streams are applied: by millisecond, then by stream
/// (cart, orders, statuses), then by sequence. Redis numbers sequences per stream, so two
/// streams' sequences within one millisecond say nothing about which XADD came first; the
/// stream rank follows the customer journey (a status update follows its order).
public struct ProcessingKey: Sendable, Hashable, Comparable {
    public let milliseconds: UInt64
    public let rank: Int
    public let sequence: UInt64

    public init(_ id: EntryID, _ source: EventSource) {
        milliseconds = id.milliseconds
        rank = source.rank
        sequence = id.sequence
    }

    public init(milliseconds: UInt64, rank: Int, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.rank = rank
        self.sequence = sequence
    }

    public static func < (a: ProcessingKey, b: ProcessingKey) -> Bool {
        (a.milliseconds, a.rank, a.sequence) < (b.milliseconds, b.rank, b.sequence)
    }
}
