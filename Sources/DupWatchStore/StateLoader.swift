public import DupWatchCore
public import RedisClient

/// What the loader found for one customer.
public enum LoadedState: Sendable, Equatable {
    case state(CustomerState)
    /// A key of the wrong type or a value DupWatch did not write: `bad_state` for every event of
    /// this customer, and no change is written.
    case corrupt(String)
}

/// Reads customers' state in two pipelined round trips for a whole batch: first the cart,
/// the last-N list, the event ids and every order the batch names; then the orders on the
/// last-N lists that were not fetched yet.
public struct StateLoader: Sendable {
    public let keys: KeySchema
    public let historyDepth: Int

    public init(keys: KeySchema, historyDepth: Int) {
        self.keys = keys
        self.historyDepth = historyDepth
    }

    /// `namedOrders[customer]`: order ids the batch's events mention (new orders, status updates).
    /// `eventIDsOf`: customers whose remembered producer event ids are needed (nil: all). Only
    /// cart events with an explicit `event_id` read or change them; for the others the hash is
    /// not read and the state carries none, which writes nothing (BatchCommit writes changes).
    /// `cached`: states known to be current (this worker wrote them); for those only the named
    /// orders the state does not know yet, and the event ids if needed, are read.
    public func load(customers: [String], namedOrders: [String: Set<String>], eventIDsOf: Set<String>? = nil,
                     cached: [String: CustomerState] = [:], from connection: RedisConnection) throws -> [String: LoadedState] {
        try load(customers: customers, namedOrders: namedOrders, eventIDsOf: eventIDsOf, cached: cached,
                 after: [], from: connection).states
    }

    /// The same, with `leading` commands sent first in the same pipeline (the worker's lease
    /// check), saving a round trip; their replies come back in `leadingReplies`.
    public func load(customers: [String], namedOrders: [String: Set<String>], eventIDsOf: Set<String>?,
                     cached: [String: CustomerState], after leading: [RedisCommand],
                     from connection: RedisConnection) throws -> (states: [String: LoadedState], leadingReplies: [RedisReply]) {
        guard !customers.isEmpty || !leading.isEmpty else { return ([:], []) }
        var commands: [RedisCommand] = leading
        commands.reserveCapacity(leading.count + customers.count * 3)
        var partial: [String: PartialState] = [:]
        var toFetch: [String: [String]] = [:]
        for customer in customers {
            if let known = cached[customer] {
                partial[customer] = PartialState(cached: known)
                toFetch[customer] = namedOrders[customer, default: []].filter { !known.hasStored(orderID: $0) }.sorted()
            } else {
                partial[customer] = PartialState()
                toFetch[customer] = namedOrders[customer, default: []].sorted()
                commands.append(RedisCommand("HGETALL", keys.cart(customer)))
                commands.append(RedisCommand("LRANGE", keys.recentOrders(customer), "0", String(historyDepth - 1)))
            }
            if eventIDsOf?.contains(customer) ?? true {
                commands.append(RedisCommand("HGETALL", keys.eventIDs(customer)))
            }
            for orderID in toFetch[customer]! {
                commands.append(RedisCommand("HGETALL", keys.order(customer, orderID)))
            }
        }
        let replies = commands.isEmpty ? [] : try connection.pipeline(commands)
        let leadingReplies = Array(replies[..<leading.count])

        var cursor = leading.count
        for customer in customers {
            var part = partial[customer]!
            if cached[customer] == nil {
                part.decodeCart(replies[cursor])
                part.decodeRecentIDs(replies[cursor + 1])
                cursor += 2
            }
            if eventIDsOf?.contains(customer) ?? true {
                part.decodeEventIDs(replies[cursor])
                cursor += 1
            }
            for orderID in toFetch[customer]! {
                part.decodeOrder(orderID, replies[cursor])
                cursor += 1
            }
            partial[customer] = part
        }

        // Second round trip: the last-N orders not fetched above.
        var missing: [(String, String)] = []
        for customer in customers {
            guard let part = partial[customer], part.problem == nil else { continue }
            for orderID in part.recentIDs where part.orders[orderID] == nil && !part.absentOrders.contains(orderID) {
                missing.append((customer, orderID))
            }
        }
        if !missing.isEmpty {
            let more = try connection.pipeline(missing.map { RedisCommand("HGETALL", keys.order($0.0, $0.1)) })
            for (index, (customer, orderID)) in missing.enumerated() {
                partial[customer]?.decodeOrder(orderID, more[index])
            }
        }

        var result: [String: LoadedState] = [:]
        for customer in customers {
            result[customer] = partial[customer]!.finish(customer: customer, keys: keys)
        }
        return (result, leadingReplies)
    }
}

/// Accumulates the replies of one customer; the first problem wins.
private struct PartialState {
    var problem: String?
    var state = CustomerState()
    var recentIDs: [String] = []
    var orders: [String: StoredOrder] = [:]
    var absentOrders: Set<String> = []

    init() {}

    init(cached: CustomerState) {
        state = cached
        recentIDs = cached.recentOrders.map(\.orderID)
        for order in cached.recentOrders { orders[order.orderID] = order }
        for (id, order) in cached.olderOrders { orders[id] = order }
    }

    mutating func decodeCart(_ reply: RedisReply) {
        guard let map = hashMap(reply, what: "cart hash") else { return }
        for (field, value) in map {
            if field == CartLineFormat.lastEventField {
                guard let p = Int64(value) else { return fail("cart field _p is \(JSONText.quote(value)), not a time") }
                state.lastCartEventAt = p
            } else {
                guard let line = CartLineFormat.decode(sku: field, value) else {
                    return fail("cart line \(JSONText.quote(field)) is \(JSONText.quote(value)), not qty|added_at|title")
                }
                state.cart[field] = line
            }
        }
    }

    mutating func decodeRecentIDs(_ reply: RedisReply) {
        switch reply {
        case .array(let items): recentIDs = items.compactMap { try? $0.string }
        case .error(let message): fail("recent orders list: \(message)")
        default: fail("recent orders list: unexpected reply")
        }
    }

    mutating func decodeEventIDs(_ reply: RedisReply) {
        guard let map = hashMap(reply, what: "event id hash") else { return }
        state.eventIDs = [:]
        for (id, value) in map {
            guard let time = Int64(value) else { return fail("event id \(JSONText.quote(id)) has time \(JSONText.quote(value))") }
            state.eventIDs[id] = time
        }
    }

    mutating func decodeOrder(_ orderID: String, _ reply: RedisReply) {
        guard let map = hashMap(reply, what: "order \(orderID) hash") else { return }
        if map.isEmpty {
            absentOrders.insert(orderID)
            return
        }
        guard let order = StoredOrderFormat.decode(orderID: orderID, map) else {
            return fail("order \(JSONText.quote(orderID)) hash is incomplete or malformed")
        }
        orders[orderID] = order
    }

    func finish(customer: String, keys: KeySchema) -> LoadedState {
        if let problem { return .corrupt(problem) }
        var result = state
        result.olderOrders = [:]
        // An id on the list whose hash is gone (retention expired it) is simply skipped.
        result.recentOrders = recentIDs.compactMap { orders[$0] }
        let recent = Set(recentIDs)
        for (id, order) in orders where !recent.contains(id) {
            result.olderOrders[id] = order
        }
        return .state(result)
    }

    private mutating func fail(_ message: String) {
        if problem == nil { problem = message }
    }

    private mutating func hashMap(_ reply: RedisReply, what: String) -> [String: String]? {
        switch reply {
        case .array:
            guard let map = try? reply.stringMap else {
                fail("\(what): unexpected reply")
                return nil
            }
            return map
        case .error(let message):
            fail("\(what): \(message)")
            return nil
        default:
            fail("\(what): unexpected reply")
            return nil
        }
    }
}
