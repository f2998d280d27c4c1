import Dispatch
public import DupWatchCore
public import DupWatchStore
public import Logging
public import RedisClient
import Synchronization

/// The server's way to Redis: hiredis calls block, so each runs on one of a few lanes, a serial
/// dispatch queue with its own `Deployment` (connections to every node it needs), never on
/// Swift's cooperative threads. A request takes the next lane round-robin; a lane whose Redis
/// call failed on the connection reconnects on its next use, so one bad moment costs one 503.
///
/// Customer states (a check, a cart) are read in batches: the states that concurrent requests
/// ask a lane for while it is busy are read together, in the loader's two pipelined round
/// trips, so that under load a round trip, its system calls and Redis's per-command cost are
/// shared by many requests.
public final class RedisLanes: Sendable {
    private let lanes: [Lane]
    private let next = Atomic<Int>(0)
    private let logger: Logger

    public init(seeds: [RedisURL], count: Int, logger: Logger) {
        precondition(count > 0)
        self.lanes = (0..<count).map { Lane(index: $0, seeds: seeds) }
        self.logger = logger
    }

    public var count: Int { lanes.count }

    private var nextLane: Lane { lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count] }

    /// Runs `body` with a deployment on the next lane. A Redis connection or timeout error
    /// drops the lane's deployment (the next use reconnects). A read (`idempotent`) that fails
    /// so on a connection made earlier is tried once more on a new one, so that a Redis
    /// restart costs no failed read; a write is not, since it may have been applied.
    public func run<T: Sendable>(idempotent: Bool = false, _ body: @escaping @Sendable (Deployment) throws -> T) async throws -> T {
        let lane = nextLane
        let logger = self.logger
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            lane.queue.async {
                continuation.resume(with: Result { try lane.call(body, retryStale: idempotent, logger: logger) })
            }
        }
    }

    /// `customer`'s state as the worker stored it (read with other requests' customers).
    /// Throws a `RedisError`, or a `ReadModelError` when the stored state is corrupt.
    public func state(of customer: String, historyDepth: Int) async throws -> CustomerState {
        try await batched { .state(StateRequest(customer: customer, historyDepth: historyDepth, continuation: $0)) }
    }

    /// Sends `command` to the node that holds `key`, pipelined with other requests' commands
    /// to that node, and returns its reply (an error reply as it is). Not retried: it may
    /// write.
    public func send(_ command: RedisCommand, key: String) async throws -> RedisReply {
        try await batched { .command(CommandRequest(key: key, command: command, continuation: $0)) }
    }

    /// Queues a request on the next lane, scheduling the lane's drain unless one is pending.
    private func batched<T: Sendable>(_ request: (CheckedContinuation<T, any Error>) -> LaneRequest) async throws -> T {
        let lane = nextLane
        let logger = self.logger
        return try await withCheckedThrowingContinuation { continuation in
            if lane.enqueue(request(continuation)) {
                lane.queue.async { lane.drain(logger: logger) }
            }
        }
    }

    /// Closes every lane's connections (after the server stopped taking requests).
    public func close() {
        for lane in lanes { lane.close() }
    }
}

struct StateRequest: Sendable {
    var customer: String
    var historyDepth: Int
    var continuation: CheckedContinuation<CustomerState, any Error>
}

struct CommandRequest: Sendable {
    var key: String
    var command: RedisCommand
    var continuation: CheckedContinuation<RedisReply, any Error>
}

/// What waits for a lane to batch it with others.
enum LaneRequest: Sendable {
    case state(StateRequest)
    case command(CommandRequest)
}

private final class Lane: @unchecked Sendable {
    let queue: DispatchQueue
    let seeds: [RedisURL]
    /// Touched only on `queue`.
    private var deployment: Deployment?
    /// Requests waiting for the lane, and whether a `drain` is scheduled for them.
    private let pending = Mutex<(requests: [LaneRequest], scheduled: Bool)>(([], false))

    init(index: Int, seeds: [RedisURL]) {
        self.queue = DispatchQueue(label: "dupwatch.redis-lane.\(index)")
        self.seeds = seeds
    }

    /// Queues a request; true when the caller must schedule `drain`.
    func enqueue(_ request: LaneRequest) -> Bool {
        pending.withLock { pending in
            pending.requests.append(request)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
    }

    /// On `queue`: answers every waiting request, batch after batch, until none waits. The
    /// state reads of a batch share the loader's round trips; its commands share one pipeline
    /// per node.
    func drain(logger: Logger) {
        while true {
            let batch: [LaneRequest] = pending.withLock { pending in
                defer { pending.requests = [] }
                if pending.requests.isEmpty { pending.scheduled = false }
                return pending.requests
            }
            if batch.isEmpty { return }
            var states: [StateRequest] = []
            var commands: [CommandRequest] = []
            for request in batch {
                switch request {
                case .state(let request): states.append(request)
                case .command(let request): commands.append(request)
                }
            }
            if !states.isEmpty {
                let answers = Result { try call({ try Self.states(of: states, in: $0) }, retryStale: true, logger: logger) }
                for (index, request) in states.enumerated() {
                    request.continuation.resume(with: answers.flatMap { $0[index] })
                }
            }
            if !commands.isEmpty {
                let replies = Result { try call({ try Self.send(commands, in: $0) }, retryStale: false, logger: logger) }
                for (index, request) in commands.enumerated() {
                    request.continuation.resume(with: replies.map { $0[index] })
                }
            }
        }
    }

    /// The requests' commands, one pipeline per node, replies in the requests' order.
    private static func send(_ batch: [CommandRequest], in deployment: Deployment) throws -> [RedisReply] {
        var byNode: [ObjectIdentifier: (connection: RedisConnection, indexes: [Int])] = [:]
        for (index, request) in batch.enumerated() {
            let connection = try deployment.connection(forKey: request.key)
            byNode[ObjectIdentifier(connection), default: (connection, [])].indexes.append(index)
        }
        var out = [RedisReply](repeating: .null, count: batch.count)
        for (connection, indexes) in byNode.values {
            for (index, reply) in zip(indexes, try connection.pipeline(indexes.map { batch[$0].command })) {
                out[index] = reply
            }
        }
        return out
    }

    /// The requests' states, in their order: customers grouped by partition (one key schema,
    /// one node), each group read in one loader pass.
    private static func states(of batch: [StateRequest], in deployment: Deployment) throws -> [Result<CustomerState, any Error>] {
        var groups: [Int: [Int]] = [:]
        for (index, request) in batch.enumerated() {
            groups[deployment.partitioning.partition(of: request.customer), default: []].append(index)
        }
        var out = [Result<CustomerState, any Error>](repeating: .success(CustomerState()), count: batch.count)
        for (partition, indexes) in groups {
            let keys = deployment.partitions[partition]
            // A server reads with one history depth; requests of another depth are read apart.
            var byDepth: [Int: [Int]] = [:]
            for index in indexes { byDepth[batch[index].historyDepth, default: []].append(index) }
            for (depth, members) in byDepth {
                let model = ReadModel(keys: keys, rules: RuleConfig(historyDepth: depth))
                let customers = Array(Set(members.map { batch[$0].customer }))
                let states = try model.states(of: customers, on: deployment.connection(for: keys))
                for index in members {
                    out[index] = states[batch[index].customer].map { $0.mapError { $0 as any Error } } ?? .success(CustomerState())
                }
            }
        }
        return out
    }

    /// On `queue`.
    func call<T>(_ body: (Deployment) throws -> T, retryStale: Bool, logger: Logger) throws -> T {
        let reused = deployment != nil
        do {
            let current = try deployment ?? Deployment(seeds: seeds)
            deployment = current
            return try body(current)
        } catch let error as RedisError where error.kind == .connection || error.kind == .timeout {
            deployment = nil
            if reused {
                logger.warning("Redis connection lost; the lane reconnects", metadata: ["error": "\(error)"])
                if retryStale { return try call(body, retryStale: false, logger: logger) }
            }
            throw error
        }
    }

    func close() {
        queue.sync { deployment = nil }
    }
}
