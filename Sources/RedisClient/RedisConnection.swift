internal import CHiredis
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// hiredis 0.14 writes with plain write(2) (no MSG_NOSIGNAL), so writing to a socket the server has
/// already reset raises SIGPIPE and kills the process. Ignore SIGPIPE once, process-wide, before the
/// first connection; write(2) then fails with EPIPE, which hiredis reports as an I/O error.
private let ignoreSIGPIPE: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

/// A blocking connection to one Redis server (hiredis `redisContext`).
///
/// After any I/O failure or timeout the connection is *broken*: replies may be out of step with
/// commands, so every further call throws `.connection` immediately. Create a new connection.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    /// The URL this connection was made from (print it: its description hides the password).
    public let url: RedisURL
    public private(set) var commandTimeoutMs: Int
    private var brokenBy: RedisError?
    /// Replies of commands sent with `write` that were not read yet (see WriteAhead.swift).
    var unreadReplies = 0

    /// Connects, sets the command timeout, authenticates (`AUTH [user] password` when the URL has
    /// credentials) and selects the database when it is not 0.
    public init(url: RedisURL, connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws {
        _ = ignoreSIGPIPE
        self.url = url
        self.commandTimeoutMs = commandTimeoutMs
        guard let ctx = redisConnectWithTimeout(url.host, Int32(clamping: url.port), RedisConnection.timeval(ms: connectTimeoutMs)) else {
            throw RedisError(kind: .connection, message: "cannot connect to \(url): hiredis could not allocate a context (out of memory)")
        }
        if ctx.pointee.err != 0 {
            let error = RedisConnection.connectError(ctx, url: url, connectTimeoutMs: connectTimeoutMs)
            redisFree(ctx)
            throw error
        }
        self.context = ctx
        self.brokenBy = nil
        // From here on deinit frees the context if we throw.

        // Always set it: a zero timeval (commandTimeoutMs <= 0) means "wait forever".
        guard redisSetTimeout(ctx, RedisConnection.timeval(ms: commandTimeoutMs)) == REDIS_OK else {
            throw markBroken(ioError(errno: errno, during: "setting the command timeout on"))
        }

        // hiredis frees its read buffer whenever it is empty and bigger than 16 KB, so each
        // batch-sized reply regrows it by realloc; keeping it (as redis-benchmark does) removes
        // that churn from the hot path. Memory stays bounded by the largest reply.
        ctx.pointee.reader.pointee.maxbuf = 0
        // Replies are built in a per-connection arena and released whole (see shim.h): each
        // reply is decoded and released before the next one is read.
        _ = chiredis_use_arena(ctx)

        if url.password != nil || url.username != nil {
            var auth = RedisCommand("AUTH")
            if let username = url.username { auth.append(username) }
            // A user without a password only makes sense for `nopass` users, which accept any password.
            auth.append(url.password ?? "")
            let reply = try send(auth)
            if case .error(let message) = reply {
                let who = url.username.map { "as user '\($0)'" } ?? "with the password"
                var error = RedisError.server(message, context: "AUTH \(who) on \(url) failed")
                if error.serverCode == "ERR" {
                    // e.g. "ERR AUTH <password> called without any password configured for the default user"
                    error.hint = "check the user/password in --redis-url (the server may not require a password at all)"
                }
                throw error
            }
        }

        if url.database != 0 {
            var select = RedisCommand("SELECT")
            select.append(url.database)
            let reply = try send(select)
            if case .error(let message) = reply {
                var error = RedisError.server(message, context: "SELECT \(url.database) on \(url) failed")
                error.hint = "use a database number the server has (see 'databases' in redis.conf), or /0"
                throw error
            }
        }
    }

    deinit {
        chiredis_free(context)
    }

    /// True after an I/O failure or timeout; every further command throws.
    public var isBroken: Bool { brokenBy != nil }

    /// Changes the per-read/write socket timeout (0 or less: wait forever). Use a longer timeout
    /// around blocking commands (XREAD BLOCK, BLPOP) than the BLOCK time itself.
    public func setCommandTimeout(ms: Int) {
        guard brokenBy == nil else { return }
        if redisSetTimeout(context, RedisConnection.timeval(ms: max(ms, 0))) != REDIS_OK {
            _ = markBroken(ioError(errno: errno, during: "setting the command timeout on"))
        } else {
            commandTimeoutMs = ms
        }
    }

    /// Sends one command and returns its reply. A server error comes back as `.error` (not thrown);
    /// I/O failures and timeouts throw and break the connection.
    public func send(_ command: RedisCommand) throws -> RedisReply {
        try checkUsable()
        try checkInStep()
        try validate(command)
        try appendToOutput(command)
        return try readReply()
    }

    /// Sends one command and throws `RedisError(.server(code:))` for an error reply.
    /// `try conn.command("XGROUP", "CREATE", "events", "g", "$", "MKSTREAM")`
    @discardableResult
    public func command(_ arguments: String...) throws -> RedisReply {
        try command(arguments)
    }

    /// Array form of `command(_:...)`.
    @discardableResult
    public func command(_ arguments: [String]) throws -> RedisReply {
        guard !arguments.isEmpty else {
            throw RedisError(kind: .protocolViolation, message: "empty command", hint: "pass at least the command name")
        }
        let reply = try send(RedisCommand(arguments))
        if case .error(let message) = reply {
            throw RedisError.server(message, context: arguments[0].uppercased())
        }
        return reply
    }

    /// Writes all commands into the output buffer first, then reads exactly one reply per command,
    /// in order. Server errors are returned as `.error` elements; an I/O failure or timeout throws
    /// (the connection is then broken and the remaining replies are lost).
    public func pipeline(_ commands: [RedisCommand]) throws -> [RedisReply] {
        try checkUsable()
        try checkInStep()
        guard !commands.isEmpty else { return [] }
        try appendToOutput(commands)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in 0..<commands.count {
            replies.append(try readReply())
        }
        return replies
    }

    /// Pipelines `commands` and hands each raw reply to `inspect` before it is freed; for
    /// callers that only need to look at reply types (see `transaction`).
    func sendAndInspect(_ commands: [RedisCommand], _ inspect: (Int, UnsafePointer<redisReply>) throws -> Void) throws {
        try checkUsable()
        try checkInStep()
        guard !commands.isEmpty else { return }
        try appendToOutput(commands)
        for index in 0..<commands.count {
            try readReply { try inspect(index, $0) }
        }
    }

    // MARK: - internals

    func checkUsable() throws {
        if let brokenBy {
            throw RedisError(
                kind: .connection,
                message: "connection to \(url) is broken by an earlier error (\(brokenBy.message))",
                hint: "open a new connection")
        }
    }

    func validate(_ command: RedisCommand) throws {
        // An empty multibulk gets no reply at all from Redis; we would wait for the timeout.
        if command.argumentCount == 0 {
            throw RedisError(kind: .protocolViolation, message: "empty command", hint: "a command needs at least its name")
        }
    }

    /// Validates every command before appending any, so that a bad one leaves nothing half-sent.
    func appendToOutput(_ commands: [RedisCommand]) throws {
        for command in commands { try validate(command) }
        for command in commands { try appendToOutput(command) }
    }

    func appendToOutput(_ command: RedisCommand) throws {
        let rc = command.withEncodedBytes { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                redisAppendFormattedCommand(context, chars.baseAddress, chars.count)
            }
        }
        if rc != REDIS_OK {
            throw markBroken(ioError(errno: errno, during: "buffering a command for"))
        }
    }

    private func readReply() throws -> RedisReply {
        try readReply { RedisConnection.convert($0) }
    }

    func readReply<T>(_ decode: (UnsafePointer<redisReply>) throws -> T) throws -> T {
        var raw: UnsafeMutableRawPointer? = nil
        let rc = redisGetReply(context, &raw)
        let savedErrno = errno
        guard rc == REDIS_OK else {
            if let raw { chiredis_release_reply(context, raw) }
            throw markBroken(ioError(errno: savedErrno, during: "talking to"))
        }
        guard let raw else {
            throw markBroken(RedisError(kind: .protocolViolation, message: "hiredis returned no reply from \(url)"))
        }
        defer { chiredis_release_reply(context, raw) }
        return try decode(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self)))
    }

    func markBroken(_ error: RedisError) -> RedisError {
        if brokenBy == nil { brokenBy = error }
        return error
    }

    /// Writes the output buffer to the socket now (hiredis otherwise writes it when the first
    /// reply is read).
    func flushOutput() throws {
        var done: Int32 = 0
        repeat {
            if redisBufferWrite(context, &done) != REDIS_OK {
                throw markBroken(ioError(errno: errno, during: "writing to"))
            }
        } while done == 0
    }

    /// Turns `ctx->err`/`errstr` (plus the errno of the failed call) into a `RedisError`.
    func ioError(errno savedErrno: Int32, during activity: String) -> RedisError {
        let err = context.pointee.err
        let text = String(cString: chiredis_errstr(context))
        switch err {
        case REDIS_ERR_EOF:
            return RedisError(kind: .connection, message: "server closed the connection to \(url)",
                              hint: "Redis restarted, crashed, or closed the client (timeout/CLIENT KILL/maxclients); reconnect")
        case REDIS_ERR_IO:
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK || savedErrno == ETIMEDOUT
                || text.contains("temporarily unavailable") || text.contains("timed out") {
                return RedisError(kind: .timeout, message: "no reply from \(url) within \(commandTimeoutMs) ms",
                                  hint: "Redis is busy, blocked or unreachable (or the command needs a longer timeout); the connection was dropped — reconnect and retry")
            }
            return RedisError(kind: .connection, message: "I/O error \(activity) \(url): \(text)",
                              hint: "the connection was lost; is redis-server still running? reconnect and retry")
        case REDIS_ERR_PROTOCOL:
            return RedisError(kind: .protocolViolation, message: "protocol error from \(url): \(text)")
        case REDIS_ERR_OOM:
            return RedisError(kind: .connection, message: "out of memory in hiredis while \(activity) \(url)",
                              hint: "the client process is out of memory")
        default:
            return RedisError(kind: .connection, message: "error \(activity) \(url): \(text.isEmpty ? "unknown hiredis error" : text)")
        }
    }

    private static func connectError(_ ctx: UnsafeMutablePointer<redisContext>, url: RedisURL, connectTimeoutMs: Int) -> RedisError {
        let text = String(cString: chiredis_errstr(ctx))
        let message = "cannot connect to \(url): \(text)"
        let lower = text.lowercased()
        if lower.contains("refused") {
            return RedisError(kind: .connection, message: message,
                              hint: "is redis-server running? start one with scripts/start-redis.sh")
        }
        if lower.contains("timed out") {
            return RedisError(kind: .timeout, message: "cannot connect to \(url) within \(connectTimeoutMs) ms: \(text)",
                              hint: "is the host reachable and the port right? a firewall may be dropping packets")
        }
        if lower.contains("name or service") || lower.contains("name resolution") || lower.contains("nodename") {
            return RedisError(kind: .connection, message: message, hint: "check the host name in --redis-url")
        }
        return RedisError(kind: .connection, message: message,
                          hint: "is redis-server running and reachable at that address? start one with scripts/start-redis.sh")
    }

    static func timeval(ms: Int) -> timeval {
        let ms = max(ms, 0)
        #if canImport(Glibc)
        return CHiredis.timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        #else
        return CHiredis.timeval(tv_sec: ms / 1000, tv_usec: Int32((ms % 1000) * 1000))
        #endif
    }

    /// Copies a hiredis reply tree into Swift values (the caller frees the tree).
    static func convert(_ reply: UnsafePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            if let element = r.element {
                for i in 0..<r.elements {
                    if let child = element[i] {
                        elements.append(convert(UnsafePointer(child)))
                    } else {
                        elements.append(.null)
                    }
                }
            }
            return .array(elements)
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        default:
            return .error("ERR unknown hiredis reply type \(r.type)")
        }
    }

    @inline(__always)
    static func bytes(_ str: UnsafeMutablePointer<CChar>?, _ len: Int) -> [UInt8] {
        guard let str, len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(str).assumingMemoryBound(to: UInt8.self), count: len))
    }
}

/// A `RedisConnection` wraps a hiredis `redisContext`, which is not thread-safe, and carries
/// per-connection protocol state (commands written vs. replies read). It must be used from one
/// thread/task at a time; give each worker its own connection instead of sharing one.
@available(*, unavailable)
extension RedisConnection: Sendable {}
