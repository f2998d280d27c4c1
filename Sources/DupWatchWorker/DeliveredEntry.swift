public import DupWatchCore

/// One entry as the worker received it: nil `entry` means the message was trimmed or deleted
/// while it sat in the pending list.
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
}
