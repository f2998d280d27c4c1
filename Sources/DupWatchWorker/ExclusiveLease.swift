public import DupWatchStore
public import RedisClient

/// The worker's lease (`Lease`) for a writer that is not a worker: `dupwatch import` holds a
/// group's lease under its own consumer name while it writes customer state, so that no worker
/// commits underneath it (and it none underneath a worker), exactly as workers exclude each other.
public struct ExclusiveLease: Sendable {
    private let lease: Lease

    public init(keys: KeySchema, group: String, owner: String, ttl: Duration) {
        lease = Lease(key: keys.lease(group: group), owner: owner, ttl: ttl)
    }

    public var key: String { lease.key }
    public var owner: String { lease.owner }
    public var ttl: Duration { lease.ttl }

    public enum Attempt: Sendable, Equatable {
        case acquired
        /// Someone else holds it; `lapsesInMs`: its remaining time to live, when known.
        case heldBy(String, lapsesInMs: Int64?)
    }

    /// Takes the lease if it is free, released, expired or already this owner's.
    public func acquire(on connection: RedisConnection) throws -> Attempt {
        switch try lease.acquire(on: connection) {
        case .acquired: .acquired
        case .heldBy(let holder, let lapses): .heldBy(holder, lapsesInMs: lapses)
        }
    }

    /// WATCH and GET of the lease key: send them first, then check the replies with `isHeld`.
    public var watchCommands: [RedisCommand] { lease.watchCommands }

    public func isHeld(according replies: some Collection<RedisReply>) throws -> Bool {
        try lease.isHeld(according: replies)
    }

    /// Renews it outside a commit (WATCH, GET, then PEXPIRE in MULTI/EXEC, as an idle worker
    /// does); false when another holder has it now.
    public func renew(on connection: RedisConnection) throws -> Bool {
        try lease.renew(on: connection)
    }

    /// Hands the lease over (a worker may take it at once).
    public func release(on connection: RedisConnection) throws {
        try lease.release(on: connection)
    }
}
