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
        var read = StateRead(loader: self, customers: customers, namedOrders: namedOrders, eventIDsOf: eventIDsOf,
                             cached: cached, after: leading)
        if !read.commands.isEmpty {
            try connection.pipeline(read.commands) { read.decode($0, $1) }
        }
        try read.writeFollowUp(to: connection)
        try read.readFollowUp(from: connection)
        return (read.finish(), read.leadingReplies)
    }
}

/// One batch's state reads, in the steps the worker may spread out: the first commands
/// (`commands`, replies through `decode`), then the last-N orders those did not fetch
/// (`writeFollowUp`, `readFollowUp`), then `finish`. `StateLoader.load` runs them back to back;
/// the worker writes the first commands of the next batch before it plans the current one
/// (`ReadAhead`).
public struct StateRead {
    // Replies are decoded in place (RedisReplyView): a batch reads thousands of hash fields,
    // and a RedisReply tree of byte arrays per field cost more than the decoding itself.
    private enum Slot { case leading, cart, recentIDs, eventIDs, order(String) }

    public let customers: [String]
    private let keys: KeySchema
    public private(set) var commands: [RedisCommand] = []
    private var slots: [(customer: Int, slot: Slot)] = []
    private var partial: [PartialState] = []
    private var followUp: [(customer: Int, orderID: String)] = []
    /// The replies of the `leading` commands, in order.
    public private(set) var leadingReplies: [RedisReply] = []

    /// See `StateLoader.load` for the parameters.
    public init(loader: StateLoader, customers: [String], namedOrders: [String: Set<String>], eventIDsOf: Set<String>?,
                cached: [String: CustomerState], after leading: [RedisCommand] = []) {
        self.customers = customers
        self.keys = loader.keys
        let keys = loader.keys
        commands = leading
        slots = leading.map { _ in (-1, .leading) }
        commands.reserveCapacity(leading.count + customers.count * 3)
        slots.reserveCapacity(leading.count + customers.count * 3)
        partial.reserveCapacity(customers.count)
        for (index, customer) in customers.enumerated() {
            let toFetch: [String]
            if let known = cached[customer] {
                partial.append(PartialState(cached: known))
                toFetch = namedOrders[customer, default: []].filter { !known.hasStored(orderID: $0) }.sorted()
            } else {
                partial.append(PartialState())
                toFetch = namedOrders[customer, default: []].sorted()
                commands.append(RedisCommand("HGETALL", keys.cart(customer)))
                slots.append((index, .cart))
                commands.append(RedisCommand("LRANGE", keys.recentOrders(customer), "0", String(loader.historyDepth - 1)))
                slots.append((index, .recentIDs))
            }
            if eventIDsOf?.contains(customer) ?? true {
                commands.append(RedisCommand("HGETALL", keys.eventIDs(customer)))
                slots.append((index, .eventIDs))
            }
            for orderID in toFetch {
                commands.append(RedisCommand("HGETALL", keys.order(customer, orderID)))
                slots.append((index, .order(orderID)))
            }
        }
    }

    /// The reply to `commands[index]`.
    public mutating func decode(_ index: Int, _ reply: RedisReplyView) {
        let (customer, slot) = slots[index]
        switch slot {
        case .leading: leadingReplies.append(reply.reply)
        case .cart: partial[customer].decodeCart(reply)
        case .recentIDs: partial[customer].decodeRecentIDs(reply)
        case .eventIDs: partial[customer].decodeEventIDs(reply)
        case .order(let orderID): partial[customer].decodeOrder(orderID, reply)
        }
    }

    /// The last-N orders the first commands did not fetch, known once their replies are in.
    private func missingOrders() -> [(customer: Int, orderID: String)] {
        var missing: [(customer: Int, orderID: String)] = []
        for (index, part) in partial.enumerated() where part.problem == nil {
            for orderID in part.recentIDs where part.orders[orderID] == nil && !part.absentOrders.contains(orderID) {
                missing.append((index, orderID))
            }
        }
        return missing
    }

    /// Writes the second round trip (the last-N orders the first replies named but did not
    /// fetch) without reading its replies.
    public mutating func writeFollowUp(to connection: RedisConnection) throws {
        followUp = missingOrders()
        guard !followUp.isEmpty else { return }
        try connection.write(followUp.map { RedisCommand("HGETALL", keys.order(customers[$0.customer], $0.orderID)) })
    }

    /// Reads the replies of `writeFollowUp`.
    public mutating func readFollowUp(from connection: RedisConnection) throws {
        let targets = followUp
        followUp = []
        try connection.readReplies(targets.count) { index, reply in
            partial[targets[index].customer].decodeOrder(targets[index].orderID, reply)
        }
    }

    /// Each customer's state, or why it is corrupt.
    public func finish() -> [String: LoadedState] {
        var result: [String: LoadedState] = [:]
        result.reserveCapacity(customers.count)
        for (index, customer) in customers.enumerated() {
            result[customer] = partial[index].finish(customer: customer, keys: keys)
        }
        return result
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

    mutating func decodeCart(_ reply: RedisReplyView) {
        guard isHash(reply, what: "cart hash") else { return }
        for (field, value) in reply.pairs {
            if field.equals("_p") {
                guard let p = value.withBytes(ASCIIDecimal.int64) else {
                    return fail("cart field _p is \(Quoted.string(value.text)), not a time")
                }
                state.lastCartEventAt = p
            } else {
                let sku = field.text
                guard let line = value.withBytes({ CartLineFormat.decode(sku: sku, bytes: $0) }) else {
                    return fail("cart line \(Quoted.string(sku)) is \(Quoted.string(value.text)), not qty|added_at|title")
                }
                state.cart[sku] = line
            }
        }
    }

    mutating func decodeRecentIDs(_ reply: RedisReplyView) {
        switch reply.kind {
        case .array: recentIDs = (0..<reply.count).map { reply[$0].text }
        case .error: fail("recent orders list: \(reply.text)")
        default: fail("recent orders list: unexpected reply")
        }
    }

    mutating func decodeEventIDs(_ reply: RedisReplyView) {
        guard isHash(reply, what: "event id hash") else { return }
        state.eventIDs = [:]
        for (name, value) in reply.pairs {
            let id = name.text
            guard let time = value.withBytes(ASCIIDecimal.int64) else {
                return fail("event id \(Quoted.string(id)) has time \(Quoted.string(value.text))")
            }
            state.eventIDs[id] = time
        }
    }

    mutating func decodeOrder(_ orderID: String, _ reply: RedisReplyView) {
        guard isHash(reply, what: "order \(orderID) hash") else { return }
        if reply.count == 0 {
            absentOrders.insert(orderID)
            return
        }
        var reader = StoredOrderFormat.FieldReader()
        for (field, value) in reply.pairs {
            field.withBytes { name in value.withBytes { reader.read(field: name, value: $0) } }
        }
        guard let order = reader.order(id: orderID) else {
            return fail("order \(Quoted.string(orderID)) hash is incomplete or malformed")
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

    /// A hash read with HGETALL: an array of name-value pairs.
    private mutating func isHash(_ reply: RedisReplyView, what: @autoclosure () -> String) -> Bool {
        switch reply.kind {
        case .array:
            guard reply.count % 2 == 0 else {
                fail("\(what()): unexpected reply")
                return false
            }
            return true
        case .error:
            fail("\(what()): \(reply.text)")
            return false
        default:
            fail("\(what()): unexpected reply")
            return false
        }
    }
}
