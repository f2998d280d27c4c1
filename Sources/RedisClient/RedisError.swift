/// Every failure the Redis client reports: I/O, timeouts, malformed replies and server error replies.
///
/// `description` is meant to be shown to an operator as-is: "<message> — <hint>".
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The TCP connection could not be made, or broke (EOF, reset, hiredis I/O error).
        case connection
        /// No reply within the command timeout (or the connect timeout). The connection is broken afterwards.
        case timeout
        /// A reply did not have the shape the caller expected, or hiredis reported a protocol error.
        case protocolViolation
        /// The server answered with an error reply; `code` is its first word (ERR, WRONGTYPE, NOGROUP, OOM, ...).
        case server(code: String)
    }

    public var kind: Kind
    public var message: String
    /// What to do about it.
    public var hint: String

    /// - Parameter hint: when nil, a hint is derived from `kind` (and the server error code).
    public init(kind: Kind, message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint ?? RedisError.defaultHint(for: kind)
    }

    /// Builds the error for a server error reply such as "WRONGTYPE Operation against a key ...".
    /// - Parameter context: optional prefix such as "XREADGROUP on events" put in front of the server's text.
    public static func server(_ serverMessage: String, context: String? = nil) -> RedisError {
        let code = serverErrorCode(serverMessage)
        let message = context.map { "\($0): \(serverMessage)" } ?? serverMessage
        return RedisError(kind: .server(code: code), message: message)
    }

    /// The server error code (first word of the error reply), or nil for non-server errors.
    public var serverCode: String? {
        if case .server(let code) = kind { return code }
        return nil
    }

    public var description: String {
        hint.isEmpty ? message : "\(message) — \(hint)"
    }

    /// True when the same operation may succeed later (possibly on a new connection):
    /// connection loss, timeouts, and the transient server states LOADING, BUSY, MISCONF, OOM, TRYAGAIN,
    /// READONLY, MASTERDOWN.
    public var isRetryable: Bool {
        switch kind {
        case .connection, .timeout:
            return true
        case .protocolViolation:
            return false
        case .server(let code):
            return RedisError.retryableCodes.contains(code)
        }
    }

    static let retryableCodes: Set<String> = ["LOADING", "BUSY", "MISCONF", "OOM", "TRYAGAIN", "READONLY", "MASTERDOWN"]

    /// First word of an error reply; "ERR" when the reply is empty.
    static func serverErrorCode(_ message: String) -> String {
        let word = message.prefix { $0 != " " }
        return word.isEmpty ? "ERR" : String(word)
    }

    static func defaultHint(for kind: Kind) -> String {
        switch kind {
        case .connection:
            return "is redis-server running and reachable? start one with scripts/start-redis.sh; reconnect to continue"
        case .timeout:
            return "Redis did not answer in time (busy, blocked, or unreachable); the connection was dropped — reconnect and retry"
        case .protocolViolation:
            return "the reply did not have the expected shape; this is a client bug or an incompatible Redis version (need Redis >= 7)"
        case .server(let code):
            switch code {
            case "OOM": return "Redis is at maxmemory: free memory or raise maxmemory"
            case "NOPERM": return "the Redis user may not run this command or touch this key: check the user/password in --redis-url and the user's ACL rules"
            case "WRONGPASS": return "check the user/password in --redis-url"
            case "NOAUTH": return "the server requires a password: put it in --redis-url as redis://[user]:password@host:port"
            case "LOADING": return "Redis is loading its data set; retrying"
            case "BUSY": return "a Lua script or function is running too long; wait, or run SCRIPT KILL / FUNCTION KILL"
            case "MISCONF": return "Redis cannot save to disk and refuses writes: check free disk space and permissions of its dir (see the Redis log)"
            case "NOGROUP": return "the stream or consumer group does not exist: create it with XGROUP CREATE <stream> <group> $ MKSTREAM"
            case "BUSYGROUP": return "the consumer group already exists (safe to ignore when creating it at startup)"
            case "WRONGTYPE": return "the key holds another data type than this command expects: check key names and the key prefix"
            case "EXECABORT": return "the transaction was discarded because one of its commands was rejected; see that command's error"
            case "READONLY": return "connected to a read-only replica: point --redis-url at the primary"
            case "TRYAGAIN": return "transient condition: retry shortly"
            case "MASTERDOWN": return "the replica lost its primary: retry shortly or point --redis-url at the primary"
            case "NOSCRIPT": return "the script is not cached on this server: load it again (SCRIPT LOAD) or use EVAL"
            default: return "the server rejected the command; see the error message"
            }
        }
    }
}
