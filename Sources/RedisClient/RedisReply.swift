/// One RESP2 reply, copied out of hiredis into plain Swift values.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])
}

extension RedisReply {
    /// Bulk or status reply as text (invalid UTF-8 is replaced, never fails).
    public var string: String {
        get throws {
            switch self {
            case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
            case .status(let s): return s
            default: throw unexpected("a string")
            }
        }
    }

    /// Integer reply, or a bulk reply holding a decimal integer (e.g. HGET of a counter).
    public var int: Int64 {
        get throws {
            switch self {
            case .integer(let i): return i
            case .bulk(let bytes):
                guard let i = Int64(String(decoding: bytes, as: UTF8.self)) else { throw unexpected("an integer") }
                return i
            default: throw unexpected("an integer")
            }
        }
    }

    public var array: [RedisReply] {
        get throws {
            if case .array(let elements) = self { return elements }
            throw unexpected("an array")
        }
    }

    /// Bulk reply bytes (a status reply gives its UTF-8 bytes).
    public var bytes: [UInt8] {
        get throws {
            switch self {
            case .bulk(let bytes): return bytes
            case .status(let s): return Array(s.utf8)
            default: throw unexpected("a bulk string")
            }
        }
    }

    /// nil for `.null`, otherwise like `string`.
    public var optionalString: String? {
        get throws {
            if case .null = self { return nil }
            return try string
        }
    }

    /// A flat `[name, value, name, value, ...]` array (XINFO GROUPS/CONSUMERS entries, HGETALL)
    /// as a map; a later duplicate name wins.
    public var fieldMap: [String: RedisReply] {
        get throws {
            let items = try array
            var map: [String: RedisReply] = [:]
            map.reserveCapacity(items.count / 2)
            var index = 0
            while index + 1 < items.count {
                map[try items[index].string] = items[index + 1]
                index += 2
            }
            return map
        }
    }

    /// `fieldMap` with every value read as a string (a hash's HGETALL).
    public var stringMap: [String: String] {
        get throws { try fieldMap.mapValues { try $0.string } }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Returns `self` unless it is an error reply, which is thrown as a `RedisError` with `.server(code:)`.
    @discardableResult
    public func throwIfError() throws -> RedisReply {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }

    /// Error replies are rethrown as server errors (more useful than "expected X, got error");
    /// any other wrong shape is a protocol violation.
    func unexpected(_ expected: String) -> RedisError {
        if case .error(let message) = self { return RedisError.server(message) }
        return RedisError(kind: .protocolViolation, message: "expected \(expected) reply, got \(self)")
    }
}

extension RedisReply: CustomStringConvertible {
    /// Short, human-readable rendering for error messages (long bulks are truncated).
    public var description: String {
        switch self {
        case .status(let s): return "status \(s)"
        case .error(let s): return "error \(s)"
        case .integer(let i): return "integer \(i)"
        case .null: return "null"
        case .bulk(let bytes):
            let shown = String(decoding: bytes.prefix(64), as: UTF8.self)
            return bytes.count > 64 ? "bulk \"\(shown)…\" (\(bytes.count) bytes)" : "bulk \"\(shown)\""
        case .array(let elements):
            let shown = elements.prefix(4).map(\.description).joined(separator: ", ")
            return elements.count > 4 ? "array(\(elements.count)) [\(shown), …]" : "array(\(elements.count)) [\(shown)]"
        }
    }
}
