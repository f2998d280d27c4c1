import Foundation
public import DupWatchCore
public import DupWatchStore

/// Entries of one batch after validation, in processing order.
public struct ParsedBatch: Sendable {
    public struct Item: Sendable {
        public var delivered: DeliveredEntry
        public var result: Result<Event, Rejection>?
    }
    public var items: [Item]
    /// Customers with at least one valid event, in order of first appearance.
    public var customers: [String]
    /// Order ids the valid events name, per customer (the loader must fetch them).
    public var namedOrders: [String: Set<String>]
    /// Customers with a cart event carrying a producer `event_id` (their remembered ids are needed).
    public var eventIDCustomers: Set<String> = []
}

extension ParsedBatch {
    /// Appends a batch that comes after this one in processing order.
    public mutating func append(_ later: ParsedBatch) {
        items += later.items
        var seen = Set(customers)
        for customer in later.customers where seen.insert(customer).inserted { customers.append(customer) }
        for (customer, orders) in later.namedOrders { namedOrders[customer, default: []].formUnion(orders) }
        eventIDCustomers.formUnion(later.eventIDCustomers)
    }
}

/// What a batch does, decided before anything is written.
public struct BatchPlan {
    public var commit: BatchCommit
    public var alerts: [Alert]
    public var deadLetters: [(entryID: String, reason: String)]
    /// Customers' states after the batch (to cache once the commit has landed).
    public var states: [String: CustomerState]
    /// Per input stream: the last entry this batch processed and how many it processed.
    public var processed: [EventSource: (last: EntryID, count: Int)] = [:]
    public var applied = 0
    public var duplicates = 0
    public var trimmed = 0
}

/// Validates a batch, then applies the rules to loaded states and folds the result into one
/// commit. Pure: no I/O, so it is tested without Redis.
public struct BatchPlanner: Sendable {
    public let rules: DuplicateRules
    public let keys: KeySchema
    public let limits: StoreLimits
    /// Nil: no analytics are kept.
    public let stats: StatsSettings?

    public init(rules: DuplicateRules, keys: KeySchema, limits: StoreLimits, stats: StatsSettings? = nil) {
        self.rules = rules
        self.keys = keys
        self.limits = limits
        self.stats = stats
    }

    /// Entries are processed in entry-id order across the three streams, which keeps each
    /// customer's events in the order they were produced (ids are assigned at XADD time).
    public func parse(_ entries: [DeliveredEntry]) -> ParsedBatch {
        let sorted = entries.sorted { EntryID.processingOrder(($0.id, $0.source), ($1.id, $1.source)) }
        var items: [ParsedBatch.Item] = []
        items.reserveCapacity(sorted.count)
        var customers: [String] = []
        var seen: Set<String> = []
        var named: [String: Set<String>] = [:]
        var eventIDCustomers: Set<String> = []
        for delivered in sorted {
            guard delivered.giveUp == nil, let entry = delivered.entry else {
                items.append(.init(delivered: delivered, result: nil))
                continue
            }
            let result = EventParser.parse(entry)
            if case .success(let event) = result {
                let customer = event.customerID
                if seen.insert(customer).inserted { customers.append(customer) }
                switch event {
                case .order(let order): named[customer, default: []].insert(order.orderID)
                case .status(let update): named[customer, default: []].insert(update.orderID)
                case .cart(let cart): if cart.hasExplicitEventID { eventIDCustomers.insert(customer) }
                }
            }
            items.append(.init(delivered: delivered, result: result))
        }
        return ParsedBatch(items: items, customers: customers, namedOrders: named, eventIDCustomers: eventIDCustomers)
    }

    public func plan(_ batch: ParsedBatch, states loaded: [String: LoadedState], detectedAt: Int64) -> BatchPlan {
        var plan = BatchPlan(commit: BatchCommit(keys: keys, limits: limits), alerts: [], deadLetters: [], states: [:])
        var before: [String: CustomerState] = [:]
        var corrupt: [String: String] = [:]
        for (customer, state) in loaded {
            switch state {
            case .state(let s): before[customer] = s
            case .corrupt(let why): corrupt[customer] = why
            }
        }
        var current = before
        var tally = StatsTally()

        // Per source rank: (last id, count). An array, not a dictionary: this runs per entry.
        var progress: [(last: EntryID, count: Int)?] = Array(repeating: nil, count: EventSource.allCases.count)
        // By index, and reading only the fields needed: copying an item (or its delivered
        // entry) retains every array in it, objects the reader thread allocated, so each
        // retain is a cache miss on this thread.
        for index in batch.items.indices {
            let source = batch.items[index].delivered.source
            let id = batch.items[index].delivered.id
            let rank = source.rank
            if let done = progress[rank] {
                progress[rank] = (max(id, done.last), done.count + 1)
            } else {
                progress[rank] = (id, 1)
            }
            guard batch.items[index].delivered.entry != nil else {
                plan.trimmed += 1
                continue
            }
            if let giveUp = batch.items[index].delivered.giveUp {
                deadLetter(&plan, batch.items[index].delivered,
                           Rejection("max_deliveries", "delivered \(giveUp.deliveries) times without success; last error: \(giveUp.lastError)"),
                           extra: [("deliveries", String(giveUp.deliveries)), ("last_error", giveUp.lastError)])
                continue
            }
            switch batch.items[index].result {
            case .failure(let rejection):
                deadLetter(&plan, batch.items[index].delivered, rejection)
            case .success(let event):
                let customer = event.customerID
                if let why = corrupt[customer] {
                    deadLetter(&plan, batch.items[index].delivered,
                               Rejection("bad_state", "stored state of customer \(Quoted.string(customer)) is corrupt: \(why)"))
                    continue
                }
                var state = current[customer] ?? CustomerState()
                let previous = state
                let outcome = rules.apply(event, to: &state)
                if stats != nil { tally.record(event, outcome: outcome, before: previous, after: state) }
                switch outcome {
                case .applied(let alerts):
                    plan.applied += 1
                    for alert in alerts {
                        plan.commit.publish(alert, detectedAt: detectedAt)
                        plan.alerts.append(alert)
                    }
                case .duplicate:
                    plan.duplicates += 1
                case .rejected(let rejection):
                    deadLetter(&plan, batch.items[index].delivered, rejection)
                }
                current[customer] = state
            case .none:
                break
            }
        }

        for source in EventSource.allCases {
            if let done = progress[source.rank] { plan.processed[source] = done }
        }
        if let stats, !tally.isEmpty { plan.commit.writeStats(tally, settings: stats) }
        for customer in batch.customers {
            guard let after = current[customer] else { continue }
            plan.commit.writeChanges(customer: customer, from: before[customer] ?? CustomerState(), to: after)
            plan.states[customer] = after
        }
        return plan
    }

    /// The entry's fields as a JSON object, for `deadletter replay`.
    static func payload(_ fields: [RawEntry.Field]) -> String {
        JSONText.fields(fields)
    }

    /// `delivered` has an entry (the trimmed ones are counted, not dead-lettered).
    private func deadLetter(_ plan: inout BatchPlan, _ delivered: DeliveredEntry,
                            _ rejection: Rejection, extra: [(String, String)] = []) {
        plan.commit.deadLetter(source: delivered.source, entryID: delivered.id.description, reason: rejection.reason,
                               payload: Self.payload(delivered.entry?.fields ?? []), extra: extra)
        plan.deadLetters.append((delivered.id.description, rejection.reason))
    }
}
