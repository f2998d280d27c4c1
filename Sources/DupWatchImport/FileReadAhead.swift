import Foundation

/// Reads, inflates and parses the order file on a thread of its own (`dupwatch-import-reader`)
/// while the importer's thread reads state, applies the orders and commits, as the worker's
/// `Prefetcher` reads its streams: parsing was a third of an import's CPU, and run in turn with
/// the rest it left the second core idle. The reader keeps up to `aheadOrders` orders (and
/// cancellations) waiting, a flush's worth, so that it parses the next flush while the importer
/// writes this one; counting chunks instead left it idle most of a flush, since most rows of a
/// real file can be rejects. Memory stays bounded whatever the file's size.
final class FileReadAhead: @unchecked Sendable {
    /// Items in file order, and where the reader stood after the last of them.
    struct Chunk: Sendable {
        var items: [ImportItem]
        /// Data rows read so far.
        var rows: Int
        /// File bytes read so far (compressed bytes for a .gz).
        var fileBytesRead: Int64
        /// The file is read to its end: no chunk follows.
        var last: Bool
    }

    private enum Slot {
        case chunk(Chunk)
        case failure(any Error)
    }

    // Used by the reader thread only, once started.
    private let reader: OrderFileReader
    private let chunkItems: Int
    private let aheadOrders: Int
    /// Chunks that may wait whatever they hold (a file of rejects only).
    private let maxChunks = 64
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Slot] = []
    /// Orders and cancellations in `queue`.
    private var queuedOrders = 0
    private var stopped = false
    /// Chunks the importer is done with, freed on the reader thread (see `recycle`).
    private var done: [[ImportItem]] = []

    init(reader: OrderFileReader, aheadOrders: Int, chunkItems: Int = 256) {
        self.reader = reader
        self.chunkItems = chunkItems
        self.aheadOrders = max(1, aheadOrders)
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "dupwatch-import-reader"
        thread.start()
    }

    /// The next chunk, waiting for it; rethrows what the reader ran into.
    func next() throws -> Chunk {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty { condition.wait() }
        defer { condition.broadcast() }
        switch queue.removeFirst() {
        case .chunk(let chunk):
            queuedOrders -= Self.orders(in: chunk)
            return chunk
        case .failure(let error): throw error
        }
    }

    /// Hands items the importer is done with back, so that the reader thread frees them: they
    /// were allocated there, and glibc frees memory of another thread's arena under that
    /// arena's lock, which the reader holds while it allocates (as `Prefetcher.recycle`).
    func recycle(_ items: consuming [ImportItem]) {
        condition.lock()
        done.append(items)
        condition.unlock()
    }

    /// Ends the reader thread (at once if it waits for room, else after the item in hand).
    func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        queuedOrders = 0
        condition.broadcast()
        condition.unlock()
    }

    private static func orders(in chunk: Chunk) -> Int {
        chunk.items.count { if case .rejected = $0 { false } else { true } }
    }

    private func readLoop() {
        while true {
            condition.lock()
            while !stopped, queuedOrders >= aheadOrders || queue.count >= maxChunks { condition.wait() }
            var finished: [[ImportItem]] = []
            swap(&finished, &done)
            let stop = stopped
            condition.unlock()
            finished.removeAll() // freed here, outside the lock
            if stop { return }

            let slot: Slot
            do {
                var items: [ImportItem] = []
                items.reserveCapacity(chunkItems)
                var last = false
                while items.count < chunkItems {
                    guard let item = try reader.next() else {
                        last = true
                        break
                    }
                    items.append(item)
                }
                slot = .chunk(Chunk(items: items, rows: reader.rows, fileBytesRead: reader.input.fileBytesRead, last: last))
            } catch {
                slot = .failure(error)
            }
            condition.lock()
            if !stopped {
                queue.append(slot)
                if case .chunk(let chunk) = slot { queuedOrders += Self.orders(in: chunk) }
            }
            condition.broadcast()
            condition.unlock()
            switch slot {
            case .chunk(let chunk) where !chunk.last: continue
            default: return
            }
        }
    }
}
