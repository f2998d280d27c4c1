import Foundation

/// Splits an `ImportInput` into CSV records (RFC 4180: `"` quotes, `""` inside quotes, a quoted
/// field may hold commas and line breaks; CR outside quotes is dropped) or into plain lines,
/// reusing one record's storage: nothing is kept from one record to the next.
final class RecordReader {
    private let input: ImportInput
    private var buffer = [UInt8](repeating: 0, count: 1 << 18)
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

    init(input: ImportInput) {
        self.input = input
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

    /// Reads the next CSV record; false at the end of the input.
    func nextCSV() throws -> Bool {
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
        // 0: at a field's start, 1: in an unquoted field, 2: in quotes, 3: a quote in quotes.
        var state = 0
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
            var at = position
            let stop = end
            let done: Bool = buffer.withUnsafeBufferPointer { p in
                while at < stop {
                    let c = p[at]
                    at += 1
                    if state == 2 {
                        if c == 0x22 { state = 3 } else {
                            if c == 0x0A { lines += 1 }
                            out.append(c)
                        }
                        continue
                    }
                    switch c {
                    case 0x2C: // ,
                        fieldEnds.append(out.count)
                        state = 0
                    case 0x0A:
                        fieldEnds.append(out.count)
                        lines += 1
                        return true
                    case 0x0D:
                        break
                    case 0x22: // "
                        if state == 0 { state = 2 } else if state == 3 { out.append(c); state = 2 } else { out.append(c) }
                    default:
                        out.append(c)
                        state = 1
                    }
                }
                return false
            }
            position = at
            if done { return true }
        }
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
            var at = position
            let stop = end
            let done: Bool = buffer.withUnsafeBufferPointer { p in
                while at < stop {
                    let c = p[at]
                    at += 1
                    if c == 0x0A { return true }
                    out.append(c)
                }
                return false
            }
            position = at
            if done {
                if out.last == 0x0D { out.removeLast() }
                return true
            }
        }
    }
}
