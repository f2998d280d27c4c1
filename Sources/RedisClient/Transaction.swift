internal import CHiredis

/// What a MULTI ... EXEC came to.
public enum TransactionOutcome: Sendable {
    /// EXEC ran every command; `errors` are the messages of commands that failed at run time
    /// (Redis does not roll back: the others took effect).
    case executed(errors: [String])
    /// A WATCHed key changed: nothing ran.
    case watchFailed
    /// Redis discarded the transaction because a command was refused while queueing (OOM,
    /// NOPERM, a syntax error): nothing ran. `error` is that refusal, not the generic EXECABORT.
    case aborted(error: RedisError)
}

/// A MULTI ... EXEC written with `RedisConnection.write(transaction:)` whose replies are unread.
public struct WrittenTransaction: Sendable {
    /// MULTI, the commands and EXEC.
    let replyCount: Int
}

extension RedisConnection {
    /// Sends MULTI, `commands`, EXEC in one write and reads the replies by type only: a batch
    /// commit of thousands of commands builds no Swift value per `+QUEUED` or per result.
    public func transaction(_ commands: [RedisCommand]) throws -> TransactionOutcome {
        try checkInStep()
        return try outcome(of: write(transaction: commands))
    }

    /// Sends MULTI, `commands`, EXEC and then `trailing` in one write, without reading the
    /// replies: `outcome(of:)` reads the transaction's, and the caller then reads `trailing`'s.
    /// One write for both is one system call less on each side of the socket than two.
    public func write(transaction commands: [RedisCommand], followedBy trailing: [RedisCommand] = []) throws -> WrittenTransaction {
        var all = [RedisCommand("MULTI")]
        all.reserveCapacity(commands.count + 2 + trailing.count)
        all += commands
        all.append(RedisCommand("EXEC"))
        all += trailing
        try write(all)
        return WrittenTransaction(replyCount: commands.count + 2)
    }

    /// Reads the replies of a transaction written with `write(transaction:)`; the replies of
    /// anything written before it must have been read.
    public func outcome(of written: WrittenTransaction) throws -> TransactionOutcome {
        var refusal: RedisError?
        var outcome: TransactionOutcome?
        let execIndex = written.replyCount - 1
        try readReplies(written.replyCount) { index, view in
            let r = view.pointer.pointee
            let isExec = index == execIndex
            if r.type == REDIS_REPLY_ERROR {
                let message = String(decoding: RedisConnection.bytes(r.str, r.len), as: UTF8.self)
                if isExec {
                    outcome = .aborted(error: refusal ?? RedisError.server(message, context: "EXEC"))
                } else if refusal == nil {
                    refusal = RedisError.server(message, context: index == 0 ? "MULTI" : "a queued command")
                }
                return
            }
            guard isExec else { return }
            if r.type == REDIS_REPLY_NIL {
                outcome = .watchFailed
                return
            }
            var errors: [String] = []
            if r.type == REDIS_REPLY_ARRAY, let elements = r.element {
                for i in 0..<r.elements {
                    guard let child = elements[i], child.pointee.type == REDIS_REPLY_ERROR else { continue }
                    errors.append(String(decoding: RedisConnection.bytes(child.pointee.str, child.pointee.len), as: UTF8.self))
                }
            }
            outcome = .executed(errors: errors)
        }
        guard let outcome else {
            throw RedisError(kind: .protocolViolation, message: "no EXEC reply from \(url)")
        }
        return outcome
    }
}
