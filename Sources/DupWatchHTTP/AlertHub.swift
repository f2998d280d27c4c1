public import DupWatchCore
public import DupWatchStore
import Foundation
public import Logging
import Metrics
public import RedisClient
public import ServiceLifecycle
import Synchronization

/// One alert as the live stream sends it: its entry id in the alert stream, its customer, and
/// the alert as a JSON object.
public struct LiveAlert: Sendable, Equatable {
    public var id: EntryID
    public var customer: String
    public var json: String
}

/// What a live connection receives: an alert, or a keep-alive tick (so that proxies keep an
/// idle stream open and a closed connection is noticed).
public enum LiveEvent: Sendable, Equatable {
    case alert(LiveAlert)
    case keepAlive
}

/// The one reader of the alert stream per server, fanning alerts out to the live connections of
/// their customers. A connection costs no Redis round trip: it registers here and is handed the
/// alerts the reader sees. The last `window` alerts stay in memory, so that a client that
/// reconnects with `Last-Event-ID` gets what it missed without a read either.
public final class AlertHub: Service, Sendable {
    public struct Settings: Sendable {
        /// Recent alerts kept for reconnecting clients.
        public var window: Int = 10_000
        /// Open live connections per API key, and in all.
        public var maxStreamsPerKey: Int = 1_000
        public var maxStreams: Int = 20_000
        public var keepAliveEvery: Duration = .seconds(15)
        /// Alerts buffered per connection when its client reads slower than alerts come.
        public var bufferPerConnection: Int = 256
        public init() {}
    }

    public struct Subscription: Sendable {
        /// Alerts after the given `Last-Event-ID`, oldest first.
        public var replay: [LiveAlert]
        public var events: AsyncStream<LiveEvent>
        /// Ends the subscription (the connection is gone); idempotent.
        public var close: @Sendable () -> Void
    }

    private struct Subscriber {
        var continuation: AsyncStream<LiveEvent>.Continuation
        var keyLabel: String
    }

    private struct State {
        var recent: [LiveAlert] = []
        /// Index of the oldest alert in `recent` (a ring that grows to `window`).
        var head = 0
        var subscribers: [String: [Int: Subscriber]] = [:]
        var perKey: [String: Int] = [:]
        var open = 0
        var nextSubscriber = 0
        var reading = false
        var lastError: String?

        var orderedRecent: ArraySlice<LiveAlert> { recent[head...] + recent[..<head] }
    }

    private let seeds: [RedisURL]
    private let stream: String
    private let settings: Settings
    private let logger: Logger
    private let state = Mutex(State())
    private let stop = Atomic<Bool>(false)
    private let openGauge = Gauge(label: "dupwatch_sse_connections")
    private let delivered = Counter(label: "dupwatch_sse_alerts_sent_total")

    public init(seeds: [RedisURL], keys: KeySchema, settings: Settings = Settings(), logger: Logger) {
        self.seeds = seeds
        self.stream = keys.alertStream
        self.settings = settings
        self.logger = logger
    }

    /// Whether the reader is reading the alert stream now (for /readyz), else why not.
    public var readerStatus: (reading: Bool, problem: String?) {
        state.withLock { ($0.reading, $0.lastError) }
    }

    public var openStreams: Int { state.withLock { $0.open } }

    /// Registers a live connection of `customer` for `key`: 429 when the key or the server has
    /// too many open. The replay and the registration happen together, so no alert falls
    /// between them or comes twice.
    public func subscribe(customer: String, after lastEventID: EntryID?, key: APIKey) throws(APIError) -> Subscription {
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(settings.bufferPerConnection))
        let settings = self.settings
        let result: Result<(Int, [LiveAlert]), APIError> = state.withLock { state in
            if state.perKey[key.label, default: 0] >= settings.maxStreamsPerKey {
                return .failure(APIError(.tooManyRequests, "too_many_streams",
                                         "the API key \(key.label) already holds \(settings.maxStreamsPerKey) live alert streams; close one first"))
            }
            if state.open >= settings.maxStreams {
                return .failure(APIError(.tooManyRequests, "too_many_streams",
                                         "the server holds \(settings.maxStreams) live alert streams, its limit; try again later"))
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[customer, default: [:]][id] = Subscriber(continuation: continuation, keyLabel: key.label)
            state.perKey[key.label, default: 0] += 1
            state.open += 1
            var replay: [LiveAlert] = []
            if let lastEventID {
                replay = state.orderedRecent.filter { $0.customer == customer && $0.id > lastEventID }
            }
            return .success((id, replay))
        }
        let (id, replay) = try result.get()
        openGauge.record(openStreams)
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(customer: customer, id: id) }
        return Subscription(replay: replay, events: stream, close: { continuation.finish() })
    }

    private func unsubscribe(customer: String, id: Int) {
        let open: Int = state.withLock { state in
            guard let subscriber = state.subscribers[customer]?.removeValue(forKey: id) else { return state.open }
            if state.subscribers[customer]?.isEmpty == true { state.subscribers[customer] = nil }
            state.perKey[subscriber.keyLabel, default: 1] -= 1
            if state.perKey[subscriber.keyLabel] == 0 { state.perKey[subscriber.keyLabel] = nil }
            state.open -= 1
            return state.open
        }
        openGauge.record(open)
    }

    // MARK: The reader

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in
                    readLoop()
                    continuation.resume()
                }
                thread.name = "dupwatch-alert-hub"
                thread.start()
            }
        } onGracefulShutdown: {
            self.stop.store(true, ordering: .releasing)
        }
        finishAll()
    }

    private func readLoop() {
        var position: String?
        var lastKeepAlive = ContinuousClock.now
        var deployment: Deployment?
        var backoffMs = 100
        while !stop.load(ordering: .acquiring) {
            do {
                let current = try deployment ?? Deployment(seeds: seeds)
                deployment = current
                let connection = try current.connection(forKey: stream)
                if position == nil { position = try preload(connection) }
                let entries = try connection.send(
                    RedisCommand("XREAD", "COUNT", "1000", "BLOCK", "1000", "STREAMS", stream, position!)
                ) { try StreamCommands.decodeXRead($0) }.first?.entries ?? []
                if let last = entries.last { position = last.id }
                publish(entries.compactMap(Self.liveAlert))
                backoffMs = 100
                state.withLock {
                    if !$0.reading { logger.info("reading \(stream) for live alert streams") }
                    $0.reading = true
                    $0.lastError = nil
                }
            } catch {
                deployment = nil
                let firstFailure: Bool = state.withLock { state in
                    defer { state.reading = false; state.lastError = "\(error)" }
                    return state.reading || state.lastError == nil
                }
                if firstFailure { logger.warning("cannot read \(stream) for live alert streams; retrying", metadata: ["error": "\(error)"]) }
                var slept = 0
                while slept < backoffMs, !stop.load(ordering: .acquiring) {
                    usleep(50_000)
                    slept += 50
                }
                backoffMs = min(backoffMs * 2, 5_000)
            }
            if ContinuousClock.now - lastKeepAlive >= settings.keepAliveEvery {
                lastKeepAlive = .now
                state.withLock { state in
                    for subscribers in state.subscribers.values {
                        for subscriber in subscribers.values { subscriber.continuation.yield(.keepAlive) }
                    }
                }
            }
        }
    }

    /// Fills the window with the stream's last alerts and returns the id to read after.
    private func preload(_ connection: RedisConnection) throws -> String {
        let entries = try connection.send(RedisCommand("XREVRANGE", stream, "+", "-", "COUNT", String(settings.window))) {
            try StreamCommands.decodeEntries($0)
        }
        state.withLock { state in
            state.recent = entries.reversed().compactMap(Self.liveAlert)
            state.head = 0
        }
        return entries.first?.id ?? "0-0"
    }

    private func publish(_ alerts: [LiveAlert]) {
        guard !alerts.isEmpty else { return }
        let window = settings.window
        var sent = 0
        state.withLock { state in
            for alert in alerts {
                if state.recent.count < window {
                    state.recent.append(alert)
                } else {
                    state.recent[state.head] = alert
                    state.head = (state.head + 1) % window
                }
                guard let subscribers = state.subscribers[alert.customer] else { continue }
                for subscriber in subscribers.values {
                    subscriber.continuation.yield(.alert(alert))
                    sent += 1
                }
            }
        }
        if sent > 0 { delivered.increment(by: sent) }
    }

    private func finishAll() {
        let continuations = state.withLock { state in
            state.subscribers.values.flatMap { $0.values.map(\.continuation) }
        }
        for continuation in continuations { continuation.finish() }
    }

    static func liveAlert(_ entry: StreamEntry) -> LiveAlert? {
        guard let fields = entry.fields, let id = EntryID(entry.id),
              let customer = entry.value(of: "customer_id") else { return nil }
        return LiveAlert(id: id, customer: String(decoding: customer, as: UTF8.self),
                         json: JSONText.alert(fields.map { ($0.nameString, $0.valueString) }))
    }
}
