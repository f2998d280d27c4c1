import DupWatchCore
import DupWatchStore
import RedisClient

/// The next batch's state, read from Redis while the worker plans the current batch, and
/// ready before the current batch's `EXEC` has run, so that the worker plans the next batch
/// while Redis executes the current one instead of the two taking turns.
///
/// Every read is written before the current batch's `MULTI`, so none of them sees its writes.
/// That is right for every key the current batch does not write:
/// - A customer the current batch does not touch ("fresh") is read in full.
/// - For a customer it touches, the state it commits (`BatchPlan.states`) is the base
///   (`states(after:)`), and only what that state cannot know is read: the order hashes the next
///   batch names (the current batch writes only orders its state then holds, which win), and the
///   event-id hash when the next batch needs it and the current one did not load it (only cart
///   events with an explicit `event_id` write that hash, and those load it first).
///
/// If the current commit does not run, the worker drops all of this with it.
struct ReadAhead {
    let batch: ParsedBatch
    private var read: StateRead
    /// Customers of the batch before this one.
    private let touched: [String]
    private let eventIDsRead: Set<String>
    private(set) var cacheHits: Int

    /// Writes the first reads of `batch`, which follows `current`. `unsettled`: customers of a
    /// commit written but not confirmed, whose cached state may be older than Redis's.
    static func write(_ batch: ParsedBatch, after current: ParsedBatch, unsettled: Set<String>, cache: inout StateCache,
                      loader: StateLoader, on connection: RedisConnection) throws -> ReadAhead {
        let busy = Set(current.customers)
        var touched: [String] = []
        var cached: [String: CustomerState] = [:]
        var cacheHits = 0
        for customer in batch.customers {
            if busy.contains(customer) {
                touched.append(customer)
                cached[customer] = CustomerState() // known: nothing; the named orders are read
            } else if !unsettled.contains(customer), let state = cache.get(customer) {
                cached[customer] = state
                cacheHits += 1
            }
        }
        let eventIDsRead = batch.eventIDCustomers.subtracting(current.eventIDCustomers)
        let read = StateRead(loader: loader, customers: batch.customers, namedOrders: batch.namedOrders,
                             eventIDsOf: eventIDsRead, cached: cached)
        try connection.write(read.commands)
        return ReadAhead(batch: batch, read: read, touched: touched, eventIDsRead: eventIDsRead, cacheHits: cacheHits)
    }

    /// Reads the replies of `write` and writes the second round trip (last-N orders not fetched
    /// yet); call before writing the current batch's commit.
    mutating func readFirst(on connection: RedisConnection) throws {
        try connection.readReplies(read.commands.count) { read.decode($0, $1) }
        try read.writeFollowUp(to: connection)
    }

    /// Reads the replies of the second round trip; call after writing the current batch's commit.
    mutating func readFollowUp(on connection: RedisConnection) throws {
        try read.readFollowUp(from: connection)
    }

    /// Every customer's state once the current batch (planned as `plan` from `loaded`) commits.
    func states(after plan: BatchPlan, loaded: [String: LoadedState]) -> [String: LoadedState] {
        var states = read.finish()
        for customer in touched {
            guard case .state(let fetched)? = states[customer] else { continue }
            if var state = plan.states[customer] {
                for (id, order) in fetched.olderOrders where !state.hasStored(orderID: id) {
                    state.olderOrders[id] = order
                }
                if eventIDsRead.contains(customer) { state.eventIDs = fetched.eventIDs }
                states[customer] = .state(state)
            } else if case .corrupt(let why)? = loaded[customer] {
                states[customer] = .corrupt(why) // nothing of theirs was written
            } else {
                states[customer] = .corrupt("state unknown after the previous batch (a DupWatch bug); reprocess after a restart")
            }
        }
        return states
    }
}
