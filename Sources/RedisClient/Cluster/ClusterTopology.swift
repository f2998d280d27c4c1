/// One node of a cluster, as the slot map and redirects name it.
public struct ClusterNode: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, as in `MOVED 3999 127.0.0.1:7001` (an IPv6 host in brackets is accepted).
    public init?(address: Substring) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Which master serves which slots: the slot map a cluster client routes by. A value, built
/// from `CLUSTER SLOTS` and patched by `MOVED` redirects; no I/O.
public struct ClusterTopology: Sendable, Equatable {
    /// The master of every slot (nil: not served, the cluster is not fully covered).
    private var owners: [ClusterNode?]
    /// The replicas of each master, as `CLUSTER SLOTS` listed them.
    public private(set) var replicas: [ClusterNode: [ClusterNode]]

    public init() {
        owners = Array(repeating: nil, count: HashSlot.count)
        replicas = [:]
    }

    /// A Redis without cluster mode: one node serves every slot.
    public init(singleNode node: ClusterNode) {
        owners = Array(repeating: node, count: HashSlot.count)
        replicas = [node: []]
    }

    /// From a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], [replica...]...], ...]`.
    /// A master announced with an empty host (`""`, Redis's "the address you reached me at")
    /// takes the host of `reachedAt`.
    public init(clusterSlots reply: RedisReply, reachedAt: ClusterNode) throws {
        self.init()
        for range in try reply.array {
            let items = try range.array
            guard items.count >= 3 else { throw RedisError(kind: .protocolViolation, message: "CLUSTER SLOTS range without a master: \(range)") }
            let start = Int(try items[0].int), end = Int(try items[1].int)
            guard 0 <= start, start <= end, end < HashSlot.count else {
                throw RedisError(kind: .protocolViolation, message: "CLUSTER SLOTS range \(start)-\(end) is outside 0-16383")
            }
            let master = try Self.node(items[2], reachedAt: reachedAt)
            for slot in start...end { owners[slot] = master }
            replicas[master] = try items.dropFirst(3).map { try Self.node($0, reachedAt: reachedAt) }
        }
    }

    private static func node(_ reply: RedisReply, reachedAt: ClusterNode) throws -> ClusterNode {
        let fields = try reply.array
        guard fields.count >= 2 else { throw RedisError(kind: .protocolViolation, message: "CLUSTER SLOTS node without host and port: \(reply)") }
        let host = try fields[0].string
        return ClusterNode(host: host.isEmpty || host == "?" ? reachedAt.host : host, port: Int(try fields[1].int))
    }

    public func master(of slot: HashSlot) -> ClusterNode? {
        owners[Int(slot.value)]
    }

    /// Every master that serves at least one slot.
    public var masters: Set<ClusterNode> {
        Set(owners.compactMap { $0 })
    }

    /// Whether every slot has a master.
    public var coversAllSlots: Bool {
        owners.allSatisfy { $0 != nil }
    }

    /// A `MOVED` redirect: the slot is served by `node` from now on.
    public mutating func move(_ slot: HashSlot, to node: ClusterNode) {
        owners[Int(slot.value)] = node
    }
}

/// What an error reply of a cluster node means for the command that got it.
public enum ClusterRedirect: Sendable, Equatable {
    /// `MOVED <slot> <host:port>`: the slot lives there now; update the map and retry there.
    case moved(slot: HashSlot, to: ClusterNode)
    /// `ASK <slot> <host:port>`: this once, send `ASKING` and the command there (a slot being
    /// migrated); the map stays as it is.
    case ask(slot: HashSlot, to: ClusterNode)
    /// `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`: the cluster is changing (a migration,
    /// a failover): wait a little and retry, reading the map again.
    case retryLater

    /// The redirect an error reply's text carries; nil for any other error.
    public init?(errorReply message: String) {
        let words = message.split(separator: " ", omittingEmptySubsequences: true)
        guard let code = words.first else { return nil }
        switch code {
        case "MOVED", "ASK":
            guard words.count == 3, let number = Int(words[1]), let slot = HashSlot(number),
                  let node = ClusterNode(address: words[2]) else { return nil }
            self = code == "MOVED" ? .moved(slot: slot, to: node) : .ask(slot: slot, to: node)
        case "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "LOADING":
            self = .retryLater
        default:
            return nil
        }
    }
}
