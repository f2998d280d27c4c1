public import DupWatchCore
public import DupWatchStore
public import RedisClient
import Foundation

/// The least any worker can do between an input entry and its alert, run in the worker's place
/// so that the latency benchmark's own producer and alert reader measure the host's floor: one
/// blocking XREAD, then (`stateReads`) pipelined round trips that read each entry's cart, then
/// one MULTI/EXEC that XADDs the alerts. No rules, no consumer group, no crash safety.
///
/// `dupwatchShaped` makes DupWatch's round trips and commit instead, without its decoding, rules
/// or bookkeeping: the lease check (WATCH + GET) with each customer's cart and last-N order ids,
/// then the hashes of those orders if there are any, then one MULTI/EXEC with a cart write per
/// customer, the group moves, the lease renewal and the alerts. What DupWatch's latency adds
/// to this relay's is its own CPU per batch.
///
/// It raises an alert for every `alertEvery`-th entry read, so that the alert stream and its
/// reader carry about as much as with DupWatch (about 1 entry in 70 raises an alert at
/// `dupwatch bench`'s default workload).
public struct LatencyFloorRelay: Sendable {
    public let keys: KeySchema
    public let stateReads: Int
    public let dupwatchShaped: Bool
    public let alertEvery: Int
    /// The group DupWatch's worker uses by default, whose lag the benchmark samples.
    static let group = "dupwatch"

    public init(keys: KeySchema = KeySchema(), stateReads: Int, dupwatchShaped: Bool = false, alertEvery: Int = 64) {
        self.keys = keys
        self.stateReads = stateReads
        self.dupwatchShaped = dupwatchShaped
        self.alertEvery = max(1, alertEvery)
    }

    /// The id the latency benchmark looks an alert up by (`trigger_id`): an order's `order_id`,
    /// a cart entry's stream id.
    public static func triggerID(of entry: StreamEntry, source: EventSource) -> String {
        guard source == .orderPlaced, let orderID = entry.value(of: "order_id") else { return entry.id }
        return String(decoding: orderID, as: UTF8.self)
    }

    /// Relays until the process is killed. With `readerURL`, a second thread reads on a
    /// connection of its own and hands what it read to this one, as DupWatch's reader thread does.
    public func run(on redis: RedisConnection, readerURL: RedisURL? = nil) throws -> Never {
        // The benchmark's lag sampler reads the groups; the relay itself reads without one. They
        // exist already after the warm-up drain of `bench --latency-warm-events`.
        for source in EventSource.allCases {
            let reply = try redis.send(StreamCommands.xgroupCreate(keys.stream(for: source), group: Self.group, startID: "$"))
            if StreamCommands.groupExisted(reply) { continue }
            try reply.throwIfError()
        }
        let sources: [EventSource] = [.cart, .orderPlaced]
        // From the streams' current ends. Not `$` in every read: that would skip whatever
        // arrives in a stream while the relay reads (or commits for) the other.
        var positions = try sources.map { source in
            try redis.send(RedisCommand("XREVRANGE", keys.stream(for: source), "+", "-", "COUNT", "1"),
                           decode: StreamCommands.decodeEntries).first?.id ?? "0-0"
        }
        var seen = 0
        let handOver = HandOver()
        if let readerURL {
            let startPositions = positions
            let thread = Thread { [self] in
                var positions = startPositions
                var seen = 0
                do {
                    let reader = try RedisConnection(url: readerURL, commandTimeoutMs: 10_000)
                    while true {
                        let batch = try self.readOnce(reader, sources: sources, positions: &positions, seen: &seen)
                        if !batch.customers.isEmpty { handOver.put(batch) }
                    }
                } catch {
                    // The benchmark sees the relay exit and reports it.
                    FileHandle.standardError.write(Data("relay reader: \(error)\n".utf8))
                    exit(3)
                }
            }
            thread.start()
        }
        while true {
            let batch: Batch
            if readerURL != nil {
                batch = handOver.takeAll()
            } else {
                batch = try readOnce(redis, sources: sources, positions: &positions, seen: &seen)
            }
            let customers = batch.customers
            let alerts = batch.alerts
            guard !customers.isEmpty else { continue }
            if dupwatchShaped {
                try commitShapedLikeDupWatch(batch, sources: sources, on: redis)
                continue
            }
            for _ in 0..<stateReads {
                _ = try redis.pipeline(customers.map { RedisCommand("HGETALL", keys.cart($0)) })
            }
            if !alerts.isEmpty, case .aborted(let error) = try redis.transaction(alerts) { throw error }
        }
    }

    /// See `dupwatchShaped`.
    private func commitShapedLikeDupWatch(_ batch: Batch, sources: [EventSource], on redis: RedisConnection) throws {
        let customers = Array(batch.customers)
        let lease = keys.lease(group: Self.group)
        // DupWatch's default --history-depth, as its loader reads the last-N list.
        let lastRecentIndex = String(RuleConfig().historyDepth - 1)
        var reads = [RedisCommand("WATCH", lease), RedisCommand("GET", lease)]
        for customer in customers {
            reads.append(RedisCommand("HGETALL", keys.cart(customer)))
            reads.append(RedisCommand("LRANGE", keys.recentOrders(customer), "0", lastRecentIndex))
        }
        let replies = try redis.pipeline(reads)
        var orders: [RedisCommand] = []
        for (index, customer) in customers.enumerated() {
            // After WATCH and GET: each customer's HGETALL, then its LRANGE.
            guard case .array(let ids) = replies[2 + 2 * index + 1] else { continue }
            for id in ids {
                if let id = try? id.string { orders.append(RedisCommand("HGETALL", keys.order(customer, id))) }
            }
        }
        if !orders.isEmpty { _ = try redis.pipeline(orders) }
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        var commit = customers.map { RedisCommand("HSET", keys.cart($0), CartLineFormat.lastEventField, now) }
        for (index, id) in batch.lastIDs.sorted(by: { $0.key < $1.key }) {
            commit.append(RedisCommand("XGROUP", "SETID", keys.stream(for: sources[index]), Self.group, id))
        }
        commit.append(RedisCommand("PEXPIRE", lease, "10000"))
        if case .aborted(let error) = try redis.transaction(commit + batch.alerts) { throw error }
    }

    struct Batch: Sendable {
        var customers: Set<String> = []
        var alerts: [RedisCommand] = []
        /// The last entry id read of each stream read (by index in the relay's sources).
        var lastIDs: [Int: String] = [:]
    }

    /// What the reader thread read and the committing thread has not taken yet, merged. Only
    /// batches with customers are put, so an empty one means nothing is waiting.
    final class HandOver: @unchecked Sendable {
        private let condition = NSCondition()
        private var pending = Batch()
        func put(_ batch: Batch) {
            condition.lock()
            pending.customers.formUnion(batch.customers)
            pending.alerts += batch.alerts
            pending.lastIDs.merge(batch.lastIDs) { _, later in later }
            condition.signal()
            condition.unlock()
        }
        func takeAll() -> Batch {
            condition.lock()
            while pending.customers.isEmpty { condition.wait() }
            let batch = pending
            pending = Batch()
            condition.unlock()
            return batch
        }
    }

    private func readOnce(_ redis: RedisConnection, sources: [EventSource], positions: inout [String], seen: inout Int) throws -> Batch {
        var read = RedisCommand("XREAD")
        for word in ["COUNT", "2000", "BLOCK", "1000", "STREAMS"] { read.append(word) }
        for source in sources { read.append(keys.stream(for: source)) }
        for position in positions { read.append(position) }
        var customers: Set<String> = []
        var alerts: [RedisCommand] = []
        var lastIDs: [Int: String] = [:]
        for (stream, entries) in try redis.send(read, decode: StreamCommands.decodeXRead) {
            guard let index = sources.firstIndex(where: { keys.stream(for: $0) == stream }),
                  let last = entries.last else { continue }
            positions[index] = last.id
            lastIDs[index] = last.id
            for entry in entries {
                if let customer = entry.value(of: "customer_id") { customers.insert(String(decoding: customer, as: UTF8.self)) }
                seen += 1
                guard seen % alertEvery == 0 else { continue }
                alerts.append(RedisCommand("XADD", keys.alertStream, "MAXLEN", "~", "100000", "*",
                                           "trigger_id", Self.triggerID(of: entry, source: sources[index])))
            }
        }
        return Batch(customers: customers, alerts: alerts, lastIDs: lastIDs)
    }
}
