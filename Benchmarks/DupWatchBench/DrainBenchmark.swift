import Foundation
public import DupWatchStore
public import RedisClient

/// Preload N entries, drain them with a worker, and measure what it cost.
public struct DrainBenchmark {
    public struct Run: Sendable {
        public var events: Int
        public var eventsPerSecond: Double
        public var alerts: Int64
        public var deadLetters: Int64
        public var redisMicrosPerEvent: Double
        /// All of redis-server's CPU (`RedisInfo.totalCPUMicros`) per event.
        public var redisProcessMicrosPerEvent: Double
        public var workerMicrosPerEvent: Double
        public var workerMaxRSSBytes: Int64
        public var memoryDeltaBytes: Int64
        /// Nil when AOF is off. See `AOFGrowth` for how rewrites during the drain are counted.
        public var aofBytesPerEvent: Double?
        /// AOF rewrites completed during the drain.
        public var aofRewrites: Int64
        public var wallSeconds: Double
    }

    /// As given (with any password): it is handed to the worker's command line.
    public let urlText: String
    public let url: RedisURL
    public let keys: KeySchema
    /// The worker command; `{url}` is replaced by the Redis URL.
    public let workerCommand: [String]
    public let workerEnvironment: [String: String]

    public init(urlText: String, keys: KeySchema = KeySchema(), workerCommand: [String],
                workerEnvironment: [String: String] = [:]) throws {
        self.workerEnvironment = workerEnvironment
        self.urlText = urlText
        self.url = try RedisURL(parsing: urlText)
        self.keys = keys
        self.workerCommand = workerCommand
    }

    /// One run from an empty database: push, drain, measure.
    public func run(_ entries: [GeneratedEntry], label: String) throws -> Run {
        let redis = try RedisConnection(url: url, commandTimeoutMs: 120_000)
        _ = try redis.command("FLUSHALL")
        var bar = ProgressBar("\(label): loading", total: entries.count)
        try Workload.push(entries, keys: keys, to: redis) { bar.update($0) }
        // Let a pending AOF rewrite settle so it is not billed to the drain.
        try RedisInfo.waitForAOFRewrite(redis)
        let before = try RedisInfo.read(redis)
        FileHandle.standardError.write(Data("\(label): draining \(entries.count) entries...\n".utf8))
        let worker = WorkerProcess(arguments: workerCommand.map { $0.replacingOccurrences(of: "{url}", with: urlText) },
                                   environment: workerEnvironment)
        let aof = AOFSampler(url: url, first: (before.aofSize, before.aofRewrites))
        let result: WorkerProcess.Result
        do {
            result = try worker.run()
        } catch {
            _ = try? aof.stop(last: nil)
            throw error
        }
        let after = try RedisInfo.read(redis)
        let growth = try aof.stop(last: (after.aofSize, after.aofRewrites))
        guard result.status == 0 else { throw BenchError("\(label): the worker exited with status \(result.status)") }
        let alerts = try redis.command("XLEN", keys.alertStream).int
        let deadLetters = try redis.command("XLEN", keys.deadLetterStream).int
        let pending = try keys.inputStreams.reduce(Int64(0)) { sum, stream in
            let summary = try redis.command("XPENDING", stream, "dupwatch").array
            return sum + ((try? summary.first?.int) ?? 0)
        }
        if pending > 0 { throw BenchError("\(label): \(pending) entries still pending after the drain") }
        let n = Double(entries.count)
        return Run(
            events: entries.count,
            eventsPerSecond: n / result.wallSeconds,
            alerts: alerts, deadLetters: deadLetters,
            redisMicrosPerEvent: (after.mainThreadCPUMicros - before.mainThreadCPUMicros) / n,
            redisProcessMicrosPerEvent: (after.totalCPUMicros - before.totalCPUMicros) / n,
            workerMicrosPerEvent: result.cpuSeconds * 1e6 / n,
            workerMaxRSSBytes: result.maxRSSBytes,
            memoryDeltaBytes: after.usedMemory - before.usedMemory,
            aofBytesPerEvent: after.aofEnabled ? Double(growth.bytes) / n : nil,
            aofRewrites: growth.rewrites,
            wallSeconds: result.wallSeconds)
    }
}

/// Redis memory per customer for the reference shape: a cart of 5 lines and 5 stored
/// orders of 3 lines, with distinct SKUs so that no alert is written.
public enum MemoryBenchmark {
    public static func entries(customers: Int) -> [GeneratedEntry] {
        var out: [GeneratedEntry] = []
        var time: Int64 = 1_767_225_600_000
        for customer in 0..<customers {
            let id = "M\(customer)"
            for order in 0..<5 {
                time += 1000
                let items = "[" + (0..<3).map { "{\"sku\":\"SKU\(order * 3 + $0)\",\"qty\":2}" }.joined(separator: ",") + "]"
                out.append(GeneratedEntry(source: .orderPlaced, time: time, fields: [
                    ("order_id", "MO\(customer)-\(order)"), ("customer_id", id), ("items", items), ("ts", String(time)),
                ], malformed: false))
            }
            for line in 0..<5 {
                time += 1000
                out.append(GeneratedEntry(source: .cart, time: time, fields: [
                    ("type", "add"), ("customer_id", id), ("sku", "SKU\(100 + line)"), ("qty", "1"),
                    ("title", "Product \(100 + line)"), ("ts", String(time)),
                ], malformed: false))
            }
        }
        return out
    }
}
