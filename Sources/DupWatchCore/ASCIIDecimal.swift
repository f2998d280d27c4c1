/// The one reader of decimal integers: event fields (`qty`, epoch-ms `ts`), JSON numbers,
/// stream entry ids, stored state and command-line durations all go through it, so "what is
/// an integer" has one answer.
///
/// Accepted: an optional `-` and 1 or more ASCII digits (leading zeros allowed); no `+`,
/// spaces, decimal point or exponent. Digit strings of any length are read without a crash:
/// past the type's range they are `.outOfRange`.
public enum ASCIIDecimal {
    public enum Reading: Sendable, Equatable {
        case value(Int64)
        /// A well-formed integer that does not fit in Int64.
        case outOfRange
        /// Not an integer at all (empty, a stray sign, any other character).
        case notAnInteger
    }

    public static func read(_ bytes: UnsafeRawBufferPointer) -> Reading {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = UnsafeRawBufferPointer(rebasing: bytes[(negative ? 1 : 0)...])
        switch magnitude(digits) {
        case .none:
            return .notAnInteger
        case .some(.none):
            return .outOfRange
        case .some(.some(let magnitude)):
            if negative {
                return magnitude <= UInt64(Int64.max) + 1 ? .value(Int64(truncatingIfNeeded: 0 &- magnitude)) : .outOfRange
            }
            return magnitude <= UInt64(Int64.max) ? .value(Int64(magnitude)) : .outOfRange
        }
    }

    /// Digits only (no sign) as UInt64: nil when not all digits or empty; `.some(nil)` when the
    /// digits overflow UInt64.
    public static func magnitude(_ digits: UnsafeRawBufferPointer) -> UInt64?? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        var overflow = false
        for byte in digits {
            let digit = byte &- 0x30
            guard digit <= 9 else { return nil }
            if !overflow {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { overflow = true } else { value = next }
            }
        }
        return .some(overflow ? nil : value)
    }

    /// The value, or nil for anything that is not an integer within Int64.
    public static func int64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        if case .value(let value) = read(bytes) { return value }
        return nil
    }

    public static func read(_ bytes: [UInt8]) -> Reading {
        bytes.withUnsafeBytes { read($0) }
    }

    public static func int64(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { int64($0) }
    }

    public static func int64(_ text: Substring) -> Int64? {
        var text = String(text)
        return text.withUTF8 { int64(UnsafeRawBufferPointer($0)) }
    }
}
