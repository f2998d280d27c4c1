internal import CHiredis

/// Writing commands without waiting for their replies, so that Redis works on them while the
/// caller does something else (the worker plans one batch while Redis reads the state of the
/// next). The replies stay on the socket in order; read exactly as many as were written, in
/// the order they were written, before any other call on this connection.
extension RedisConnection {
    /// Sends `commands` to the server now and returns without reading their replies.
    public func write(_ commands: [RedisCommand]) throws {
        try checkUsable()
        guard !commands.isEmpty else { return }
        try appendToOutput(commands)
        try flushOutput()
        unreadReplies += commands.count
    }

    /// Reads the next `count` replies of earlier `write`s, handing each to `decode` in place.
    /// If `decode` throws, the connection is broken (the replies after it are out of step).
    public func readReplies(_ count: Int, _ decode: (Int, RedisReplyView) throws -> Void) throws {
        try checkUsable()
        guard count <= unreadReplies else {
            throw RedisError(kind: .protocolViolation,
                             message: "asked for \(count) replies but only \(unreadReplies) are owed by \(url)",
                             hint: "read exactly the replies of the commands written")
        }
        for index in 0..<count {
            unreadReplies -= 1
            do {
                try readReply { try decode(index, RedisReplyView($0)) }
            } catch let error as RedisError {
                throw markBroken(error)
            } catch {
                throw markBroken(RedisError(kind: .protocolViolation, message: "decoding a reply from \(url) failed: \(error)"))
            }
        }
    }

    /// Reads and drops every reply still owed (after an outcome that makes them moot).
    public func discardUnreadReplies() throws {
        try readReplies(unreadReplies) { _, _ in }
    }

    /// Commands that read their reply at once refuse to run while written replies are unread:
    /// they would take an earlier command's reply for their own.
    func checkInStep() throws {
        guard unreadReplies == 0 else {
            throw RedisError(kind: .protocolViolation,
                             message: "\(unreadReplies) replies of earlier writes to \(url) are unread",
                             hint: "read them with readReplies before sending another command")
        }
    }
}
