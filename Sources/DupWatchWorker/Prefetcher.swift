import Foundation
import DupWatchCore
import RedisClient

/// Reads the input streams ahead of the batch being processed: XREAD, decoding, the merge
/// frontier and validation run on a thread and a connection of their own while the worker
/// thread loads state, applies the rules and commits. Reading writes nothing, so whatever was
/// read ahead is simply dropped when the worker resumes from the committed position.
///
/// At most `depth` batches wait in the queue. Each `restart` starts a new generation: what the
/// reader produced for an older one is discarded.
final class Prefetcher: @unchecked Sendable {
    struct Batch {
        var parsed: ParsedBatch
        /// Nothing was left to read and nothing is carried (`parsed` is empty).
        var idle: Bool
    }

    private enum Slot {
        case batch(Batch)
        case failure(any Error)
    }

    private let config: WorkerConfig
    private let planner: BatchPlanner
    private let depth = 2
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Slot] = []
    private var generation = 0
    private var pendingStart: (positions: [EventSource: GroupCursor.Position], headAlone: Bool)?
    private var stopped = false

    init(config: WorkerConfig, planner: BatchPlanner) {
        self.config = config
        self.planner = planner
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

    /// The next batch in processing order; nil when nothing arrived within `timeoutMs`.
    /// Rethrows what the reader ran into (it then waits for a `restart`).
    func next(timeoutMs: Int) throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while queue.isEmpty, !stopped {
            if !condition.wait(until: deadline) { break }
        }
        guard !queue.isEmpty else { return nil }
        let slot = queue.removeFirst()
        condition.broadcast()
        switch slot {
        case .batch(let batch): return batch
        case .failure(let error): throw error
        }
    }

    // MARK: The reader thread

    private func readLoop() {
        var connection: RedisConnection?
        var cursor = GroupCursor()
        var frontier = MergeFrontier()
        var current = -1
        var headAlone = false
        while true {
            condition.lock()
            while !stopped, pendingStart == nil, current != generation || queue.count >= depth {
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
            }
            let mine = current
            condition.unlock()

            let slot: Slot?
            do {
                if connection == nil || connection?.isBroken == true {
                    connection = try RedisConnection(url: config.redisURL, connectTimeoutMs: 2000,
                                                     commandTimeoutMs: config.blockMs + 5000)
                }
                slot = try readBatch(connection!, &cursor, &frontier, &headAlone).map(Slot.batch)
            } catch {
                if connection?.isBroken == true { connection = nil }
                slot = .failure(error)
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
    /// everything read waits in the frontier (read again at once).
    private func readBatch(_ connection: RedisConnection, _ cursor: inout GroupCursor, _ frontier: inout MergeFrontier,
                           _ headAlone: inout Bool) throws -> Batch? {
        let count = headAlone ? 1 : config.batchSize
        let sources = EventSource.allCases.filter { frontier.carriedCount($0) < count }
        var command = RedisCommand("XREAD")
        command.append("COUNT")
        command.append(count)
        if !config.drain, frontier.isEmpty {
            command.append("BLOCK")
            command.append(config.blockMs)
        }
        command.append("STREAMS")
        for source in sources { command.append(config.keys.stream(for: source)) }
        for source in sources { command.append(cursor.readPosition(source).description) }
        var read: [EventSource: [DeliveredEntry]] = [:]
        var full: Set<EventSource> = []
        var readCount = 0
        if !sources.isEmpty {
            for (stream, entries) in try connection.readStreams(command) {
                guard let source = config.keys.source(ofStream: stream) else { continue }
                let batch = entries.map { Self.delivered(source, $0) }
                if let last = batch.last { cursor.didRead(source, upTo: last.id) }
                read[source] = batch
                if entries.count >= count { full.insert(source) }
                readCount += entries.count
            }
        }
        // A stream not read this round (its carry is full) may hold more entries too.
        for source in EventSource.allCases where !sources.contains(source) { full.insert(source) }
        var ready = frontier.take(read, full: full)
        if headAlone, ready.count > 1 {
            frontier.putBack(Array(ready.dropFirst()))
            ready = [ready[0]]
        }
        if ready.isEmpty {
            guard readCount == 0 else { return nil }
            return Batch(parsed: planner.parse([]), idle: true)
        }
        headAlone = false
        return Batch(parsed: planner.parse(ready), idle: false)
    }

    static func delivered(_ source: EventSource, _ entry: StreamEntry) -> DeliveredEntry {
        let id = EntryID(entry.id) ?? EntryID(milliseconds: 0, sequence: 0)
        let raw = entry.fields.map { fields in
            RawEntry(source: source, id: id, fields: fields.map { RawEntry.Field(name: $0.name, value: $0.value) })
        }
        return DeliveredEntry(source: source, id: id, entry: raw)
    }
}
