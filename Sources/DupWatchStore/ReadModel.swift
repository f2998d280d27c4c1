public import DupWatchCore
public import RedisClient

/// The read path for people and the website: a customer's cart, order history, and the alerts
/// an order would raise now. Read-only: nothing here writes to Redis.
public struct ReadModel: Sendable {
    public let keys: KeySchema
    public let rules: RuleConfig

    public init(keys: KeySchema, rules: RuleConfig) {
        self.keys = keys
        self.rules = rules
    }

    public struct Cart: Sendable, Equatable {
        public var lastCartEventAt: Int64?
        /// Oldest line first.
        public var lines: [CartLine]
    }

    public func cart(of customer: String, on connection: RedisConnection) throws -> Cart {
        let state = try loadState(customer, on: connection)
        return Cart(lastCartEventAt: state.lastCartEventAt,
                    lines: state.cart.values.sorted { ($0.addedAt, $0.sku) < ($1.addedAt, $1.sku) })
    }

    public struct HistoryEntry: Sendable, Equatable {
        public var order: StoredOrder
        /// Whether the order is among the last N that duplicate checks look at.
        public var isRecent: Bool
    }

    /// Newest first, from the full history index.
    public func history(of customer: String, limit: Int, on connection: RedisConnection) throws -> [HistoryEntry] {
        let replies = try connection.pipeline([
            RedisCommand("ZREVRANGE", keys.history(customer), "0", String(max(0, limit - 1))),
            RedisCommand("LRANGE", keys.recentOrders(customer), "0", String(rules.historyDepth - 1)),
        ])
        let ids = try replies[0].throwIfError().array.map { try $0.string }
        let recent = Set(try replies[1].throwIfError().array.map { try $0.string })
        guard !ids.isEmpty else { return [] }
        let hashes = try connection.pipeline(ids.map { RedisCommand("HGETALL", keys.order(customer, $0)) })
        var out: [HistoryEntry] = []
        for (id, reply) in zip(ids, hashes) {
            guard let order = StoredOrderFormat.decode(orderID: id, try reply.throwIfError().stringMap) else { continue }
            out.append(HistoryEntry(order: order, isRecent: recent.contains(id)))
        }
        return out
    }

    /// The customer's latest alerts as JSON objects (the alert stream's fields), newest first:
    /// those detected after `since` (epoch ms), at most `limit`. One read of the alert index.
    public func alerts(of customer: String, since: Int64?, limit: Int, on connection: RedisConnection) throws -> [String] {
        let low = since.map { "(\($0)" } ?? "-inf"
        let reply = try connection.send(RedisCommand("ZREVRANGEBYSCORE", keys.alertIndex(customer), "+inf", low,
                                                     "LIMIT", "0", String(max(1, limit))))
        return try reply.throwIfError().array.map { try $0.string }
    }

    /// The alerts `lines` would raise if the customer placed them as an order now.
    public func check(customer: String, lines: [OrderLine], on connection: RedisConnection) throws -> [Alert] {
        var state = try loadState(customer, on: connection)
        let probe = OrderPlaced(orderID: "(check)", customerID: customer, lines: lines, time: 0, status: .processing)
        guard case .applied(let alerts) = DuplicateRules(config: rules).apply(.order(probe), to: &state) else { return [] }
        return alerts
    }

    private func loadState(_ customer: String, on connection: RedisConnection) throws -> CustomerState {
        let loader = StateLoader(keys: keys, historyDepth: rules.historyDepth)
        switch try loader.load(customers: [customer], namedOrders: [:], from: connection)[customer] {
        case .state(let state): return state
        case .corrupt(let why): throw ReadModelError(description: "the stored state of customer \(customer) is corrupt: \(why)")
        case nil: return CustomerState()
        }
    }
}

public struct ReadModelError: Error, CustomStringConvertible {
    public var description: String
}
