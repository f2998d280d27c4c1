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
        Self.cart(in: try loadState(customer, on: connection))
    }

    /// The cart of a state read already (`states(of:on:)`).
    public static func cart(in state: CustomerState) -> Cart {
        Cart(lastCartEventAt: state.lastCartEventAt,
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
        check(customer: customer, lines: lines, in: try loadState(customer, on: connection))
    }

    /// The same, against a state read already (`states(of:on:)`).
    public func check(customer: String, lines: [OrderLine], in state: CustomerState) -> [Alert] {
        var state = state
        let probe = OrderPlaced(orderID: "(check)", customerID: customer, lines: lines, time: 0, status: .processing)
        guard case .applied(let alerts) = DuplicateRules(config: rules).apply(.order(probe), to: &state) else { return [] }
        return alerts
    }

    /// Several customers' states (all in this connection's node) in the loader's two pipelined
    /// round trips: the server reads the customers of concurrent requests together. Producer
    /// event ids are not read; nothing here needs them.
    public func states(of customers: [String], on connection: RedisConnection) throws -> [String: Result<CustomerState, ReadModelError>] {
        let loader = StateLoader(keys: keys, historyDepth: rules.historyDepth)
        let loaded = try loader.load(customers: customers, namedOrders: [:], eventIDsOf: [], from: connection)
        var out: [String: Result<CustomerState, ReadModelError>] = [:]
        for customer in customers {
            switch loaded[customer] {
            case .state(let state)?: out[customer] = .success(state)
            case .corrupt(let why)?: out[customer] = .failure(ReadModelError(description: "the stored state of customer \(customer) is corrupt: \(why)"))
            case nil: out[customer] = .success(CustomerState())
            }
        }
        return out
    }

    private func loadState(_ customer: String, on connection: RedisConnection) throws -> CustomerState {
        try states(of: [customer], on: connection)[customer]!.get()
    }
}

public struct ReadModelError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
