import Foundation
import RedisClient

/// One active worker per consumer group: the owner of the lease key is the only writer of
/// customer state, which is what lets it trust its cache and fold a batch into one MULTI.
/// Every commit renews the lease inside its MULTI, guarded by WATCH, so a worker that lost the
/// lease can never commit.
struct Lease {
    let key: String
    let owner: String
    let ttlMs: Int64

    enum Attempt {
        case acquired
        case heldBy(String)
    }

    /// A cleanly stopping owner leaves `released:<consumer>` behind instead of deleting the key.
    static let releasedPrefix = "released:"

    /// Takes the lease if it is free, already ours (a restart under the same consumer name), or
    /// held by a consumer of this host whose process is gone.
    func acquire(on connection: RedisConnection) throws -> Attempt {
        let replies = try connection.pipeline([RedisCommand("WATCH", key), RedisCommand("GET", key)])
        try replies[0].throwIfError()
        let holder = try replies[1].throwIfError().optionalString
        let released = holder.flatMap { $0.hasPrefix(Self.releasedPrefix) ? String($0.dropFirst(Self.releasedPrefix.count)) : nil }
        if let holder, holder != owner, released == nil, !ConsumerName.isDeadLocalProcess(holder) {
            _ = try connection.command("UNWATCH")
            return .heldBy(holder)
        }
        switch try connection.transaction([RedisCommand("SET", key, owner, "PX", String(ttlMs))]) {
        case .executed: return .acquired
        case .watchFailed: return .heldBy(holder ?? "another worker")
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

    var renewCommand: RedisCommand { RedisCommand("PEXPIRE", key, String(ttlMs)) }

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
        switch try connection.transaction([renewCommand]) {
        case .executed: return true
        case .watchFailed: return false
        case .aborted(let error): throw error
        }
    }
}

/// Consumer names default to `host-pid`, which lets a restarted worker recognise a crashed
/// predecessor on the same host and take over at once instead of waiting for timeouts.
public enum ConsumerName {
    public static var hostName: String {
        ProcessInfo.processInfo.hostName
    }

    public static func `default`() -> String {
        "\(hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// True only for `<this host>-<pid>` where no process `pid` exists.
    public static func isDeadLocalProcess(_ name: String) -> Bool {
        let prefix = hostName + "-"
        guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)), pid > 0 else { return false }
        if pid == ProcessInfo.processInfo.processIdentifier { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
