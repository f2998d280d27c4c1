import Foundation
import DupWatchCore
import DupWatchStore
import RedisClient

/// One active worker per consumer group: the owner of the lease key is the only writer of
/// customer state, which is what lets it trust its cache and fold a batch into one MULTI.
/// Every commit renews the lease inside its MULTI, guarded by WATCH, so a worker that lost the
/// lease can never commit.
struct Lease {
    let key: String
    let owner: String
    let ttl: Duration

    enum Attempt {
        case acquired
        /// `lapsesInMs`: the holder's lease's remaining time to live (nil when unknown), so that a
        /// dead holder's partition is taken the moment its lease lapses.
        case heldBy(String, lapsesInMs: Int64?)
    }

    /// A cleanly stopping owner leaves `released:<consumer>` behind instead of deleting the key.
    static let releasedPrefix = "released:"

    /// Takes the lease if it is free (absent or expired), released by a clean stop, or already
    /// held under this very consumer name (a restart of a static `--consumer`). Never on a guess
    /// that the holder is dead: a process-id check sees only its own PID namespace and host, so
    /// a live worker in another container could lose its lease to it. A crashed holder's lease
    /// lapses after its TTL.
    func acquire(on connection: RedisConnection) throws -> Attempt {
        let replies = try connection.pipeline([RedisCommand("WATCH", key), RedisCommand("GET", key), RedisCommand("PTTL", key)])
        try replies[0].throwIfError()
        let holder = try replies[1].throwIfError().optionalString
        if let holder, holder != owner, !holder.hasPrefix(Self.releasedPrefix) {
            _ = try connection.command("UNWATCH")
            let ttl = try replies[2].throwIfError().int
            return .heldBy(holder, lapsesInMs: ttl >= 0 ? ttl : nil)
        }
        switch try connection.transaction([RedisCommand("SET", key, owner, "PX", String(ttl.inMilliseconds))]) {
        case .executed: return .acquired
        case .watchFailed: return .heldBy(holder ?? "another worker", lapsesInMs: nil)
        case .aborted(let error): throw error
        }
    }

    /// The commands that check ownership before a batch; the reply of the second is the holder.
    var watchCommands: [RedisCommand] { [RedisCommand("WATCH", key), RedisCommand("GET", key)] }

    /// Whether the replies of `watchCommands` (the first two of `replies`) say this owner holds
    /// the lease; throws for an error reply.
    func isHeld(according replies: some Collection<RedisReply>) throws -> Bool {
        var reply = replies.makeIterator()
        try reply.next()?.throwIfError()
        return try reply.next()?.throwIfError().optionalString == owner
    }


    /// On a clean stop: hands the streams over, naming this consumer as released.
    func release(on connection: RedisConnection) throws {
        let replies = try connection.pipeline(watchCommands)
        guard try replies[1].throwIfError().optionalString == owner else {
            _ = try connection.command("UNWATCH")
            return
        }
        _ = try connection.transaction([RedisCommand("SET", key, Self.releasedPrefix + owner, "PX", "86400000")])
    }

    /// Renews while idle; false when another worker owns it now.
    func renew(on connection: RedisConnection) throws -> Bool {
        guard try isHeld(according: connection.pipeline(watchCommands)) else {
            _ = try connection.command("UNWATCH")
            return false
        }
        switch try connection.transaction([CommitCommand.pexpire(key: key, after: ttl).encoded]) {
        case .executed: return true
        case .watchFailed: return false
        case .aborted(let error): throw error
        }
    }
}

/// A worker's identity in its group. The default is unique per process start, so that two
/// workers never share one, even in containers that share a host name and each run as pid 1.
public enum ConsumerName {
    /// `<host>-<pid>-<8 random hex digits>`.
    public static func unique() -> String {
        let nonce = String(UInt32.random(in: .min ... .max), radix: 16)
        return "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + String(repeating: "0", count: 8 - nonce.count) + nonce
    }
}
