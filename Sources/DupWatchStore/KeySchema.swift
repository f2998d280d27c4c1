public import DupWatchCore

/// Builds every Redis key name DupWatch uses. Nothing else in the code spells a key.
///
/// All keys of one customer carry the hash tag `{customer_id}` (customer ids cannot contain
/// braces), so a customer's keys share one Redis Cluster slot and one MULTI can touch them all.
public struct KeySchema: Sendable, Equatable {
    /// Prepended to every key; empty in production, unique per test or benchmark run if wanted.
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    // MARK: Streams

    public var cartStream: String { prefix + "stream:cart:events" }
    public var orderPlacedStream: String { prefix + "stream:order:placed" }
    public var orderStatusStream: String { prefix + "stream:order:status" }
    public var alertStream: String { prefix + "stream:alerts:duplicate" }
    public var deadLetterStream: String { prefix + "stream:deadletter" }

    public func stream(for source: EventSource) -> String {
        switch source {
        case .cart: cartStream
        case .orderPlaced: orderPlacedStream
        case .orderStatus: orderStatusStream
        }
    }

    /// The three input streams, in `EventSource` order.
    public var inputStreams: [String] { EventSource.allCases.map(stream(for:)) }

    public func source(ofStream name: String) -> EventSource? {
        EventSource.allCases.first { stream(for: $0) == name }
    }

    // MARK: Per customer (hash tag {C})

    /// Hash: `_p` = last cart event time (ms); one field per SKU = `qty|added_at_ms|title`.
    public func cart(_ customer: String) -> String { "\(prefix)cart:{\(customer)}" }
    /// List: the last N order ids, newest first (LPUSH + LTRIM).
    public func recentOrders(_ customer: String) -> String { "\(prefix)orders:{\(customer)}" }
    /// Hash: one stored order (see `StoredOrderFormat`).
    public func order(_ customer: String, _ orderID: String) -> String { "\(prefix)order:{\(customer)}:\(orderID)" }
    /// Sorted set: every stored order id of the customer, scored by order time (full history index).
    public func history(_ customer: String) -> String { "\(prefix)history:{\(customer)}" }
    /// Hash: producer `event_id` -> event time (ms) of cart events that took effect.
    public func eventIDs(_ customer: String) -> String { "\(prefix)events:{\(customer)}" }

    // MARK: Worker coordination

    /// String: the consumer that owns the input streams for `group` (one active worker per group).
    public func lease(group: String) -> String { "\(prefix)dupwatch:lease:\(group)" }

    /// Integer: how many times workers of `group` started work at the group's committed position
    /// without committing a batch since (a crash-looping entry shows here; see Worker+Resume).
    public func resumeAttempts(group: String) -> String { "\(prefix)dupwatch:attempts:\(group)" }
}
