import Foundation
public import DupWatchStore
import Histogram
public import RedisClient

/// Offers a fixed rate of entries to running partitioned workers, each into its customer's
/// partition stream, and reads every partition's alert stream: the latency from just before an
/// entry's XADD to its alert being read, as `LatencyBenchmark` measures it on one Redis. A
/// cluster refuses one XREAD over several slots, so each partition's alerts have a reader
/// thread (and a blocking XREAD) of their own.
public final class ClusterTraffic: @unchecked Sendable {
    public struct Latency: Sendable {
        public var alerts: Int
        public var p50Micros: UInt64
        public var p99Micros: UInt64
        public var p999Micros: UInt64
        public var maxMicros: UInt64
    }

    private let seeds: [RedisURL]
    private let sender: PartitionedSender
    private let entries: [GeneratedEntry]
    public let rate: Int
    private let stopped = StopBox()
    private let done = DispatchSemaphore(value: 0)
    private var threads = 0
    private var producerStart = ContinuousClock.now
    /// Each written by one thread (the producer, or the reader of that partition), read after
    /// `stop` joined them all.
    private var sent: [String: ContinuousClock.Instant] = [:]
    private var sentCount = 0
    private var receipts: [[(key: String, at: ContinuousClock.Instant)]]
    private var failures: [String] = []
    /// Guards `failures` and `receipts` (each reader writes its partition's slot).
    private let lock = NSLock()

    public init(seeds: [RedisURL], partitioning: Partitioning, entries: [GeneratedEntry], rate: Int) {
        self.seeds = seeds
        sender = PartitionedSender(partitioning: partitioning)
        self.entries = entries
        self.rate = rate
        receipts = Array(repeating: [], count: partitioning.count)
    }

    /// Starts the alert readers, then the producer once their first XREAD (from `$`) is in place.
    public func start() {
        for partition in 0..<sender.partitioning.count { startReader(partition) }
        usleep(300_000)
        producerStart = .now
        threads += 1
        Thread { [self] in
            do {
                let cluster = try RedisCluster(seeds: seeds)
                let pacer = Pacer(rate: rate, total: entries.count)
                sent.reserveCapacity(entries.count)
                while sentCount < entries.count, !stopped.value {
                    let elapsed = producerStart.duration(to: .now).inNanoseconds
                    let due = pacer.next(sent: sentCount, elapsedNanos: elapsed)
                    if due.isEmpty {
                        usleep(UInt32(max(1, (pacer.dueNanos(of: sentCount) - elapsed) / 1000)))
                        continue
                    }
                    let sentAt = ContinuousClock.now
                    for (entry, result) in zip(entries[due], try sender.send(entries[due], to: cluster)) {
                        if let key = Self.triggerKey(entry, reply: result.reply) { sent["\(result.partition) \(key)"] = sentAt }
                    }
                    sentCount = due.upperBound
                }
            } catch {
                fail("producer: \(error)")
            }
            done.signal()
        }.start()
    }

    /// Seconds since the producer started.
    public var elapsedSeconds: Double { producerStart.duration(to: .now).inSeconds }

    /// Stops the producer and the readers (after `drainSeconds` for the last alerts) and joins them.
    public func stop(drainSeconds: Double = 2) throws {
        usleep(UInt32(drainSeconds * 1e6))
        stopped.value = true
        for _ in 0..<threads { done.wait() }
        threads = 0
        if let failure = lock.withLock({ failures.first }) { throw BenchError(failure) }
    }

    /// Entries sent; after `stop`.
    public var sentEntries: Int { sentCount }

    /// The latency of the alerts whose entry was sent in `window` (seconds since the producer
    /// started); after `stop`.
    public func latency(sentIn window: Range<Double>) -> Latency {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var alerts = 0
        for (key, readAt) in receipts.joined() {
            guard let sentAt = sent[key], window.contains(producerStart.duration(to: sentAt).inSeconds) else { continue }
            _ = histogram.record(UInt64(max(0, sentAt.duration(to: readAt).inMicroseconds)))
            alerts += 1
        }
        return Latency(alerts: alerts, p50Micros: histogram.valueAtPercentile(50), p99Micros: histogram.valueAtPercentile(99),
                       p999Micros: histogram.valueAtPercentile(99.9), maxMicros: histogram.max)
    }

    private func startReader(_ partition: Int) {
        threads += 1
        let stream = sender.keys[partition].alertStream
        let slot = sender.partitioning.slot(of: partition)
        Thread { [self] in
            do {
                let cluster = try RedisCluster(seeds: seeds)
                let connection = try cluster.connection(for: slot)
                var last = "$"
                var got: [(key: String, at: ContinuousClock.Instant)] = []
                while !stopped.value {
                    let streams = try connection.send(RedisCommand("XREAD", "COUNT", "1000", "BLOCK", "200", "STREAMS", stream, last),
                                                      decode: StreamCommands.decodeXRead)
                    let now = ContinuousClock.now
                    for (_, entries) in streams {
                        for entry in entries {
                            last = entry.id
                            if let trigger = entry.value(of: "trigger_id") {
                                got.append(("\(partition) \(String(decoding: trigger, as: UTF8.self))", now))
                            }
                        }
                    }
                }
                lock.withLock { receipts[partition] = got }
            } catch {
                fail("alert reader of partition \(partition): \(error)")
            }
            done.signal()
        }.start()
    }

    /// What an alert names as its trigger: a placed order's id, else the entry id (the
    /// workload's cart events carry no event_id).
    private static func triggerKey(_ entry: GeneratedEntry, reply: RedisReply) -> String? {
        switch entry.source {
        case .orderPlaced: entry.fields.first { $0.0 == "order_id" }?.1
        case .cart: try? reply.string
        case .orderStatus: nil
        }
    }

    private func fail(_ message: String) {
        lock.withLock { failures.append(message) }
    }
}
