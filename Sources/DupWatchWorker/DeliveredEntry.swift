public import DupWatchCore

/// One entry as the worker received it. A nil `entry` (a reply entry without a field list, which
/// Redis only sends for deleted entries of a pending list, and DupWatch keeps none) is passed
/// over and counted as trimmed rather than trusted.
public struct DeliveredEntry: Sendable {
    public var source: EventSource
    public var id: EntryID
    public var entry: RawEntry?
    /// Set when the entry is being given up on (too many deliveries): it is dead-lettered as is.
    public var giveUp: (deliveries: Int64, lastError: String)?

    public init(source: EventSource, id: EntryID, entry: RawEntry?, giveUp: (deliveries: Int64, lastError: String)? = nil) {
        self.source = source
        self.id = id
        self.entry = entry
        self.giveUp = giveUp
    }

    /// The entry's identity across the three streams (and its place in processing order).
    public var key: ProcessingKey { ProcessingKey(id, source) }
}
