import DupWatchCore
import RedisClient

/// What a worker does before it reads (on start, after an error or a reconnect, after taking
/// the lease over): start again from the group's committed position.
extension Worker {
    /// Everything read but not committed is dropped and read again from the committed position,
    /// so nothing is lost and, since the position moves with the effects, nothing is applied twice.
    ///
    /// Each resume is counted in Redis (`KeySchema.resumeAttempts`); every commit clears the count.
    /// From the second resume without a commit in between, the next entry is processed alone, so
    /// an entry that crashes the worker cannot take a whole batch down with it; at
    /// `--max-deliveries` that entry is dead-lettered as `max_deliveries` instead.
    func resume(_ connection: RedisConnection) throws {
        let infos = try connection.pipeline(EventSource.allCases.map {
            RedisCommand("XINFO", "GROUPS", config.keys.stream(for: $0))
        })
        let positions = try GroupCursor.positions(group: config.group, infos: Array(zip(EventSource.allCases, infos)))
        cursor.resume(at: positions)
        let attempts = try connection.send(RedisCommand("INCR", config.keys.resumeAttempts(group: config.group))).throwIfError().int
        resumeAttempts = Int(attempts)
        prefetcher.restart(at: positions, headAlone: attempts >= 2)
        if attempts >= 2 {
            logger.notice("resuming group \(config.group), attempt \(attempts) since the last commit: the next entry is processed alone\(attempts >= config.maxDeliveries ? " and dead-lettered (max_deliveries)" : "")")
        }
    }

    /// Marks the head entry as given up on when it has been at the head `--max-deliveries` times.
    func markGiveUp(_ batch: inout ParsedBatch) {
        guard resumeAttempts >= config.maxDeliveries, let head = batch.items.first?.delivered, head.entry != nil else { return }
        let key = "\(head.source.rawValue)/\(head.id)"
        let lastError = lastErrors[key] ?? "none recorded: the worker handling it stopped (killed or crashed) before committing"
        batch.items[0].delivered.giveUp = (Int64(resumeAttempts), lastError)
    }
}
