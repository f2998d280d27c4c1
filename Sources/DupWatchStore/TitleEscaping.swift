/// A title inside an order hash's `items` text: backslash, tab, newline and carriage return
/// are written as `\\`, `\t`, `\n`, `\r`, so that tabs and newlines stay the line and field
/// separators. Byte by byte: these are ASCII, so they never occur inside a multi-byte UTF-8
/// sequence. The state loader decodes every stored order line through here: Foundation's
/// string search for the backslash, on a String made for it, was a quarter of an import's CPU.
enum TitleEscaping {
    /// Appends `title`'s bytes to `out`, escaped; the runs between escapes are copied whole.
    static func append(_ title: String, to out: inout [UInt8]) {
        var title = title
        title.withUTF8 { bytes in
            var run = 0
            for index in bytes.indices {
                let escaped: UInt8
                switch bytes[index] {
                case 0x5C: escaped = 0x5C
                case 0x09: escaped = UInt8(ascii: "t")
                case 0x0A: escaped = UInt8(ascii: "n")
                case 0x0D: escaped = UInt8(ascii: "r")
                default: continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                out.append(0x5C)
                out.append(escaped)
                run = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
    }

    /// The title written as `bytes`; nil for an escape DupWatch does not write (`\q`, or a
    /// backslash at the end).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let first = bytes.firstIndex(of: 0x5C) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        out.append(contentsOf: bytes[..<first])
        var index = first
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard byte == 0x5C else {
                out.append(byte)
                continue
            }
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case 0x5C: out.append(0x5C)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            default: return nil
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
