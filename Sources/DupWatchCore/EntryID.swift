/// A Redis stream entry id (`<ms>-<seq>`). Ordered like Redis orders them.
public struct EntryID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: UInt64
    public let sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let dash = text.firstIndex(of: "-"),
              let ms = UInt64(text[text.startIndex..<dash]),
              let seq = UInt64(text[text.index(after: dash)...])
        else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (a: EntryID, b: EntryID) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }
}
