#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A Redis Cluster over hiredis: one blocking `RedisConnection` per node, commands routed by
/// the hash slot of their keys, `MOVED`, `ASK`, `TRYAGAIN` and `CLUSTERDOWN` handled, the slot
/// map read again after a redirect to an unknown node, a lost connection or a failover.
///
/// A single Redis without cluster mode is served as a cluster of one node that holds every
/// slot, so the same code runs on one Redis and on a cluster.
///
/// Like `RedisConnection`, it is used from one thread at a time; give each thread its own.
public final class RedisCluster {
    /// The seeds' credentials are used for every node (a cluster's nodes share their ACL users).
    public let seeds: [RedisURL]
    public private(set) var topology = ClusterTopology()
    private var connections: [ClusterNode: RedisConnection] = [:]
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    /// Redirects and retries one command may take before it fails.
    public var maxAttempts = 16

    public init(seeds: [RedisURL], connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws {
        guard !seeds.isEmpty else {
            throw RedisError(kind: .connection, message: "no Redis Cluster node given", hint: "pass one or more redis:// URLs, comma-separated")
        }
        self.seeds = seeds
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        try refreshTopology()
    }

    /// Reads the slot map again from the first node that answers (known masters first, then
    /// the seeds).
    public func refreshTopology() throws {
        var candidates = Array(topology.masters).sorted { $0.description < $1.description }
        for seed in seeds {
            let node = ClusterNode(host: seed.host, port: seed.port)
            if !candidates.contains(node) { candidates.append(node) }
        }
        var failures: [String] = []
        var onlyFailure: RedisError?
        for node in candidates {
            do {
                let reply = try connection(to: node).send(RedisCommand("CLUSTER", "SLOTS"))
                if case .error(let message) = reply {
                    guard message.contains("cluster support disabled") else { throw RedisError.server(message, context: "CLUSTER SLOTS") }
                    topology = ClusterTopology(singleNode: node)
                    return
                }
                let map = try ClusterTopology(clusterSlots: reply, reachedAt: node)
                guard !map.masters.isEmpty else {
                    failures.append("\(node): serves no slots (is the cluster created?)")
                    continue
                }
                topology = map
                return
            } catch let error as RedisError {
                drop(node)
                failures.append("\(node): \(error.message)")
                onlyFailure = candidates.count == 1 ? error : nil
            }
        }
        // One Redis given and known: its own error says best what is wrong (and how to fix it).
        if let onlyFailure { throw onlyFailure }
        throw RedisError(kind: .connection, message: "no Redis Cluster node answered CLUSTER SLOTS (\(failures.joined(separator: "; ")))",
                         hint: "is the cluster running? scripts/start-cluster.sh starts a local one")
    }

    /// The connection to the master that serves `slot` now (made on first use). For callers
    /// that pipeline or run a transaction on one slot; they handle what the replies say.
    public func connection(for slot: HashSlot) throws -> RedisConnection {
        guard let node = topology.master(of: slot) else {
            try refreshTopology()
            guard let node = topology.master(of: slot) else {
                throw RedisError(kind: .server(code: "CLUSTERDOWN"), message: "slot \(slot) is served by no master",
                                 hint: "the cluster does not cover every slot; check redis-cli --cluster check")
            }
            return try connection(to: node)
        }
        return try connection(to: node)
    }

    /// Sends `command`, whose keys are all in `slot`, to the master that serves it, following
    /// redirects. Error replies other than redirects are returned as `.error`, as
    /// `RedisConnection.send` does.
    public func send(_ command: RedisCommand, slot: HashSlot) throws -> RedisReply {
        var lastError: RedisError?
        var ask: ClusterNode?
        for attempt in 0..<maxAttempts {
            do {
                let reply: RedisReply
                if let target = ask {
                    ask = nil
                    let replies = try connection(to: target).pipeline([RedisCommand("ASKING"), command])
                    reply = replies[1]
                } else {
                    reply = try connection(for: slot).send(command)
                }
                guard case .error(let message) = reply, let redirect = ClusterRedirect(errorReply: message) else { return reply }
                switch redirect {
                case .moved(let movedSlot, let node):
                    topology.move(movedSlot, to: node)
                    // A node the map did not know: the map is out of date as a whole.
                    if !topology.masters.contains(node) || attempt > 0 { try? refreshTopology() }
                case .ask(_, let node):
                    ask = node
                case .retryLater:
                    lastError = RedisError.server(message)
                    pause(attempt)
                    try? refreshTopology()
                }
            } catch let error as RedisError where error.kind == .connection || error.kind == .timeout {
                // The node is gone (killed, failed over): ask the others who serves the slot now.
                lastError = error
                if let node = topology.master(of: slot) { drop(node) }
                pause(attempt)
                try? refreshTopology()
            }
        }
        throw lastError ?? RedisError(kind: .connection, message: "slot \(slot): still redirected after \(maxAttempts) attempts")
    }

    /// `send` for a command whose first key decides the slot.
    @discardableResult
    public func command(_ arguments: String...) throws -> RedisReply {
        guard arguments.count >= 2 else {
            throw RedisError(kind: .protocolViolation, message: "a cluster command needs a key to be routed by")
        }
        let reply = try send(RedisCommand(arguments), slot: HashSlot(key: arguments[1]))
        if case .error(let message) = reply { throw RedisError.server(message, context: arguments[0].uppercased()) }
        return reply
    }

    /// Every master's connection, for commands that go to each node (`INFO`, `SCAN`, `FLUSHALL`).
    public func masterConnections() throws -> [(node: ClusterNode, connection: RedisConnection)] {
        try topology.masters.sorted { $0.description < $1.description }.map { ($0, try connection(to: $0)) }
    }

    /// Forgets a node's connection (broken, or no longer a master).
    public func drop(_ node: ClusterNode) {
        connections[node] = nil
    }

    private func connection(to node: ClusterNode) throws -> RedisConnection {
        // A connection that still owes replies was left by a caller that failed between writing
        // and reading: its next reply would answer the wrong command, so it is replaced.
        if let existing = connections[node], !existing.isBroken, existing.unreadReplies == 0 { return existing }
        var url = seeds[0]
        url.host = node.host
        url.port = node.port
        let connection = try RedisConnection(url: url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        connections[node] = connection
        return connection
    }

    /// 10 ms, 20 ms, ... up to 500 ms: a failover takes the cluster's node timeout.
    private func pause(_ attempt: Int) {
        usleep(UInt32(min(500, 10 << min(attempt, 6))) * 1000)
    }
}

@available(*, unavailable)
extension RedisCluster: Sendable {}
