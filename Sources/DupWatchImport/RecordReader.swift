/// Splits an `ImportInput` into CSV records (RFC 4180: `"` quotes, `""` inside quotes, a quoted
/// field may hold commas and line breaks; CR outside quotes is dropped) or into plain lines,
/// reusing one record's storage: nothing is kept from one record to the next.
///
/// Bytes are copied run by run (everything up to the next byte that means something), not one
/// at a time: a million-row file is tens of millions of bytes, and a per-byte append was most
/// of the reader's time. A record may span refills of the buffer at any byte, inside quotes,
/// between a CR and its LF or between the two quotes of `""`: the state carries over.
final class RecordReader {
    private let input: ImportInput
    private var buffer: [UInt8]
    private var position = 0
    private var end = 0
    private var finished = false

    /// The current record's field contents, one after the other; `ends[i]`: where field i ends.
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [Int] = []
    /// The physical line (1-based) where the current record starts.
    private(set) var line = 0
    /// Physical lines consumed so far.
    private var linesRead = 0

    /// `bufferSize`: bytes read from the input at a time (tests make it tiny to cut records
    /// at every byte).
    init(input: ImportInput, bufferSize: Int = 1 << 18) {
        self.input = input
        buffer = [UInt8](repeating: 0, count: max(1, bufferSize))
        bytes.reserveCapacity(4096)
        ends.reserveCapacity(32)
    }

    var fieldCount: Int { ends.count }

    /// Field `index`'s bytes (an empty array when the record has fewer fields).
    func field(_ index: Int) -> [UInt8] {
        guard index < ends.count else { return [] }
        let start = index == 0 ? 0 : ends[index - 1]
        return Array(bytes[start..<ends[index]])
    }

    /// Whether the record has field `index`.
    func has(_ index: Int) -> Bool { index < ends.count }

    /// Whether the current record is a blank line.
    var isBlank: Bool { ends.count <= 1 && bytes.isEmpty }

    private func refill() throws -> Bool {
        if finished { return false }
        end = try buffer.withUnsafeMutableBufferPointer { try input.read(into: $0) }
        position = 0
        if end == 0 { finished = true }
        return end > 0
    }

    /// Where a CSV scan is within a record.
    private enum CSVState {
        case fieldStart
        case unquoted
        case quoted
        /// A quote inside quotes: the closing one, or the first of `""`.
        case quoteInQuotes
    }

    /// Reads the next CSV record; false at the end of the input.
    func nextCSV() throws -> Bool {
        // Swapped out so that the appends below find the storage uniquely referenced.
        var out = bytes
        var fieldEnds = ends
        bytes = []
        ends = []
        out.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        defer {
            bytes = out
            ends = fieldEnds
        }
        var state = CSVState.fieldStart
        var started = false
        line = linesRead + 1
        var lines = linesRead
        defer { linesRead = lines }
        while true {
            if position == end {
                guard try refill() else {
                    if !started { return false }
                    fieldEnds.append(out.count)
                    lines += 1
                    return true
                }
            }
            started = true
            let (next, done) = buffer.withUnsafeBufferPointer { p in
                Self.scanCSV(p, from: position, to: end, state: &state, out: &out, fieldEnds: &fieldEnds, lines: &lines)
            }
            position = next
            if done { return true }
        }
    }

    /// Scans `p[from..<stop]` until the record ends (true, with where it stopped) or the bytes do.
    private static func scanCSV(_ p: UnsafeBufferPointer<UInt8>, from: Int, to stop: Int, state: inout CSVState,
                                out: inout [UInt8], fieldEnds: inout [Int], lines: inout Int) -> (Int, Bool) {
        var at = from
        while at < stop {
            if state == .quoted {
                let run = at
                while at < stop, p[at] != 0x22 {
                    if p[at] == 0x0A { lines += 1 }
                    at += 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<at]))
                if at < stop {
                    state = .quoteInQuotes
                    at += 1
                }
                continue
            }
            let run = at
            while at < stop {
                let c = p[at]
                if c == 0x2C || c == 0x0A || c == 0x0D || c == 0x22 { break }
                at += 1
            }
            if at > run {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<at]))
                state = .unquoted
            }
            guard at < stop else { break }
            let c = p[at]
            at += 1
            switch c {
            case 0x2C: // ,
                fieldEnds.append(out.count)
                state = .fieldStart
            case 0x0A:
                fieldEnds.append(out.count)
                lines += 1
                return (at, true)
            case 0x0D:
                break
            default: // "
                switch state {
                case .fieldStart: state = .quoted
                case .quoteInQuotes:
                    out.append(0x22)
                    state = .quoted
                case .unquoted, .quoted: out.append(0x22)
                }
            }
        }
        return (at, false)
    }

    /// Reads the next line (without its LF or a CR before it) into field 0; false at the end.
    func nextLine() throws -> Bool {
        var out = bytes
        bytes = []
        out.removeAll(keepingCapacity: true)
        defer {
            bytes = out
            ends = [out.count]
        }
        linesRead += 1
        line = linesRead
        var started = false
        while true {
            if position == end {
                guard try refill() else {
                    if !started { linesRead -= 1 }
                    return started
                }
            }
            started = true
            let (next, done) = buffer.withUnsafeBufferPointer { p in
                var at = position
                while at < end, p[at] != 0x0A { at += 1 }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[position..<at]))
                return at < end ? (at + 1, true) : (at, false)
            }
            position = next
            if done {
                if out.last == 0x0D { out.removeLast() }
                return true
            }
        }
    }
}
