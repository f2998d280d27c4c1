import DupWatchCore
import DupWatchWorker
import Testing
import TestSupport

private func entry(_ source: EventSource, _ ms: UInt64, _ seq: UInt64 = 0) -> DeliveredEntry {
    let id = EntryID(milliseconds: ms, sequence: seq)
    return DeliveredEntry(source: source, id: id, entry: RawEntry(source: source, id: id, fields: []))
}

@Suite("Merging streams read one at a time")
struct StreamWatermarksTests {
    @Test func nothingIsHandedOutUntilEveryStreamWasRead() {
        var marks = StreamWatermarks()
        marks.add(.cart, entries: [entry(.cart, 10)], full: false, nodeTimeMs: 100)
        marks.add(.orderPlaced, entries: [], full: false, nodeTimeMs: 100)
        #expect(marks.take().isEmpty, "the status stream was never read")
        marks.add(.orderStatus, entries: [], full: false, nodeTimeMs: 100)
        #expect(marks.take().map(\.id.milliseconds) == [10])
    }

    /// The cart stream was read before an order arrived; the order, read later, must wait until
    /// the cart stream has been read past it: a cart event added in between has a smaller id.
    @Test func anOrderWaitsForTheCartStreamToBeReadPastIt() {
        var marks = StreamWatermarks()
        marks.add(.cart, entries: [], full: false, nodeTimeMs: 100)
        marks.add(.orderStatus, entries: [], full: false, nodeTimeMs: 200)
        marks.add(.orderPlaced, entries: [entry(.orderPlaced, 150)], full: false, nodeTimeMs: 200)
        #expect(marks.take().isEmpty, "the cart stream may still hold entries between 100 and 150")
        marks.add(.cart, entries: [entry(.cart, 120)], full: false, nodeTimeMs: 210)
        #expect(marks.take().map(\.source) == [.cart, .orderPlaced])
    }

    @Test func aFullReadOnlyVouchesForWhatItReturned() {
        var marks = StreamWatermarks()
        marks.add(.cart, entries: [entry(.cart, 10), entry(.cart, 20)], full: true, nodeTimeMs: 1_000)
        marks.add(.orderPlaced, entries: [entry(.orderPlaced, 15), entry(.orderPlaced, 30)], full: false, nodeTimeMs: 1_000)
        marks.add(.orderStatus, entries: [], full: false, nodeTimeMs: 1_000)
        #expect(marks.take().map(\.id.milliseconds) == [10, 15, 20])
        #expect(marks.carriedCount(.orderPlaced) == 1)
        marks.add(.cart, entries: [entry(.cart, 25)], full: false, nodeTimeMs: 1_001)
        #expect(marks.take().map(\.id.milliseconds) == [25, 30])
    }

    @Test func withinOneMillisecondCartComesBeforeOrdersBeforeStatuses() {
        var marks = StreamWatermarks()
        marks.add(.orderStatus, entries: [entry(.orderStatus, 50, 0)], full: false, nodeTimeMs: 60)
        marks.add(.orderPlaced, entries: [entry(.orderPlaced, 50, 3)], full: false, nodeTimeMs: 60)
        marks.add(.cart, entries: [entry(.cart, 50, 7)], full: false, nodeTimeMs: 60)
        #expect(marks.take().map(\.source) == [.cart, .orderPlaced, .orderStatus])
    }

    /// Producers add entries with Redis-assigned ids to three streams on three nodes whose
    /// clocks differ; a reader reads them one at a time, in random order, COUNT at a time. What
    /// it hands out must be in processing order with nothing skipped, whatever the interleaving.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomInterleavingsComeOutInOrderAndComplete(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let skew: [EventSource: UInt64] = [.cart: 0, .orderPlaced: 40, .orderStatus: 7]
        var streams: [EventSource: [DeliveredEntry]] = [:]
        var lastID: [EventSource: EntryID] = [:]
        var position: [EventSource: Int] = [:]
        var clock: UInt64 = 1_000
        var marks = StreamWatermarks()
        var out: [DeliveredEntry] = []
        for _ in 0..<3_000 {
            clock += random.next() % 3
            let source = EventSource.allCases[Int(random.next() % 3)]
            if random.next() % 3 != 0 {
                // XADD *: the node's clock, or the last id's sequence + 1 within a millisecond.
                let now = clock + skew[source]!
                let previous = lastID[source]
                let id = previous.map { now > $0.milliseconds ? EntryID(milliseconds: now, sequence: 0)
                    : EntryID(milliseconds: $0.milliseconds, sequence: $0.sequence + 1) } ?? EntryID(milliseconds: now, sequence: 0)
                lastID[source] = id
                streams[source, default: []].append(DeliveredEntry(source: source, id: id, entry: nil))
            } else {
                // TIME, then XREAD COUNT 4 of this stream, on its node.
                let now = clock + skew[source]!
                let all = streams[source] ?? []
                let from = position[source] ?? 0
                let read = Array(all[from..<min(all.count, from + 4)])
                position[source] = from + read.count
                marks.add(source, entries: read, full: read.count == 4, nodeTimeMs: now)
                out += marks.take()
            }
        }
        // Everything added by now, read to the end on every stream, comes out.
        clock += 100
        for _ in 0..<1_000 {
            for source in EventSource.allCases {
                let all = streams[source] ?? []
                let from = position[source] ?? 0
                let read = Array(all[from..<min(all.count, from + 4)])
                position[source] = from + read.count
                marks.add(source, entries: read, full: read.count == 4, nodeTimeMs: clock + skew[source]!)
            }
            out += marks.take()
        }
        let keys = out.map(\.key)
        #expect(keys == keys.sorted(), "seed \(seed): handed out out of order")
        #expect(out.count == streams.values.map(\.count).reduce(0, +), "seed \(seed): entries left behind")
    }
}
