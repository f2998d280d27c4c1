public import DupWatchCore

/// Customers' states as this worker last committed them. Valid only while the worker holds the
/// lease on an unbroken connection: any error, reconnect or lost lease clears it.
///
/// Two generations approximate LRU at O(1): hits move to the young map; when it fills, the old
/// map is dropped and the young one becomes old.
public struct StateCache {
    public let capacity: Int
    private var young: [String: CustomerState] = [:]
    private var old: [String: CustomerState] = [:]

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { young.count + old.count }

    public mutating func get(_ customer: String) -> CustomerState? {
        if let state = young[customer] { return state }
        guard let state = old.removeValue(forKey: customer) else { return nil }
        put(customer, state)
        return state
    }

    public mutating func put(_ customer: String, _ state: CustomerState) {
        guard capacity > 0 else { return }
        var slim = state
        // Orders outside the last-N list are re-read when an event names them again.
        slim.olderOrders = [:]
        young[customer] = slim
        old[customer] = nil
        if young.count >= max(1, capacity / 2) {
            old = young
            young = [:]
            young.reserveCapacity(capacity / 2)
        }
    }

    public mutating func removeAll() {
        young = [:]
        old = [:]
    }
}
