import Foundation
import DupWatchCore
import RedisClient

/// Reads the input streams ahead of the batch being processed: XREAD, decoding, the merge
/// frontier and validation run on a thread and a connection of their own while the worker
/// thread loads state, applies the rules and commits. Reading writes nothing, so whatever was
/// read ahead is simply dropped when the worker resumes from the committed position.
///
/// With a backlog (the last read returned a full COUNT) the reader keeps up to `depth` batches
/// queued. Caught up, it keeps one blocking read outstanding whenever nothing is queued, so
/// that entries arriving while the worker commits are already read and validated when it asks
/// (`next` merges whatever piled up): waiting for the worker to ask first would put an XREAD
/// round trip and two thread wake-ups on every alert's path (docs/PERFORMANCE.md has the
/// latency it saves). Each `restart` starts a new generation:
/// what the reader produced for an older one is discarded.
final class Prefetcher: @unchecked Sendable {
    struct Batch {
        var parsed: ParsedBatch
        /// Nothing was left to read and nothing is carried (`parsed` is empty).
        var idle: Bool
        /// The head entry alone after repeated resumes: never merged with another batch.
        var alone = false
    }

    private enum Slot {
        case batch(Batch)
        case failure(any Error)
    }

    private let config: WorkerConfig
    private let planner: BatchPlanner
    /// Counts the reader's reconnects; samples the consumer lag between reads (every
    /// `LagSampler.interval`, on the reader's connection, so never inside a commit).
    private let metrics: WorkerMetrics?
    private let lag: (sampler: LagSampler, gauges: PartitionGauges)?
    private let depth = 4
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Slot] = []
    private var generation = 0
    private var pendingStart: (positions: [EventSource: GroupCursor.Position], headAlone: Bool)?
    private var stopped = false
    /// Batches the worker is done with, freed on the reader thread (see `recycle`).
    private var done: [ParsedBatch] = []

    init(config: WorkerConfig, planner: BatchPlanner, metrics: WorkerMetrics? = nil,
         lag: (sampler: LagSampler, gauges: PartitionGauges)? = nil) {
        self.config = config
        self.planner = planner
        self.metrics = metrics
        self.lag = lag
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "dupwatch-reader"
        thread.start()
    }

    /// Drops everything read so far and reads from `positions` on. `headAlone`: the first batch
    /// is the single head entry (see `Worker.resume`).
    func restart(at positions: [EventSource: GroupCursor.Position], headAlone: Bool) {
        condition.lock()
        generation += 1
        queue.removeAll()
        pendingStart = (positions, headAlone)
        condition.broadcast()
        condition.unlock()
    }

    /// Stops reading until the next `restart` (after an error or a lost lease).
    func halt() {
        condition.lock()
        generation += 1
        queue.removeAll()
        pendingStart = nil
        condition.broadcast()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Hands a processed batch back so that the reader thread frees it: its entries were
    /// allocated there, and glibc frees memory of another thread's arena under that arena's
    /// lock, contended by the reader that allocates from it.
    func recycle(_ batch: consuming ParsedBatch) {
        condition.lock()
        done.append(batch)
        condition.unlock()
    }

    /// The next batch in processing order; nil when nothing arrived within `timeoutMs`.
    /// Batches already waiting behind it are merged into it, up to `maxEntries`: while the
    /// worker is busy the reader's small reads pile up, and one commit for all of them keeps
    /// the cost per entry (and so the delay) down. Rethrows what the reader ran into (it then
    /// waits for a `restart`).
    func next(timeoutMs: Int, maxEntries: Int) throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while queue.isEmpty, !stopped {
            if !condition.wait(until: deadline) { break }
        }
        guard !queue.isEmpty else { return nil }
        defer { condition.broadcast() }
        switch queue.removeFirst() {
        case .failure(let error):
            throw error
        case .batch(var batch):
            mergeQueued(into: &batch, maxEntries: maxEntries)
            return batch
        }
    }

    /// The next batch if one is waiting now with entries to process (not idle, not the head
    /// alone), merged as `next` does; nil otherwise, and the queue is left as it is.
    func poll(maxEntries: Int) -> ParsedBatch? {
        condition.lock()
        defer { condition.unlock() }
        guard case .batch(var batch)? = queue.first, !batch.idle, !batch.alone else { return nil }
        queue.removeFirst()
        mergeQueued(into: &batch, maxEntries: maxEntries)
        condition.broadcast()
        return batch.parsed
    }

    private func mergeQueued(into batch: inout Batch, maxEntries: Int) {
        while !batch.idle, !batch.alone, case .batch(let later)? = queue.first, !later.idle, !later.alone,
              batch.parsed.items.count + later.parsed.items.count <= maxEntries {
            batch.parsed.append(later.parsed)
            queue.removeFirst()
        }
    }

    // MARK: The reader thread

    private func readLoop() {
        var connection: RedisConnection?
        var cursor = GroupCursor()
        var frontier = MergeFrontier()
        var current = -1
        var headAlone = false
        var caughtUp = false
        var connectionLost = false
        var nextLagSample = ContinuousClock.now
        while true {
            condition.lock()
            while !stopped, pendingStart == nil,
                  current != generation || queue.count >= depth || (caughtUp && !queue.isEmpty) {
                condition.wait()
            }
            if stopped {
                condition.unlock()
                return
            }
            if let start = pendingStart {
                pendingStart = nil
                current = generation
                cursor.resume(at: start.positions)
                frontier.removeAll()
                headAlone = start.headAlone
                caughtUp = false
            }
            let mine = current
            var finished: [ParsedBatch] = []
            swap(&finished, &done)
            condition.unlock()
            finished.removeAll() // freed here, outside the lock

            // Only while the worker holds the lease (the reader runs between its `restart` and
            // `halt`), on a connection that is already up: a sample that breaks it costs the
            // read below nothing but the reconnect it makes anyway.
            if let lag, let live = connection, !live.isBroken, ContinuousClock.now >= nextLagSample {
                lag.sampler.sample([(config.keys, lag.gauges)], on: live)
                nextLagSample = ContinuousClock.now + LagSampler.interval
            }

            var slot: Slot?
            // A connection that sat idle may have died with a Redis restart the worker already
            // recovered from: one fresh connection is tried before a failure is reported.
            for attempt in 0..<2 {
                let reused = connection != nil && connection?.isBroken == false
                do {
                    if !reused {
                        if connection != nil { connectionLost = true }
                        connection = try RedisConnection(url: config.redisURL, connectTimeoutMs: 2000,
                                                         commandTimeoutMs: Int(config.blockTime.inMilliseconds) + 5000)
                        if connectionLost {
                            connectionLost = false
                            metrics?.reconnects.increment()
                        }
                    }
                    slot = try readBatch(connection!, &cursor, &frontier, &headAlone, &caughtUp).map(Slot.batch)
                    break
                } catch let error as RedisError where error.kind == .connection && reused && attempt == 0 {
                    connection = nil
                    connectionLost = true
                } catch {
                    if connection?.isBroken == true {
                        connection = nil
                        connectionLost = true
                    }
                    slot = .failure(error)
                    break
                }
            }
            guard let slot else { continue }
            condition.lock()
            if mine == generation, !stopped {
                queue.append(slot)
                if case .failure = slot { current = -1 } // wait for the worker to restart us
                condition.broadcast()
            }
            condition.unlock()
        }
    }

    /// One XREAD of the streams whose carry is not full, through the merge frontier. Nil when
    /// everything read waits in the frontier (read again at once). `caughtUp`: no stream
    /// returned a full COUNT and nothing is carried.
    private func readBatch(_ connection: RedisConnection, _ cursor: inout GroupCursor, _ frontier: inout MergeFrontier,
                           _ headAlone: inout Bool, _ caughtUp: inout Bool) throws -> Batch? {
        let count = headAlone ? 1 : config.batchSize
        let sources = EventSource.allCases.filter { frontier.carriedCount($0) < count }
        var command = RedisCommand("XREAD")
        command.append("COUNT")
        command.append(count)
        if !config.drain, frontier.isEmpty {
            command.append("BLOCK")
            command.append(config.blockTime.inMilliseconds)
        }
        command.append("STREAMS")
        for source in sources { command.append(config.keys.stream(for: source)) }
        for source in sources { command.append(cursor.readPosition(source).description) }
        var read: [EventSource: [DeliveredEntry]] = [:]
        var full: Set<EventSource> = []
        var readCount = 0
        if !sources.isEmpty {
            for (source, entries) in try connection.send(command, decode: decodeXRead) {
                if let last = entries.last { cursor.didRead(source, upTo: last.id) }
                read[source] = entries
                if entries.count >= count { full.insert(source) }
                readCount += entries.count
            }
        }
        let backlog = !full.isEmpty
        // A stream not read this round (its carry is full) may hold more entries too.
        for source in EventSource.allCases where !sources.contains(source) { full.insert(source) }
        var ready = frontier.take(read, full: full)
        caughtUp = !backlog && frontier.isEmpty
        if headAlone, ready.count > 1 {
            frontier.putBack(Array(ready.dropFirst()))
            ready = [ready[0]]
        }
        if ready.isEmpty {
            guard readCount == 0 else { return nil }
            return Batch(parsed: planner.parse([]), idle: true)
        }
        defer { headAlone = false }
        return Batch(parsed: planner.parse(ready), idle: false, alone: headAlone)
    }

    private func decodeXRead(_ reply: RedisReplyView) throws -> [(EventSource, [DeliveredEntry])] {
        try DeliveredEntry.decodeXRead(reply, keys: config.keys)
    }
}
