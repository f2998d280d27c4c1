public import DupWatchCore

/// The writes of one batch — state changes folded per customer, alerts, dead letters and the
/// group's new read position — as command values, to be sent as one MULTI/EXEC so that they
/// land together or not at all.
public struct BatchCommit: Sendable {
    public let keys: KeySchema
    public let limits: StoreLimits
    public private(set) var commands: [CommitCommand] = []
    public private(set) var alertCount = 0
    public private(set) var deadLetterCount = 0

    public init(keys: KeySchema, limits: StoreLimits) {
        self.keys = keys
        self.limits = limits
    }

    public var isEmpty: Bool { commands.isEmpty }

    // MARK: State

    /// Writes what changed from `before` to `after`, nothing else.
    public mutating func writeChanges(customer: String, from before: CustomerState, to after: CustomerState) {
        writeCart(customer: customer, from: before, to: after)
        writeOrders(customer: customer, from: before, to: after)
        writeEventIDs(customer: customer, from: before, to: after)
    }

    private mutating func writeCart(customer: String, from before: CustomerState, to after: CustomerState) {
        let key = keys.cart(customer)
        var set: [CommitCommand.Field] = []
        if after.lastCartEventAt != before.lastCartEventAt, let p = after.lastCartEventAt {
            set.append(.init(CartLineFormat.lastEventField, String(p)))
        }
        for (sku, line) in after.cart where before.cart[sku] != line {
            set.append(.init(sku, CartLineFormat.encode(line)))
        }
        writeHash(key, set: set, delete: before.cart.keys.filter { after.cart[$0] == nil })
    }

    private mutating func writeOrders(customer: String, from before: CustomerState, to after: CustomerState) {
        // Most customers of a batch only have cart events: their order arrays and dictionaries
        // are the very same storage, which == sees without comparing elements.
        if after.recentOrders == before.recentOrders && after.olderOrders == before.olderOrders { return }
        var beforeStatus: [String: OrderStatus] = [:]
        for order in before.recentOrders { beforeStatus[order.orderID] = order.status }
        for (id, order) in before.olderOrders { beforeStatus[id] = order.status }

        var indexed: [CommitCommand.ScoredMember] = []
        for order in after.recentOrders.reversed() + Array(after.olderOrders.values) {
            let key = keys.order(customer, order.orderID)
            if let old = beforeStatus[order.orderID] {
                if old != order.status {
                    commands.append(.hset(key: key, fields: [.init("status", order.status.rawValue)]))
                }
                continue
            }
            commands.append(.hset(key: key, fields: StoredOrderFormat.fields(of: order).map { .init($0.0, $0.1) }))
            expire(key, after: limits.orderRetention)
            indexed.append(.init(order.placedAt, order.orderID))
        }
        guard !indexed.isEmpty else { return }
        commands.append(.zadd(key: keys.history(customer), members: indexed))
        expire(keys.history(customer), after: limits.orderRetention)

        // The last-N list is at most N ids: rewriting it is as cheap as LPUSH + LTRIM and
        // stays right when several orders of one customer land in one batch.
        let list = keys.recentOrders(customer)
        commands.append(.del(key: list))
        if !after.recentOrders.isEmpty {
            commands.append(.rpush(key: list, values: after.recentOrders.map(\.orderID)))
        }
        expire(list, after: limits.orderRetention)
    }

    private mutating func writeEventIDs(customer: String, from before: CustomerState, to after: CustomerState) {
        guard before.eventIDs != after.eventIDs else { return }
        let key = keys.eventIDs(customer)
        writeHash(key, set: after.eventIDs.compactMap { id, time in before.eventIDs[id] == time ? nil : .init(id, String(time)) },
                  delete: before.eventIDs.keys.filter { after.eventIDs[$0] == nil })
        expire(key, after: limits.eventIDTTL)
    }

    private mutating func writeHash(_ key: String, set: [CommitCommand.Field], delete: [String]) {
        if !set.isEmpty { commands.append(.hset(key: key, fields: set)) }
        if !delete.isEmpty { commands.append(.hdel(key: key, fields: delete)) }
    }

    private mutating func expire(_ key: String, after ttl: Duration) {
        guard ttl > .zero else { return }
        commands.append(.pexpire(key: key, after: ttl))
    }

    // MARK: Output streams

    /// The alert goes to the alert stream and to its customer's alert index, together.
    public mutating func publish(_ alert: Alert, detectedAt: Int64) {
        let fields = alert.fields(detectedAt: detectedAt)
        commands.append(.xadd(stream: keys.alertStream, maxLength: cap(limits.alertStreamMaxLength),
                              fields: fields.map { .init($0.0, $0.1) }))
        if limits.alertIndexLength > 0 {
            let index = keys.alertIndex(alert.customerID)
            commands.append(.zadd(key: index, members: [.init(detectedAt, JSONText.alert(fields))]))
            commands.append(.ztrim(key: index, keep: limits.alertIndexLength))
            expire(index, after: limits.alertIndexRetention)
        }
        alertCount += 1
    }

    /// `extra` carries e.g. `deliveries` and `last_error` for entries given up on.
    public mutating func deadLetter(source: EventSource, entryID: String, reason: String, payload: String,
                                    extra: [(String, String)] = []) {
        let fields = [("source_stream", keys.stream(for: source)), ("source_id", entryID),
                      ("reason", reason), ("payload", payload)] + extra
        commands.append(.xadd(stream: keys.deadLetterStream, maxLength: cap(limits.deadLetterMaxLength),
                              fields: fields.map { .init($0.0, $0.1) }))
        deadLetterCount += 1
    }

    // MARK: Analytics

    /// Adds a batch's figures to its hours and the day's SKU ranking, in the commit that holds
    /// the effects they count: a batch counted is a batch applied, once. Hours only: a day is
    /// summed from its 24 hours when read, which costs a report more reads and every batch
    /// fewer writes.
    public mutating func writeStats(_ tally: StatsTally, settings: StatsSettings) {
        for (hour, counts) in tally.hours.sorted(by: { $0.key < $1.key }) {
            let key = keys.statsHour(hour)
            for (counter, amount) in counts.nonZero {
                commands.append(.hincrby(key: key, field: counter.field, by: amount))
            }
            expire(key, after: settings.retention)
        }
        for (day, skus) in tally.skus.sorted(by: { $0.key < $1.key }) {
            let key = keys.statsSKUs(day: day)
            for (sku, amount) in skus.sorted(by: { $0.key < $1.key }) {
                commands.append(.zincrby(key: key, member: sku, by: amount))
            }
            if settings.skusPerDay > 0 { commands.append(.ztrim(key: key, keep: settings.skusPerDay)) }
            expire(key, after: settings.retention)
        }
    }

    // MARK: Coordination

    /// Moves the consumer group's last-delivered-id to `entryID`, the last entry of `source` this
    /// batch processed: the group is the committed read position, so it moves with the effects.
    /// `entriesRead` keeps `XINFO GROUPS` lag right; nil when Redis does not know it either.
    public mutating func advanceGroup(source: EventSource, group: String, to entryID: String, entriesRead: Int64?) {
        commands.append(.xgroupSetID(stream: keys.stream(for: source), group: group, id: entryID, entriesRead: entriesRead))
    }

    /// Clears the count of resumes without a commit (this commit is one).
    public mutating func clearResumeAttempts(group: String) {
        commands.append(.del(key: keys.resumeAttempts(group: group)))
    }

    /// Renews the worker's lease with the commit: a commit that lands proves the owner alive.
    public mutating func renewLease(group: String, ttl: Duration) {
        commands.append(.pexpire(key: keys.lease(group: group), after: ttl))
    }

    private func cap(_ maxLength: Int) -> Int? {
        maxLength > 0 ? maxLength : nil
    }
}
