/// How messages (dead-letter reasons, errors, logs) show a value: in double quotes, with
/// quotes, backslashes and control characters escaped as in a JSON string, so that a reason
/// stays on one line and says exactly which bytes were wrong.
public enum Quoted {
    /// How many bytes of a value `bytes(_:)` quotes before cutting it.
    public static let limit = 64

    public static func string(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// Raw bytes quoted: invalid UTF-8 replaced by U+FFFD, cut after `limit` bytes (at a
    /// character boundary) with a trailing `…` inside the quotes.
    public static func bytes(_ bytes: [UInt8]) -> String {
        if bytes.count <= limit {
            return string(String(decoding: bytes, as: UTF8.self))
        }
        var end = limit
        // Do not cut a multi-byte sequence in half (back up over at most 3 continuation bytes).
        var steps = 0
        while end > 0, steps < 3, bytes[end] & 0xC0 == 0x80 {
            end -= 1
            steps += 1
        }
        return string(String(decoding: bytes[0..<end], as: UTF8.self) + "…")
    }
}
