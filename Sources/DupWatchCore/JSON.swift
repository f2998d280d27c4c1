// A tiny, strict JSON reader (RFC 8259) for the `items` field of `order:placed` entries and
// dead-letter payloads. Nothing here uses Foundation; JSON documents are written with
// Foundation's JSONEncoder by the layers that output them.

// MARK: - Reader

/// A parsed JSON value. Objects keep their members in document order (duplicates included;
/// the caller decides what a duplicate key means).
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// A short description for messages: the literal for numbers, the quoted text for strings
    /// (truncated), the kind for everything else.
    var summary: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n.literal.utf8.count <= Quoted.limit
            ? n.literal : Quoted.bytes(Array(n.literal.utf8))
        case .string(let s): Quoted.bytes(Array(s.utf8))
        case .array: "an array"
        case .object: "an object"
        }
    }
}

struct JSONMember: Sendable, Equatable {
    var key: String
    var value: JSONValue
}

struct JSONNumber: Sendable, Equatable {
    /// The number exactly as written.
    var literal: String
    /// True when written without a fraction or exponent (`1`, `-3`; not `1.0`, `1e2`).
    var isInteger: Bool
    /// The value of an integer literal that fits in Int64; nil otherwise.
    var integerValue: Int64?
}

/// Why a document is not valid JSON. `offset` is the 0-based byte offset of the problem.
struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    var problem: String
    var offset: Int
    var description: String { "\(problem) at byte \(offset)" }
}

enum JSONReader {
    static let defaultMaxDepth = 32

    /// Parses exactly one JSON value (surrounding whitespace allowed, nothing else).
    /// Arrays and objects may nest at most `maxDepth` levels.
    static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBufferPointer { p in
            var parser = Parser(p: p, maxDepth: maxDepth)
            do throws(JSONError) {
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                if parser.i < p.count { throw JSONError(problem: "unexpected character", offset: parser.i) }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// A top-level JSON object's members, each with the byte range of its value's text, so that
    /// a nested value can be passed on exactly as the client wrote it.
    static func parseObjectMembers(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth)
        throws(JSONError) -> [(member: JSONMember, text: Range<Int>)] {
        let result: Result<[(member: JSONMember, text: Range<Int>)], JSONError> = bytes.withUnsafeBufferPointer { p in
            var parser = Parser(p: p, maxDepth: maxDepth)
            do throws(JSONError) {
                var members: [(member: JSONMember, text: Range<Int>)] = []
                parser.skipWhitespace()
                guard parser.i < p.count, p[parser.i] == 0x7B else { throw JSONError(problem: "not a JSON object", offset: parser.i) }
                parser.i += 1
                parser.skipWhitespace()
                if parser.i < p.count, p[parser.i] == 0x7D {
                    parser.i += 1
                } else {
                    while true {
                        parser.skipWhitespace()
                        guard parser.i < p.count, p[parser.i] == 0x22 else { throw parser.unexpected() }
                        let key = try parser.parseString()
                        parser.skipWhitespace()
                        guard parser.i < p.count, p[parser.i] == 0x3A else { throw parser.unexpected() }
                        parser.i += 1
                        parser.skipWhitespace()
                        let start = parser.i
                        let value = try parser.parseValue(depth: 1)
                        members.append((JSONMember(key: key, value: value), start..<parser.i))
                        parser.skipWhitespace()
                        guard parser.i < p.count else { throw parser.unexpected() }
                        if p[parser.i] == 0x2C { parser.i += 1; continue }
                        if p[parser.i] == 0x7D { parser.i += 1; break }
                        throw parser.unexpected()
                    }
                }
                parser.skipWhitespace()
                if parser.i < p.count { throw JSONError(problem: "unexpected character", offset: parser.i) }
                return .success(members)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private struct Parser {
        let p: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var i = 0

        init(p: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.p = p
            self.maxDepth = maxDepth
        }

        mutating func skipWhitespace() {
            while i < p.count {
                switch p[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        func unexpected() -> JSONError {
            i < p.count ? JSONError(problem: "unexpected character", offset: i)
                : JSONError(problem: "unexpected end of input", offset: i)
        }

        mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
            skipWhitespace()
            guard i < p.count else { throw unexpected() }
            switch p[i] {
            case 0x7B: return try parseObject(depth: depth + 1)
            case 0x5B: return try parseArray(depth: depth + 1)
            case 0x22: return .string(try parseString())
            case 0x74: try literal("true"); return .bool(true)
            case 0x66: try literal("false"); return .bool(false)
            case 0x6E: try literal("null"); return .null
            case 0x2D, 0x30...0x39: return .number(try parseNumber())
            default: throw unexpected()
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONError) {
            let w = word.utf8Start
            for k in 0..<word.utf8CodeUnitCount {
                guard i < p.count, p[i] == w[k] else { throw unexpected() }
                i += 1
            }
        }

        mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
            if depth > maxDepth { throw JSONError(problem: "nesting deeper than \(maxDepth) levels", offset: i) }
            i += 1 // [
            var elements: [JSONValue] = []
            skipWhitespace()
            if i < p.count, p[i] == 0x5D { i += 1; return .array(elements) }
            while true {
                elements.append(try parseValue(depth: depth))
                skipWhitespace()
                guard i < p.count else { throw unexpected() }
                if p[i] == 0x2C { i += 1; continue }
                if p[i] == 0x5D { i += 1; return .array(elements) }
                throw unexpected()
            }
        }

        mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
            if depth > maxDepth { throw JSONError(problem: "nesting deeper than \(maxDepth) levels", offset: i) }
            i += 1 // {
            var members: [JSONMember] = []
            skipWhitespace()
            if i < p.count, p[i] == 0x7D { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard i < p.count, p[i] == 0x22 else { throw unexpected() }
                let key = try parseString()
                skipWhitespace()
                guard i < p.count, p[i] == 0x3A else { throw unexpected() }
                i += 1
                let value = try parseValue(depth: depth)
                members.append(JSONMember(key: key, value: value))
                skipWhitespace()
                guard i < p.count else { throw unexpected() }
                if p[i] == 0x2C { i += 1; continue }
                if p[i] == 0x7D { i += 1; return .object(members) }
                throw unexpected()
            }
        }

        /// The length of the well-formed UTF-8 sequence starting at `at` (lead byte >= 0x80), or nil.
        func sequenceLength(at k: Int) -> Int? {
            let b = p[k]
            let n = p.count
            @inline(__always) func cont(_ j: Int) -> Bool { j < n && p[j] & 0xC0 == 0x80 }
            switch b {
            case 0xC2...0xDF:
                return cont(k + 1) ? 2 : nil
            case 0xE0...0xEF:
                guard cont(k + 1), cont(k + 2) else { return nil }
                if b == 0xE0 && p[k + 1] < 0xA0 { return nil }
                if b == 0xED && p[k + 1] >= 0xA0 { return nil }
                return 3
            case 0xF0...0xF4:
                guard cont(k + 1), cont(k + 2), cont(k + 3) else { return nil }
                if b == 0xF0 && p[k + 1] < 0x90 { return nil }
                if b == 0xF4 && p[k + 1] >= 0x90 { return nil }
                return 4
            default:
                return nil
            }
        }

        mutating func parseString() throws(JSONError) -> String {
            i += 1 // opening quote
            let start = i
            // Fast path: no escapes, so the string is a slice of the input.
            while i < p.count {
                let b = p[i]
                if b == 0x22 {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
                    i += 1
                    return s
                }
                if b == 0x5C { break }
                if b < 0x20 { throw JSONError(problem: "control character in string", offset: i) }
                if b < 0x80 {
                    i += 1
                } else {
                    guard let len = sequenceLength(at: i) else { throw JSONError(problem: "invalid UTF-8", offset: i) }
                    i += len
                }
            }
            guard i < p.count else { throw unexpected() }
            // Slow path: escapes.
            var buffer = Array(UnsafeBufferPointer(rebasing: p[start..<i]))
            while i < p.count {
                let b = p[i]
                if b == 0x22 {
                    i += 1
                    return String(decoding: buffer, as: UTF8.self)
                }
                if b < 0x20 { throw JSONError(problem: "control character in string", offset: i) }
                if b == 0x5C {
                    let escapeStart = i
                    i += 1
                    guard i < p.count else { throw unexpected() }
                    switch p[i] {
                    case 0x22: buffer.append(0x22)
                    case 0x5C: buffer.append(0x5C)
                    case 0x2F: buffer.append(0x2F)
                    case 0x62: buffer.append(0x08)
                    case 0x66: buffer.append(0x0C)
                    case 0x6E: buffer.append(0x0A)
                    case 0x72: buffer.append(0x0D)
                    case 0x74: buffer.append(0x09)
                    case 0x75:
                        i += 1
                        let unit = try hex4()
                        var scalar = UInt32(unit)
                        if unit >= 0xD800 && unit <= 0xDBFF {
                            // A high surrogate must be followed by an escaped low surrogate.
                            guard i + 1 < p.count, p[i] == 0x5C, p[i + 1] == 0x75 else {
                                throw JSONError(problem: "unpaired surrogate in \\u escape", offset: escapeStart)
                            }
                            i += 2
                            let low = try hex4()
                            guard low >= 0xDC00 && low <= 0xDFFF else {
                                throw JSONError(problem: "unpaired surrogate in \\u escape", offset: escapeStart)
                            }
                            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        } else if unit >= 0xDC00 && unit <= 0xDFFF {
                            throw JSONError(problem: "unpaired surrogate in \\u escape", offset: escapeStart)
                        }
                        appendUTF8(scalar, to: &buffer)
                        continue // hex4 already advanced past the digits
                    default:
                        throw JSONError(problem: "invalid escape", offset: escapeStart)
                    }
                    i += 1
                    continue
                }
                if b < 0x80 {
                    buffer.append(b)
                    i += 1
                } else {
                    guard let len = sequenceLength(at: i) else { throw JSONError(problem: "invalid UTF-8", offset: i) }
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<(i + len)]))
                    i += len
                }
            }
            throw unexpected()
        }

        mutating func hex4() throws(JSONError) -> UInt16 {
            var v: UInt16 = 0
            for _ in 0..<4 {
                guard i < p.count else { throw unexpected() }
                let b = p[i]
                let d: UInt8
                switch b {
                case 0x30...0x39: d = b - 0x30
                case 0x41...0x46: d = b - 0x41 + 10
                case 0x61...0x66: d = b - 0x61 + 10
                default: throw JSONError(problem: "invalid \\u escape", offset: i)
                }
                v = v << 4 | UInt16(d)
                i += 1
            }
            return v
        }

        func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
            if s < 0x80 {
                out.append(UInt8(s))
            } else if s < 0x800 {
                out.append(UInt8(0xC0 | (s >> 6)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            } else if s < 0x10000 {
                out.append(UInt8(0xE0 | (s >> 12)))
                out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            } else {
                out.append(UInt8(0xF0 | (s >> 18)))
                out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
                out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func parseNumber() throws(JSONError) -> JSONNumber {
            let start = i
            if p[i] == 0x2D { i += 1 }
            @inline(__always) func isDigit(_ k: Int) -> Bool { k < p.count && p[k] &- 0x30 <= 9 }
            guard isDigit(i) else { throw JSONError(problem: "invalid number", offset: i) }
            if p[i] == 0x30 {
                i += 1
                if isDigit(i) { throw JSONError(problem: "invalid number (leading zero)", offset: start) }
            } else {
                while isDigit(i) { i += 1 }
            }
            var isInteger = true
            if i < p.count, p[i] == 0x2E {
                isInteger = false
                i += 1
                guard isDigit(i) else { throw JSONError(problem: "invalid number", offset: i) }
                while isDigit(i) { i += 1 }
            }
            if i < p.count, p[i] == 0x65 || p[i] == 0x45 {
                isInteger = false
                i += 1
                if i < p.count, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
                guard isDigit(i) else { throw JSONError(problem: "invalid number", offset: i) }
                while isDigit(i) { i += 1 }
            }
            let bytes = UnsafeBufferPointer(rebasing: p[start..<i])
            let integerValue = isInteger ? ASCIIDecimal.int64(UnsafeRawBufferPointer(bytes)) : nil
            return JSONNumber(literal: String(decoding: bytes, as: UTF8.self), isInteger: isInteger, integerValue: integerValue)
        }
    }
}
