public import DupWatchCore
public import DupWatchStore
import DupWatchWorker
import Foundation
public import RedisClient

/// What an import is told.
public struct ImportOptions: Sendable {
    public var keys: KeySchema
    public var rules: RuleConfig
    public var limits: StoreLimits
    public var group: String
    /// The importer's name as the lease's holder.
    public var consumer: String
    public var leaseTTL: Duration
    /// Orders and cancellations per state read and commit.
    public var batch: Int
    /// Wait for a worker's lease instead of refusing to run.
    public var wait: Bool

    public init(keys: KeySchema = KeySchema(), rules: RuleConfig = RuleConfig(), limits: StoreLimits = StoreLimits(),
                group: String = "dupwatch", consumer: String, leaseTTL: Duration = .seconds(10), batch: Int = 1000, wait: Bool = false) {
        self.keys = keys
        self.rules = rules
        self.limits = limits
        self.group = group
        self.consumer = consumer
        self.leaseTTL = leaseTTL
        self.batch = batch
        self.wait = wait
    }
}

/// The counts of an import.
public struct ImportSummary: Sendable, Equatable {
    public var rows = 0
    /// Orders read from the file (valid ones, stored now or before).
    public var orders = 0
    /// Of those, already stored (a re-import, or a repeated order id): nothing written.
    public var alreadyStored = 0
    public var cancellations = 0
    public var customers = 0
    public var rejected = 0
    public var seconds = 0.0

    public var rowsPerSecond: Int { seconds > 0 ? Int(Double(rows) / seconds) : rows }

    /// `import rows=… orders=… cancellations=… customers=… rejected=… seconds=… rows_per_s=…`
    public var line: String {
        "import rows=\(rows) orders=\(orders) cancellations=\(cancellations) customers=\(customers) rejected=\(rejected) "
            + "seconds=\(String(format: "%.2f", seconds)) rows_per_s=\(rowsPerSecond)"
    }
}

/// Where an import stands, for a progress line.
public struct ImportProgress: Sendable {
    public var rows: Int
    public var fileBytesRead: Int64
    public var fileSize: Int64
    public var seconds: Double

    public init(rows: Int, fileBytesRead: Int64, fileSize: Int64, seconds: Double) {
        self.rows = rows
        self.fileBytesRead = fileBytesRead
        self.fileSize = fileSize
        self.seconds = seconds
    }
}

public enum ImportError: Error, CustomStringConvertible {
    /// A worker (or another import) holds the lease of the partition.
    case leaseHeld(key: String, holder: String)
    /// The lease was lost during the import (it lapsed, or was taken): nothing more was written.
    case leaseLost(key: String)
    case commitFailed(String)

    public var description: String {
        switch self {
        case .leaseHeld(let key, let holder):
            "\(Quoted.string(holder)) holds the lease \(key): a worker (or another import) is running on this group. Stop it first, or pass --wait to wait for it to stop (a killed holder's lease lapses after its TTL)"
        case .leaseLost(let key):
            "lost the lease \(key) during the import (it lapsed or another process took it); the orders committed so far are stored, run the import again to finish"
        case .commitFailed(let message):
            "a commit failed: \(message)"
        }
    }
}

/// Writes an order file's orders into customer state exactly as a worker would have, through the
/// worker's own pieces: `StateLoader` reads the customers of a batch, `DuplicateRules.apply`
/// applies their orders in file order (a stored order id is a no-op, which makes re-imports and
/// resumed imports idempotent), `BatchCommit.writeChanges` writes the difference. No alert is
/// published and no stream or group is touched. Every commit is a MULTI/EXEC under WATCH of the
/// group's lease, which the importer holds for the duration, as a worker's commit is.
public final class OrderImporter {
    private let connection: RedisConnection
    private let options: ImportOptions
    private let lease: ExclusiveLease
    private let rules: DuplicateRules
    private let loader: StateLoader
    private let rejects: RejectWriter
    private var summary = ImportSummary()
    /// Hashes of the customers seen, to count them in little memory.
    private var customersSeen = Set<Int>()

    public init(connection: RedisConnection, options: ImportOptions, rejects: RejectWriter) {
        self.connection = connection
        self.options = options
        self.rejects = rejects
        lease = ExclusiveLease(keys: options.keys, group: options.group, owner: options.consumer, ttl: options.leaseTTL)
        rules = DuplicateRules(config: options.rules)
        loader = StateLoader(keys: options.keys, historyDepth: options.rules.historyDepth)
    }

    /// Takes the lease, or waits for it with `wait` (calling `waiting` with the holder once).
    public func acquireLease(waiting: (String) -> Void = { _ in }) throws {
        var told = false
        while true {
            switch try lease.acquire(on: connection) {
            case .acquired: return
            case .heldBy(let holder, let lapses):
                guard options.wait else { throw ImportError.leaseHeld(key: lease.key, holder: holder) }
                if !told {
                    waiting(holder)
                    told = true
                }
                let pause = min(max(lapses ?? 500, 50), 1000)
                usleep(useconds_t(pause * 1000))
            }
        }
    }

    public func releaseLease() throws {
        try lease.release(on: connection)
    }

    /// Imports every item of `reader`; `progress` is called after each commit.
    public func run(_ reader: OrderFileReader, progress: (ImportProgress) -> Void = { _ in }) throws -> ImportSummary {
        let started = ContinuousClock.now
        func elapsed() -> Double {
            let d = ContinuousClock.now - started
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var batch: [ImportItem] = []
        batch.reserveCapacity(options.batch)
        while true {
            let item = try reader.next()
            if let item {
                if case .rejected(let line, let rows, let reason) = item {
                    summary.rejected += rows
                    try rejects.write(line: line, reason: reason)
                } else {
                    batch.append(item)
                }
            }
            if batch.count >= options.batch || (item == nil && !batch.isEmpty) {
                try commit(batch)
                batch.removeAll(keepingCapacity: true)
                summary.rows = reader.rows
                progress(ImportProgress(rows: reader.rows, fileBytesRead: reader.input.fileBytesRead,
                                        fileSize: reader.input.fileSize, seconds: elapsed()))
            }
            if item == nil { break }
        }
        summary.rows = reader.rows
        summary.customers = customersSeen.count
        summary.seconds = elapsed()
        try rejects.flush()
        return summary
    }

    /// One batch: read its customers' state (after WATCH and GET of the lease), apply its items
    /// per customer in file order, commit the difference with the lease renewed, under WATCH.
    private func commit(_ items: [ImportItem]) throws {
        var customers: [String] = []
        var itemsOf: [String: [Int]] = [:]
        var namedOrders: [String: Set<String>] = [:]
        var latestCancellation: [String: Int64] = [:]
        for (index, item) in items.enumerated() {
            guard let customer = item.customerID else { continue }
            if itemsOf[customer] == nil {
                customers.append(customer)
                customersSeen.insert(customer.hashValue)
            }
            itemsOf[customer, default: []].append(index)
            switch item {
            case .order(let order, _, _):
                namedOrders[customer, default: []].insert(order.orderID)
            case .cancellation(let cancellation, _, _):
                latestCancellation[customer] = max(latestCancellation[customer] ?? cancellation.time, cancellation.time)
            case .rejected:
                break
            }
        }
        // A cancellation can cancel any earlier order of its customer (Cancellation.target), not
        // only one on the last-N list: the loader reads those customers' earlier orders too.
        for (customer, orderIDs) in try storedOrderIDs(placedBefore: latestCancellation) {
            namedOrders[customer, default: []].formUnion(orderIDs)
        }
        let (states, leading) = try loader.load(customers: customers, namedOrders: namedOrders, eventIDsOf: [], cached: [:],
                                                after: lease.watchCommands, from: connection)
        guard try lease.isHeld(according: leading) else {
            _ = try? connection.command("UNWATCH")
            throw ImportError.leaseLost(key: lease.key)
        }
        var writes = BatchCommit(keys: options.keys, limits: options.limits)
        for customer in customers {
            let indexes = itemsOf[customer] ?? []
            guard case .state(let before)? = states[customer] else {
                let problem: String = if case .corrupt(let why)? = states[customer] { why } else { "not loaded" }
                for index in indexes {
                    try reject(items[index], Rejection("bad_state", problem))
                }
                continue
            }
            var state = before
            for index in indexes {
                try apply(items[index], to: &state)
            }
            writes.writeChanges(customer: customer, from: before, to: state)
        }
        writes.renewLease(group: options.group, ttl: options.leaseTTL)
        switch try connection.transaction(writes.commands.map(\.encoded)) {
        case .executed(let errors):
            if let first = errors.first { throw ImportError.commitFailed(first) }
        case .watchFailed:
            throw ImportError.leaseLost(key: lease.key)
        case .aborted(let error):
            throw ImportError.commitFailed("\(error)")
        }
    }

    private func apply(_ item: ImportItem, to state: inout CustomerState) throws {
        switch item {
        case .order(let order, _, _):
            summary.orders += 1
            switch rules.apply(.order(order), to: &state) {
            case .applied: break
            case .duplicate: summary.alreadyStored += 1
            case .rejected(let rejection): try reject(item, rejection)
            }
        case .cancellation(let cancellation, _, _):
            guard let target = cancellation.target(in: state) else {
                return try reject(item, Rejection(
                    "unknown_order",
                    "cancellation \(cancellation.invoice): no earlier order of customer \(Quoted.string(cancellation.customerID)) holds any of its products"))
            }
            summary.cancellations += 1
            let update = StatusUpdate(orderID: target.orderID, customerID: cancellation.customerID, status: .cancelled,
                                      time: cancellation.time)
            if case .rejected(let rejection) = rules.apply(.status(update), to: &state) {
                try reject(item, rejection)
            }
        case .rejected:
            break
        }
    }

    /// Each customer's stored orders placed strictly before `times[customer]`, from the history
    /// index, in one pipelined round trip (nothing for a batch without cancellations). Read before
    /// the batch's WATCH, which is safe: the lease keeps every other writer out meanwhile. An
    /// order whose hash expired is still listed here; the loader skips it.
    private func storedOrderIDs(placedBefore times: [String: Int64]) throws -> [String: [String]] {
        guard !times.isEmpty else { return [:] }
        let customers = Array(times.keys)
        let replies = try connection.pipeline(customers.map { customer in
            RedisCommand("ZRANGEBYSCORE", options.keys.history(customer), "-inf", "(\(times[customer]!)")
        })
        var found: [String: [String]] = [:]
        for (customer, reply) in zip(customers, replies) {
            found[customer] = try reply.throwIfError().array.map { try $0.string }
        }
        return found
    }

    private func reject(_ item: ImportItem, _ rejection: Rejection) throws {
        switch item {
        case .order(_, let rows, let line), .cancellation(_, let rows, let line):
            summary.rejected += rows
            try rejects.write(line: line, reason: rejection.reason + (rows > 1 ? " (\(rows) rows)" : ""))
        case .rejected:
            break
        }
    }
}

/// The reject file: one line per rejected row (or order), `<line number><TAB><code>: <message>`.
/// Created (emptied) when the import starts, so that it describes the last run.
public final class RejectWriter {
    public let path: String
    private let file: UnsafeMutablePointer<FILE>

    public init(path: String) throws {
        guard let opened = fopen(path, "w") else {
            throw OrderFileError("cannot write the reject file \(path): \(String(cString: strerror(errno))) (choose another with --rejects)")
        }
        self.path = path
        file = opened
    }

    deinit {
        fclose(file)
    }

    public func write(line: Int, reason: String) throws {
        // Foundation's replacingOccurrences cost more than the rest of a rejected row.
        let oneLine = reason.utf8.contains(0x0A) ? String(reason.map { $0 == "\n" ? " " : $0 }) : reason
        fputs("\(line)\t\(oneLine)\n", file)
    }

    public func flush() throws {
        fflush(file)
    }
}
