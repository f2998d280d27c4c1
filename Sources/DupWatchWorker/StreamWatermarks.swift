public import DupWatchCore

/// Merges the three input streams into entry-id order when they are read one at a time, each
/// possibly on another node of a cluster (the router's case: `stream:cart:events`,
/// `stream:order:placed` and `stream:order:status` hash to different slots, so one XREAD
/// cannot read them together).
///
/// For each stream it keeps a watermark: a processing key below which no entry of that stream
/// can still arrive unread. After a read that returned the whole COUNT, that is just past the
/// last entry read. After a shorter read, it is the node's clock read just before (`TIME`
/// pipelined ahead of the XREAD on the same connection): Redis runs commands one at a time and
/// gives an entry added later an id of at least its clock then. An entry is handed out only
/// when its key is below every stream's watermark, so an order never overtakes a cart event
/// with a smaller id that is still to be read. Producers must let Redis assign ids (`*`): an
/// explicit id from the past can arrive below a watermark.
public struct StreamWatermarks: Sendable {
    private var carried: [EventSource: [DeliveredEntry]] = [:]
    /// Exclusive: every entry of the stream with a smaller key has been read.
    private var watermarks: [EventSource: ProcessingKey] = [:]

    public init() {}

    /// Adds one read of `source`: its entries in id order, whether it returned the whole COUNT,
    /// and the clock of the stream's node (`TIME`, in ms) taken just before the read.
    public mutating func add(_ source: EventSource, entries: [DeliveredEntry], full: Bool, nodeTimeMs: UInt64) {
        carried[source, default: []].append(contentsOf: entries)
        var mark = watermarks[source] ?? ProcessingKey(milliseconds: 0, rank: source.rank, sequence: 0)
        if let last = entries.last {
            mark = max(mark, ProcessingKey(milliseconds: last.id.milliseconds, rank: source.rank, sequence: last.id.sequence &+ 1))
        }
        if !full {
            mark = max(mark, ProcessingKey(milliseconds: nodeTimeMs, rank: source.rank, sequence: 0))
        }
        watermarks[source] = mark
    }

    /// The lowest watermark: entries below it are complete in every stream. Nil until every
    /// stream has been read once.
    public var frontier: ProcessingKey? {
        guard watermarks.count == EventSource.allCases.count else { return nil }
        return watermarks.values.min()
    }

    /// The entries that are safe to hand out now, in processing order; the rest stay carried.
    public mutating func take() -> [DeliveredEntry] {
        guard let frontier else { return [] }
        var ready: [DeliveredEntry] = []
        for source in EventSource.allCases {
            guard let entries = carried[source], !entries.isEmpty else { continue }
            let split = entries.firstIndex { $0.key >= frontier } ?? entries.endIndex
            ready += entries[..<split]
            carried[source] = Array(entries[split...])
        }
        return ready.sorted { $0.key < $1.key }
    }

    /// How many entries of `source` are read but not handed out yet.
    public func carriedCount(_ source: EventSource) -> Int { carried[source]?.count ?? 0 }

    public mutating func removeAll() {
        carried = [:]
        watermarks = [:]
    }
}
