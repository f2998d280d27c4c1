import Foundation
public import DupWatchStore
import Histogram
import RedisClient

/// Offers a fixed rate of entries to a running worker and measures, for every entry that raises
/// an alert, the delay from just before its XADD to the alert being read from
/// `stream:alerts:duplicate`; plus the group's lag over time.
public struct LatencyBenchmark {
    public struct Result: Sendable {
        public var offeredRate: Int
        public var seconds: Double
        public var sent: Int
        public var measured: Int
        public var p50Micros: UInt64
        public var p99Micros: UInt64
        public var p999Micros: UInt64
        public var maxMicros: UInt64
        /// When the slowest alert's entry was sent and when the alert was read, in seconds since
        /// the producer started, and how many alerts took over 100 ms: says whether a tail is a
        /// stall at one moment (and which) or spread over the window.
        public var slowestSentAtSeconds: Double
        public var slowestReadAtSeconds: Double
        public var alertsOver100ms: Int
        /// (seconds since start, lag of stream:cart:events + pending)
        public var lag: [(Double, Int64)]
        /// (seconds since start, alerts received in that 100 ms slice) for the throughput plot.
        public var latencies: [UInt64]
    }

    public let urlText: String
    public let keys: KeySchema
    /// Where the alerts appear: the alert stream, or every partition's.
    public let alertStreams: [String]
    /// The streams whose group lag is sampled.
    public let lagStreams: [String]

    public init(urlText: String, keys: KeySchema = KeySchema(), alertStreams: [String]? = nil, lagStreams: [String]? = nil) {
        self.urlText = urlText
        self.keys = keys
        self.alertStreams = alertStreams ?? [keys.alertStream]
        self.lagStreams = lagStreams ?? keys.inputStreams
    }

    /// The worker must already be running against `urlText`.
    public func run(_ entries: [GeneratedEntry], rate: Int) throws -> Result {
        let url = try RedisURL(parsing: urlText)
        let start = ContinuousClock.now
        let stop = StopBox()
        let sends = Box<[String: ContinuousClock.Instant]>([:])
        let receipts = Box<[(String, ContinuousClock.Instant)]>([])
        let lags = Box<[(Double, Int64)]>([])
        let failure = Box<String?>(nil)
        let keys = self.keys
        let alertStreams = self.alertStreams
        let lagStreams = self.lagStreams

        let reader = Thread {
            do {
                let redis = try RedisConnection(url: url, commandTimeoutMs: 5000)
                var last = [String: String](uniqueKeysWithValues: alertStreams.map { ($0, "$") })
                var got: [(String, ContinuousClock.Instant)] = []
                while !stop.value {
                    let streams = try redis.send(
                        RedisCommand(["XREAD", "COUNT", "1000", "BLOCK", "200", "STREAMS"] + alertStreams + alertStreams.map { last[$0]! }),
                        decode: StreamCommands.decodeXRead)
                    let now = ContinuousClock.now
                    for (stream, entries) in streams {
                        for entry in entries {
                            last[stream] = entry.id
                            if let trigger = entry.value(of: "trigger_id") {
                                got.append((String(decoding: trigger, as: UTF8.self), now))
                            }
                        }
                    }
                }
                receipts.value = got
            } catch { failure.value = "alert reader: \(error)" }
            stop.readerDone.signal()
        }
        let sampler = Thread {
            do {
                let redis = try RedisConnection(url: url)
                var samples: [(Double, Int64)] = []
                while !stop.value {
                    var lag: Int64 = 0
                    for stream in lagStreams {
                        let groups = try redis.command("XINFO", "GROUPS", stream).array
                        for group in groups {
                            let fields = try group.fieldMap
                            lag += ((try? fields["lag"]?.int) ?? 0) + ((try? fields["pending"]?.int) ?? 0)
                        }
                    }
                    samples.append((start.duration(to: .now).inSeconds, lag))
                    usleep(100_000)
                }
                lags.value = samples
            } catch { failure.value = "lag sampler: \(error)" }
            stop.samplerDone.signal()
        }
        reader.start()
        sampler.start()
        usleep(300_000) // the reader's first XREAD with `$` must be in place before anything is sent

        let producer = try RedisConnection(url: url)
        let pacer = Pacer(rate: rate, total: entries.count)
        var sent: [String: ContinuousClock.Instant] = [:]
        sent.reserveCapacity(entries.count)
        var index = 0
        var pipelines = 0
        let produceStart = ContinuousClock.now
        var bar = ProgressBar("latency: offering \(rate)/s", total: entries.count)
        while index < entries.count {
            let elapsed = produceStart.duration(to: .now).inNanoseconds
            let due = pacer.next(sent: index, elapsedNanos: elapsed)
            if due.isEmpty {
                usleep(UInt32(max(1, (pacer.dueNanos(of: index) - elapsed) / 1000)))
                continue
            }
            let slice = entries[due]
            let commands = slice.map { $0.xadd(keys: keys) }
            let sentAt = ContinuousClock.now
            let replies = try producer.pipeline(commands)
            for (entry, reply) in zip(slice, replies) {
                if entry.source == .orderPlaced, let order = entry.fields.first(where: { $0.0 == "order_id" }) {
                    sent[order.1] = sentAt
                } else if let id = try? reply.string {
                    sent[id] = sentAt
                }
            }
            index = due.upperBound
            pipelines += 1
            if pipelines % 500 == 0 { bar.update(index) }
        }
        bar.update(entries.count)
        let produced = produceStart.duration(to: .now)
        sends.value = sent
        usleep(2_000_000) // let the last alerts arrive
        stop.value = true
        stop.readerDone.wait()
        stop.samplerDone.wait()
        if let message = failure.value { throw BenchError(message) }

        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var latencies: [UInt64] = []
        var measured = 0
        var slowest: (micros: UInt64, sentAt: ContinuousClock.Instant, readAt: ContinuousClock.Instant)?
        var over100ms = 0
        for (trigger, receivedAt) in receipts.value {
            guard let sentAt = sends.value[trigger] else { continue }
            let micros = UInt64(max(0, sentAt.duration(to: receivedAt).inMicroseconds))
            _ = histogram.record(micros)
            latencies.append(micros)
            measured += 1
            if micros > 100_000 { over100ms += 1 }
            if micros > slowest?.micros ?? 0 { slowest = (micros, sentAt, receivedAt) }
        }
        return Result(
            offeredRate: rate,
            seconds: produced.inSeconds,
            sent: entries.count, measured: measured,
            p50Micros: histogram.valueAtPercentile(50), p99Micros: histogram.valueAtPercentile(99),
            p999Micros: histogram.valueAtPercentile(99.9), maxMicros: histogram.max,
            slowestSentAtSeconds: slowest.map { produceStart.duration(to: $0.sentAt).inSeconds } ?? 0,
            slowestReadAtSeconds: slowest.map { produceStart.duration(to: $0.readAt).inSeconds } ?? 0,
            alertsOver100ms: over100ms,
            lag: lags.value, latencies: latencies)
    }
}

/// Shared between the benchmark's threads; each value has one writer, read after the join.
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

final class StopBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    let readerDone = DispatchSemaphore(value: 0)
    let samplerDone = DispatchSemaphore(value: 0)
    var value: Bool {
        get { lock.withLock { stopped } }
        set { lock.withLock { stopped = newValue } }
    }
}
