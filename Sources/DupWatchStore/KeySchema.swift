public import DupWatchCore

/// Builds every Redis key name DupWatch uses. Nothing else in the code spells a key.
///
/// Without a partition (a deployment of one partition): today's names. All keys of one
/// customer carry the hash tag `{customer_id}` (customer ids cannot contain braces).
///
/// With a partition tag `T` (`Partitioning.keys(of:)`): every key of the partition carries
/// `{T}`, streams and coordination keys included, so the partition's keys share one Redis
/// Cluster slot and one MULTI can touch them all: `stream:cart:events:{T}`, `cart:{T}:{C}`,
/// `order:{T}:{C}:O`, `dupwatch:lease:{T}:<group>`. The customer id stays in braces after the
/// tag so that ids and order ids containing `:` cannot collide.
public struct KeySchema: Sendable, Equatable {
    /// Prepended to every key; empty in production, unique per test or benchmark run if wanted.
    public var prefix: String
    /// The partition's hash tag; nil for a single partition.
    public var partitionTag: String?

    public init(prefix: String = "", partitionTag: String? = nil) {
        self.prefix = prefix
        self.partitionTag = partitionTag
    }

    /// `:{T}` after a stream or coordination name of a partition; empty without one.
    private var streamSuffix: String { partitionTag.map { ":{\($0)}" } ?? "" }

    /// The customer part of a per-customer key: `{C}`, or `{T}:{C}` in a partition.
    private func customerPart(_ customer: String) -> String {
        partitionTag.map { "{\($0)}:{\(customer)}" } ?? "{\(customer)}"
    }

    // MARK: Streams

    public var cartStream: String { prefix + "stream:cart:events" + streamSuffix }
    public var orderPlacedStream: String { prefix + "stream:order:placed" + streamSuffix }
    public var orderStatusStream: String { prefix + "stream:order:status" + streamSuffix }
    public var alertStream: String { prefix + "stream:alerts:duplicate" + streamSuffix }
    public var deadLetterStream: String { prefix + "stream:deadletter" + streamSuffix }
    /// What customers did about alerts (`POST /v1/alerts/{id}/feedback`); never partitioned.
    public var feedbackStream: String { prefix + "stream:alerts:feedback" }

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

    // MARK: Per customer

    /// Hash: `_p` = last cart event time (ms); one field per SKU = `qty|added_at_ms|title`.
    public func cart(_ customer: String) -> String { "\(prefix)cart:\(customerPart(customer))" }
    /// List: the last N order ids, newest first (LPUSH + LTRIM).
    public func recentOrders(_ customer: String) -> String { "\(prefix)orders:\(customerPart(customer))" }
    /// Hash: one stored order (see `StoredOrderFormat`).
    public func order(_ customer: String, _ orderID: String) -> String { "\(prefix)order:\(customerPart(customer)):\(orderID)" }
    /// Sorted set: every stored order id of the customer, scored by order time (full history index).
    public func history(_ customer: String) -> String { "\(prefix)history:\(customerPart(customer))" }
    /// Sorted set: the customer's latest alerts (member: the alert as a JSON object, score: when
    /// it was detected, ms), written in the commit that publishes them, so that one customer's
    /// recent alerts are one read (`GET /v1/customers/{id}/alerts`).
    public func alertIndex(_ customer: String) -> String { "\(prefix)alerts:\(customerPart(customer))" }
    /// Hash: producer `event_id` -> event time (ms) of cart events that took effect.
    public func eventIDs(_ customer: String) -> String { "\(prefix)events:\(customerPart(customer))" }

    // MARK: Analytics

    /// `stats:` or `stats:{T}:`: the partition's analytics keys share its slot, so that the
    /// worker commits them in the MULTI that holds the effects they count.
    private var statsPart: String { partitionTag.map { "\(prefix)stats:{\($0)}:" } ?? "\(prefix)stats:" }

    /// Hash: the figures of one UTC hour of event time (`stats:hour:2026-12-07T14`), one field
    /// per `StatsCounter`. Days are the sums of their hours (`StatsReader`).
    public func statsHour(_ number: Int64) -> String {
        "\(statsPart)hour:\(StatsPeriod.hour.name(of: number))"
    }

    /// Sorted set: the SKUs of one UTC day's alerts, scored by how many alerts named them.
    public func statsSKUs(day number: Int64) -> String {
        "\(statsPart)skus:\(StatsPeriod.day.name(of: number))"
    }

    /// Hash: the feedback outcomes of one UTC hour (`StatsCounter.feedback*` fields), in the
    /// feedback stream's slot, so that the server writes the count with the entry.
    public func feedbackStatsHour(_ number: Int64) -> String {
        "\(prefix)stats:feedback:{\(feedbackStream)}:hour:\(StatsPeriod.hour.name(of: number))"
    }

    // MARK: Worker coordination

    /// String: the consumer that owns the input streams for `group` (one active worker per group).
    public func lease(group: String) -> String { "\(prefix)dupwatch:lease\(streamSuffix):\(group)" }

    /// Hash: how far the router has moved the unpartitioned input streams into this partition
    /// (or, without a partition, into the router's dead-letter stream): one field per input
    /// stream, the last entry id routed. Written with what it describes, in the same slot.
    public var routerPosition: String {
        partitionTag.map { "\(prefix)dupwatch:routed:{\($0)}" } ?? "\(prefix)dupwatch:routed:{\(deadLetterStream)}"
    }

    /// Hash: how far `dupwatch route` has copied each partition's alerts into the unpartitioned
    /// alert stream (field: partition tag, value: last alert entry id read). In that stream's
    /// slot, written with the copies.
    public var alertFanInPosition: String { "\(prefix)dupwatch:alerts-copied:{\(alertStream)}" }

    /// Sorted set: the alert ids copied into the unpartitioned alert stream lately (score: the
    /// alert's entry time, ms), so that an alert a partition publishes again is not copied twice.
    public var alertFanInRecent: String { "\(prefix)dupwatch:alerts-recent:{\(alertStream)}" }

    /// Sorted set: the live workers of `group` (member: consumer name, score: when its entry
    /// lapses, epoch ms); the partitions are shared among them.
    public func members(group: String) -> String { "\(prefix)dupwatch:members:\(group)" }

    /// String: the deployment's partition count, fixed when it is created.
    public var partitionCount: String { "\(prefix)dupwatch:partitions" }

    /// Integer: how many times workers of `group` started work at the group's committed position
    /// without committing a batch since (a crash-looping entry shows here; see Worker+Resume).
    public func resumeAttempts(group: String) -> String { "\(prefix)dupwatch:attempts\(streamSuffix):\(group)" }
}
