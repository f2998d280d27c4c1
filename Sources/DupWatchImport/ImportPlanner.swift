public import DupWatchCore
public import DupWatchStore

/// What one partition's items do to its customers' stored state: the pure part of an import
/// commit, as `BatchPlanner` is the worker's. Orders go through `DuplicateRules.apply`, in file
/// order per customer (a stored order id is a no-op, which makes re-imports and resumed imports
/// idempotent); a cancellation becomes the status update of the order it cancels
/// (`Cancellation.target`, the definition `dupwatch evaluate` uses too).
public struct ImportPlanner: Sendable {
    public let rules: DuplicateRules
    public let limits: StoreLimits

    public init(rules: DuplicateRules, limits: StoreLimits) {
        self.rules = rules
        self.limits = limits
    }

    /// The state reads a batch of items needs: its customers in first-seen order, the order
    /// ids each one names (so that a stored id is recognised even outside the last N), and for
    /// each customer with a cancellation the time of the latest one: a cancellation may cancel
    /// any earlier order (`Cancellation.target`), so those customers' stored orders placed
    /// before it are read too (`PartitionCommits` finds their ids in the history index).
    public static func reads(of items: [ImportItem])
        -> (customers: [String], namedOrders: [String: Set<String>], latestCancellation: [String: Int64]) {
        var customers: [String] = []
        var named: [String: Set<String>] = [:]
        var latestCancellation: [String: Int64] = [:]
        var seen: Set<String> = []
        for item in items {
            guard let customer = item.customerID else { continue }
            if seen.insert(customer).inserted { customers.append(customer) }
            switch item {
            case .order(let order, _, _):
                named[customer, default: []].insert(order.orderID)
            case .cancellation(let cancellation, _, _):
                latestCancellation[customer] = max(latestCancellation[customer] ?? cancellation.time, cancellation.time)
            case .rejected:
                break
            }
        }
        return (customers, named, latestCancellation)
    }

    /// A batch's writes and what became of its items.
    public struct Plan: Sendable {
        public var commit: BatchCommit
        public var orders = 0
        public var alreadyStored = 0
        public var cancellations = 0
        /// `(line, rows, reason)` per item refused here (the reader's rejects are not in it).
        public var rejected: [(line: Int, rows: Int, reason: String)] = []
    }

    /// Applies `items` (all of one partition, whose keys are `keys`) to `states`.
    public func plan(_ items: [ImportItem], states: [String: LoadedState], keys: KeySchema) -> Plan {
        var plan = Plan(commit: BatchCommit(keys: keys, limits: limits))
        var itemsOf: [String: [Int]] = [:]
        var customers: [String] = []
        for (index, item) in items.enumerated() {
            guard let customer = item.customerID else { continue }
            if itemsOf[customer] == nil { customers.append(customer) }
            itemsOf[customer, default: []].append(index)
        }
        for customer in customers {
            let indexes = itemsOf[customer] ?? []
            guard case .state(let before)? = states[customer] else {
                let problem: String = if case .corrupt(let why)? = states[customer] { why } else { "not loaded" }
                for index in indexes { Self.reject(items[index], Rejection("bad_state", problem), into: &plan) }
                continue
            }
            var state = before
            for index in indexes { apply(items[index], to: &state, plan: &plan) }
            plan.commit.writeChanges(customer: customer, from: before, to: state)
        }
        return plan
    }

    private func apply(_ item: ImportItem, to state: inout CustomerState, plan: inout Plan) {
        switch item {
        case .order(let order, _, _):
            plan.orders += 1
            switch rules.apply(.order(order), to: &state) {
            case .applied: break
            case .duplicate: plan.alreadyStored += 1
            case .rejected(let rejection): Self.reject(item, rejection, into: &plan)
            }
        case .cancellation(let cancellation, _, _):
            guard let target = cancellation.target(in: state) else {
                return Self.reject(item, Rejection(
                    "unknown_order",
                    "cancellation \(cancellation.invoice): no earlier order of customer \(Quoted.string(cancellation.customerID)) holds any of its products"),
                    into: &plan)
            }
            plan.cancellations += 1
            let update = StatusUpdate(orderID: target.orderID, customerID: cancellation.customerID, status: .cancelled,
                                      time: cancellation.time)
            if case .rejected(let rejection) = rules.apply(.status(update), to: &state) {
                Self.reject(item, rejection, into: &plan)
            }
        case .rejected:
            break
        }
    }

    private static func reject(_ item: ImportItem, _ rejection: Rejection, into plan: inout Plan) {
        switch item {
        case .order(_, let rows, let line), .cancellation(_, let rows, let line):
            plan.rejected.append((line, rows, rejection.reason + (rows > 1 ? " (\(rows) rows)" : "")))
        case .rejected:
            break
        }
    }
}
