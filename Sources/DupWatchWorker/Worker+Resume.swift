import DupWatchCore
import RedisClient

/// What a worker does before it reads (on start, after an error or a reconnect, after taking
/// the lease over): start again from the group's committed position.
extension Worker {
    /// Everything read but not committed is dropped and read again from the committed position,
    /// so nothing is lost and, since the position moves with the effects, nothing is applied twice.
    ///
    /// Attempts at the committed position are counted in Redis (`KeySchema.resumeAttempts`):
    /// the first batch after a resume increments the count (with its state reads, before
    /// anything is applied) and every commit clears it, so only work that was started and never
    /// committed counts; idle restarts do not. When this is at least the second attempt, the
    /// next entry is processed alone, so an entry that crashes the worker cannot take a whole
    /// batch down with it; at `--max-deliveries` that entry is dead-lettered as `max_deliveries`.
    func resume(_ connection: RedisConnection) throws {
        let (positions, attempt) = try ConsumerGroup(keys: config.keys, name: config.group).resume(on: connection)
        cursor.resume(at: positions)
        resumeAttempts = attempt
        attemptUncounted = true
        giveUpHead = attempt >= config.maxDeliveries
        prefetcher.restart(at: positions, headAlone: attempt >= 2)
        if attempt >= 2 {
            logger.notice("resuming group \(config.group), attempt \(attempt) since the last commit: the next entry is processed alone\(giveUpHead ? " and dead-lettered (max_deliveries)" : "")")
        }
    }

    /// Marks the head entry as given up on when it has been at the head `--max-deliveries` times.
    func markGiveUp(_ batch: inout ParsedBatch) {
        guard giveUpHead, let head = batch.items.first?.delivered, head.entry != nil else { return }
        giveUpHead = false
        let lastError = lastErrors[head.key] ?? "none recorded: the worker handling it stopped (killed or crashed) before committing"
        batch.items[0].delivered.giveUp = (Int64(resumeAttempts), lastError)
    }
}
