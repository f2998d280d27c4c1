public import DupWatchCore
public import RedisClient

/// One write of a batch's commit, as a value: what the planner decides and what tests compare.
/// `encoded` is the one place these become RESP; the worker sends the encoded list inside one
/// MULTI/EXEC. `keys` are the keys each command touches (all of one customer's share a slot).
public enum CommitCommand: Sendable, Hashable {
    case hset(key: String, fields: [Field])
    case hdel(key: String, fields: [String])
    case del(key: String)
    case rpush(key: String, values: [String])
    case zadd(key: String, members: [ScoredMember])
    /// Keeps the `keep` highest-scored members of a sorted set (ZREMRANGEBYRANK key 0 -(keep+1)).
    case ztrim(key: String, keep: Int)
    case pexpire(key: String, after: Duration)
    case hincrby(key: String, field: String, by: Int64)
    case zincrby(key: String, member: String, by: Int64)
    /// `XADD stream [MAXLEN ~ n] * field value ...`; no cap when `maxLength` is nil.
    case xadd(stream: String, maxLength: Int?, fields: [Field])
    /// `XADD stream id field value ...` with a given id and the fields' bytes as they are: the
    /// router re-adds an input entry under its own id, so that adding it twice is refused.
    case xaddEntry(stream: String, id: EntryID, fields: [RawEntry.Field])
    /// Moves a consumer group's last-delivered-id: the committed read position.
    case xgroupSetID(stream: String, group: String, id: String, entriesRead: Int64?)

    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct ScoredMember: Sendable, Hashable {
        public var score: Int64
        public var member: String

        public init(_ score: Int64, _ member: String) {
            self.score = score
            self.member = member
        }
    }

    public var keys: [String] {
        switch self {
        case .hset(let key, _), .hdel(let key, _), .del(let key), .rpush(let key, _), .zadd(let key, _),
             .ztrim(let key, _), .pexpire(let key, _), .hincrby(let key, _, _), .zincrby(let key, _, _):
            [key]
        case .xadd(let stream, _, _), .xaddEntry(let stream, _, _), .xgroupSetID(let stream, _, _, _):
            [stream]
        }
    }

    public var encoded: RedisCommand {
        switch self {
        case .hset(let key, let fields):
            var command = RedisCommand("HSET")
            command.reserveCapacity(key.utf8.count + fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 16 })
            command.append(key)
            for field in fields {
                command.append(field.name)
                command.append(field.value)
            }
            return command
        case .hdel(let key, let fields):
            return RedisCommand(["HDEL", key] + fields)
        case .del(let key):
            return RedisCommand("DEL", key)
        case .rpush(let key, let values):
            return RedisCommand(["RPUSH", key] + values)
        case .zadd(let key, let members):
            var command = RedisCommand("ZADD")
            command.append(key)
            for member in members {
                command.append(member.score)
                command.append(member.member)
            }
            return command
        case .ztrim(let key, let keep):
            var command = RedisCommand("ZREMRANGEBYRANK", key, "0")
            command.append(Int64(-(keep + 1)))
            return command
        case .pexpire(let key, let ttl):
            var command = RedisCommand("PEXPIRE")
            command.append(key)
            command.append(ttl.inMilliseconds)
            return command
        case .hincrby(let key, let field, let amount):
            var command = RedisCommand("HINCRBY", key, field)
            command.append(amount)
            return command
        case .zincrby(let key, let member, let amount):
            var command = RedisCommand("ZINCRBY", key)
            command.append(amount)
            command.append(member)
            return command
        case .xadd(let stream, let maxLength, let fields):
            var command = RedisCommand("XADD")
            command.reserveCapacity(stream.utf8.count + fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 16 })
            command.append(stream)
            if let maxLength {
                command.append("MAXLEN")
                command.append("~")
                command.append(maxLength)
            }
            command.append("*")
            for field in fields {
                command.append(field.name)
                command.append(field.value)
            }
            return command
        case .xaddEntry(let stream, let id, let fields):
            var command = RedisCommand("XADD")
            command.reserveCapacity(stream.utf8.count + fields.reduce(0) { $0 + $1.name.count + $1.value.count + 16 })
            command.append(stream)
            command.append(id.description)
            for field in fields {
                command.append(bytes: field.name)
                command.append(bytes: field.value)
            }
            return command
        case .xgroupSetID(let stream, let group, let id, let entriesRead):
            var command = RedisCommand("XGROUP", "SETID", stream, group, id)
            if let entriesRead {
                command.append("ENTRIESREAD")
                command.append(entriesRead)
            }
            return command
        }
    }
}
