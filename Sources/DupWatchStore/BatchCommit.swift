public import DupWatchCore
public import RedisClient

/// The writes of one batch — state changes folded per customer, alerts, dead letters and the
/// group's new read position — to be sent as one MULTI/EXEC so that they land together or not at all.
public struct BatchCommit {
    public let keys: KeySchema
    public let limits: StoreLimits
    public private(set) var commands: [RedisCommand] = []
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
        var set = RedisCommand("HSET")
        set.append(key)
        var setCount = 0
        if after.lastCartEventAt != before.lastCartEventAt, let p = after.lastCartEventAt {
            set.append(CartLineFormat.lastEventField)
            set.append(p)
            setCount += 1
        }
        for (sku, line) in after.cart where before.cart[sku] != line {
            set.append(sku)
            set.append(CartLineFormat.encode(line))
            setCount += 1
        }
        if setCount > 0 { commands.append(set) }

        var delete = RedisCommand("HDEL")
        delete.append(key)
        var deleteCount = 0
        for sku in before.cart.keys where after.cart[sku] == nil {
            delete.append(sku)
            deleteCount += 1
        }
        if deleteCount > 0 { commands.append(delete) }
    }

    private mutating func writeOrders(customer: String, from before: CustomerState, to after: CustomerState) {
        // Most customers of a batch only have cart events: their order arrays and dictionaries
        // are the very same storage, which == sees without comparing elements.
        if after.recentOrders == before.recentOrders && after.olderOrders == before.olderOrders { return }
        var beforeStatus: [String: OrderStatus] = [:]
        for order in before.recentOrders { beforeStatus[order.orderID] = order.status }
        for (id, order) in before.olderOrders { beforeStatus[id] = order.status }

        var stored = 0
        var history = RedisCommand("ZADD")
        history.append(keys.history(customer))
        for order in after.recentOrders.reversed() + Array(after.olderOrders.values) {
            if let old = beforeStatus[order.orderID] {
                if old != order.status {
                    commands.append(RedisCommand("HSET", keys.order(customer, order.orderID), "status", order.status.rawValue))
                }
                continue
            }
            var hash = RedisCommand("HSET")
            hash.append(keys.order(customer, order.orderID))
            for (field, value) in StoredOrderFormat.fields(of: order) {
                hash.append(field)
                hash.append(value)
            }
            commands.append(hash)
            expire(keys.order(customer, order.orderID), after: limits.orderRetentionMs)
            history.append(order.placedAt)
            history.append(order.orderID)
            stored += 1
        }
        guard stored > 0 else { return }
        commands.append(history)
        expire(keys.history(customer), after: limits.orderRetentionMs)

        // The last-N list is at most N ids: rewriting it is as cheap as LPUSH + LTRIM and
        // stays right when several orders of one customer land in one batch.
        let list = keys.recentOrders(customer)
        commands.append(RedisCommand("DEL", list))
        var push = RedisCommand("RPUSH")
        push.append(list)
        for order in after.recentOrders { push.append(order.orderID) }
        if !after.recentOrders.isEmpty { commands.append(push) }
        expire(list, after: limits.orderRetentionMs)
    }

    private mutating func writeEventIDs(customer: String, from before: CustomerState, to after: CustomerState) {
        guard before.eventIDs != after.eventIDs else { return }
        let key = keys.eventIDs(customer)
        var set = RedisCommand("HSET")
        set.append(key)
        var setCount = 0
        for (id, time) in after.eventIDs where before.eventIDs[id] != time {
            set.append(id)
            set.append(time)
            setCount += 1
        }
        if setCount > 0 { commands.append(set) }
        var delete = RedisCommand("HDEL")
        delete.append(key)
        var deleteCount = 0
        for id in before.eventIDs.keys where after.eventIDs[id] == nil {
            delete.append(id)
            deleteCount += 1
        }
        if deleteCount > 0 { commands.append(delete) }
        expire(key, after: limits.eventIDTTLMs)
    }

    private mutating func expire(_ key: String, after ms: Int64) {
        guard ms > 0 else { return }
        commands.append(RedisCommand("PEXPIRE", key, String(ms)))
    }

    // MARK: Output streams

    public mutating func publish(_ alert: Alert, detectedAt: Int64) {
        var command = RedisCommand("XADD")
        command.append(keys.alertStream)
        appendCap(&command, limits.alertStreamMaxLength)
        command.append("*")
        for (field, value) in alert.fields(detectedAt: detectedAt) {
            command.append(field)
            command.append(value)
        }
        commands.append(command)
        alertCount += 1
    }

    /// `extra` carries e.g. `deliveries` and `last_error` for entries given up on.
    public mutating func deadLetter(source: EventSource, entryID: String, reason: String, payload: String,
                                    extra: [(String, String)] = []) {
        var command = RedisCommand("XADD")
        command.append(keys.deadLetterStream)
        appendCap(&command, limits.deadLetterMaxLength)
        command.append("*")
        for (field, value) in [("source_stream", keys.stream(for: source)), ("source_id", entryID),
                               ("reason", reason), ("payload", payload)] + extra {
            command.append(field)
            command.append(value)
        }
        commands.append(command)
        deadLetterCount += 1
    }

    /// Moves the consumer group's last-delivered-id to `entryID`, the last entry of `source` this
    /// batch processed: the group is the committed read position, so it moves with the effects.
    /// `entriesRead` keeps `XINFO GROUPS` lag right; nil when Redis does not know it either.
    public mutating func advanceGroup(source: EventSource, group: String, to entryID: String, entriesRead: Int64?) {
        var command = RedisCommand("XGROUP", "SETID", keys.stream(for: source), group, entryID)
        if let entriesRead {
            command.append("ENTRIESREAD")
            command.append(String(entriesRead))
        }
        commands.append(command)
    }

    /// Appends a raw command that must commit with the batch (e.g. the lease renewal).
    public mutating func append(_ command: RedisCommand) {
        commands.append(command)
    }

    private func appendCap(_ command: inout RedisCommand, _ maxLength: Int) {
        guard maxLength > 0 else { return }
        command.append("MAXLEN")
        command.append("~")
        command.append(maxLength)
    }
}
