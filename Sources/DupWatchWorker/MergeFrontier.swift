public import DupWatchCore

/// Merges three streams read `COUNT` at a time into one entry-id order.
///
/// A stream that returned a full `COUNT` may hold more entries just after the last one read;
/// an entry of another stream with a larger id must wait for them, or a status update could
/// overtake the order it refers to. Entries past the frontier are carried to the next batch
/// (the group's position does not move past them until they are committed, so a crash loses
/// nothing).
public struct MergeFrontier: Sendable {
    private var carried: [EventSource: [DeliveredEntry]] = [:]

    public init() {}

    public var isEmpty: Bool { carried.values.allSatisfy(\.isEmpty) }

    public func carriedCount(_ source: EventSource) -> Int { carried[source]?.count ?? 0 }

    /// Adds what one read returned; `full` are the sources whose read returned the whole COUNT.
    /// Returns the entries that are safe to process now, in entry-id order.
    public mutating func take(_ read: [EventSource: [DeliveredEntry]], full: Set<EventSource>) -> [DeliveredEntry] {
        for (source, entries) in read {
            carried[source, default: []].append(contentsOf: entries)
        }
        var frontier: ProcessingKey?
        for source in full {
            guard let last = carried[source]?.last?.id else { continue }
            let key = ProcessingKey(last, source)
            frontier = frontier.map { min($0, key) } ?? key
        }
        var ready: [DeliveredEntry] = []
        for source in EventSource.allCases {
            guard let entries = carried[source], !entries.isEmpty else { continue }
            if let frontier {
                let split = entries.firstIndex { $0.key > frontier } ?? entries.endIndex
                ready += entries[..<split]
                carried[source] = Array(entries[split...])
            } else {
                ready += entries
                carried[source] = []
            }
        }
        return ready.sorted { EntryID.processingOrder(($0.id, $0.source), ($1.id, $1.source)) }
    }

    /// Returns entries `take` handed out but that are not processed now; they go back in front.
    public mutating func putBack(_ entries: [DeliveredEntry]) {
        for source in EventSource.allCases {
            let back = entries.filter { $0.source == source }.sorted { $0.id < $1.id }
            if !back.isEmpty { carried[source] = back + (carried[source] ?? []) }
        }
    }

    public mutating func removeAll() {
        carried = [:]
    }
}
