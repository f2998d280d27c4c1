public import DupWatchCore
public import RedisClient
public import DupWatchStore

/// The shape of a synthetic workload. Defaults are the benchmark's.
public struct WorkloadConfig: Sendable {
    public var seed: UInt64 = 42
    public var events: Int = 1_000_000
    public var customers: Int = 100_000
    public var skus: Int = 20_000
    /// Share of entries made malformed on purpose (they must end in the dead-letter stream).
    public var malformedShare: Double = 0.005
    /// Event time of the first session (2026-01-01T00:00:00Z) and the period sessions spread over.
    public var startMs: Int64 = 1_767_225_600_000
    public var periodMs: Int64 = 60 * 86_400_000

    public init() {}
}

/// One entry to XADD, in event-time order.
public struct GeneratedEntry: Sendable {
    public var source: EventSource
    public var time: Int64
    public var fields: [(String, String)]
    /// True when the generator broke it on purpose.
    public var malformed: Bool

    /// `XADD <its stream> * <fields>`.
    public func xadd(keys: KeySchema) -> RedisCommand {
        var command = RedisCommand("XADD")
        command.append(keys.stream(for: source))
        command.append("*")
        for (name, value) in fields {
            command.append(name)
            command.append(value)
        }
        return command
    }
}

/// Sessions of cart activity separated by days (so about a quarter of cart events come after a
/// pause longer than 4 hours), orders of 1-10 lines after some sessions, repeat orders, status
/// changes with some cancellations, and a small share of malformed entries.
public enum Workload {
    public static func generate(_ config: WorkloadConfig) -> [GeneratedEntry] {
        var random = SplitMix64(seed: config.seed)
        let popularity = ZipfSampler(count: config.skus)
        var lastOrderSKUs: [Int: [Int]] = [:]
        var entries: [GeneratedEntry] = []
        entries.reserveCapacity(config.events + 16)
        var orderNumber = 0

        while entries.count < config.events {
            let customer = Int.random(in: 0..<config.customers, using: &random)
            let customerID = "C\(customer)"
            var time = config.startMs + Int64.random(in: 0..<config.periodMs, using: &random)
            // Mean 4 cart events per session: one in four comes after the pause between sessions.
            let cartEvents = 1 + geometric(mean: 3, using: &random)
            var inCart: [Int] = []
            for _ in 0..<cartEvents {
                time += Int64.random(in: 20_000...600_000, using: &random)
                let roll = Double.random(in: 0..<1, using: &random)
                if roll < 0.80 || inCart.isEmpty {
                    let sku: Int
                    if let previous = lastOrderSKUs[customer], !previous.isEmpty, random.chance(0.15) {
                        sku = previous.randomElement(using: &random)!
                    } else {
                        sku = popularity.sample(using: &random)
                    }
                    inCart.append(sku)
                    var fields = [("type", "add"), ("customer_id", customerID), ("sku", skuID(sku)),
                                  ("qty", String(Int.random(in: 1...3, using: &random))), ("ts", String(time))]
                    if random.chance(0.5) { fields.append(("title", title(sku))) }
                    entries.append(GeneratedEntry(source: .cart, time: time, fields: fields, malformed: false))
                } else if roll < 0.92 {
                    let sku = inCart.randomElement(using: &random)!
                    entries.append(GeneratedEntry(source: .cart, time: time, fields: [
                        ("type", "change"), ("customer_id", customerID), ("sku", skuID(sku)),
                        ("qty", String(Int.random(in: 0...4, using: &random))), ("ts", String(time)),
                    ], malformed: false))
                } else if roll < 0.99 {
                    let index = Int.random(in: 0..<inCart.count, using: &random)
                    let sku = inCart.remove(at: index)
                    entries.append(GeneratedEntry(source: .cart, time: time, fields: [
                        ("type", "remove"), ("customer_id", customerID), ("sku", skuID(sku)), ("ts", String(time)),
                    ], malformed: false))
                } else {
                    inCart.removeAll()
                    entries.append(GeneratedEntry(source: .cart, time: time, fields: [
                        ("type", "clear"), ("customer_id", customerID), ("ts", String(time)),
                    ], malformed: false))
                }
            }
            guard random.chance(0.45) else { continue }

            var lines = Array(Set(inCart)).sorted()
            if let previous = lastOrderSKUs[customer], random.chance(0.2) {
                lines = previous // a repeat order
            }
            while lines.isEmpty || (lines.count < 10 && random.chance(0.3)) {
                lines.append(popularity.sample(using: &random))
            }
            lines = Array(lines.prefix(10))
            orderNumber += 1
            let orderID = "O\(config.seed)-\(orderNumber)"
            time += Int64.random(in: 60_000...900_000, using: &random)
            let items = OrderItemJSON.array(lines.map { OrderItemJSON(sku: skuID($0), qty: Int.random(in: 1...3, using: &random)) })
            entries.append(GeneratedEntry(source: .orderPlaced, time: time, fields: [
                ("order_id", orderID), ("customer_id", customerID), ("items", items), ("ts", String(time)),
            ], malformed: false))
            lastOrderSKUs[customer] = lines

            if random.chance(0.5) {
                let later = time + Int64.random(in: 3_600_000...(3 * 86_400_000), using: &random)
                let roll = Double.random(in: 0..<1, using: &random)
                let status = roll < 0.6 ? "shipped" : roll < 0.85 ? "delivered" : roll < 0.95 ? "cancelled" : "returned"
                entries.append(GeneratedEntry(source: .orderStatus, time: later, fields: [
                    ("order_id", orderID), ("customer_id", customerID), ("status", status), ("ts", String(later)),
                ], malformed: false))
            }
        }

        entries.sort { $0.time < $1.time }
        if entries.count > config.events { entries.removeLast(entries.count - config.events) }
        for index in entries.indices where random.chance(config.malformedShare) {
            entries[index] = broken(entries[index], using: &random)
        }
        return entries
    }

    /// Pushes entries with pipelined XADDs, `chunk` at a time; `progress` gets the count so far.
    public static func push(_ entries: [GeneratedEntry], keys: KeySchema, to connection: RedisConnection,
                            chunk: Int = 5_000, progress: (Int) -> Void = { _ in }) throws {
        var start = 0
        while start < entries.count {
            let end = min(entries.count, start + chunk)
            let commands = entries[start..<end].map { $0.xadd(keys: keys) }
            for reply in try connection.pipeline(commands) { try reply.throwIfError() }
            start = end
            progress(start)
        }
    }

    static func skuID(_ index: Int) -> String { "SKU\(index)" }
    static func title(_ index: Int) -> String { "Product \(index)" }

    private static func geometric(mean: Double, using random: inout SplitMix64) -> Int {
        var count = 0
        let p = 1.0 / (mean + 1.0)
        while !random.chance(p), count < 50 { count += 1 }
        return count
    }

    private static func broken(_ entry: GeneratedEntry, using random: inout SplitMix64) -> GeneratedEntry {
        var copy = entry
        copy.malformed = true
        switch Int.random(in: 0..<5, using: &random) {
        case 0: copy.fields.removeAll { $0.0 == "customer_id" }
        case 1:
            copy.source = .cart
            copy.fields = [("type", "add"), ("customer_id", "C0"), ("sku", "SKU1"), ("qty", "abc")]
        case 2:
            copy.source = .orderPlaced
            copy.fields = [("order_id", "BAD-\(entry.time)"), ("customer_id", "C0"), ("items", "not json")]
        case 3:
            copy.source = .cart
            copy.fields = [("type", "ADD"), ("customer_id", "C0"), ("sku", "SKU1")]
        default:
            copy.fields = copy.fields.map { $0.0 == "ts" ? ("ts", "yesterday") : $0 }
        }
        return copy
    }
}
