/// Event times of the contract: epoch milliseconds or ISO-8601 with a zone, both normalised to
/// epoch milliseconds (UTC). Calendar math is done by hand (proleptic Gregorian, days-from-civil),
/// so nothing here touches Foundation.
public enum EventTime {
    /// The largest accepted time: 9999-12-31T23:59:59.999Z.
    public static let maxMilliseconds: Int64 = 253_402_300_799_999

    /// Parses a `ts` value.
    ///
    /// Accepted forms:
    /// - epoch milliseconds: ASCII digits only (leading zeros allowed), at most `maxMilliseconds`.
    ///   A value that looks like epoch *seconds* is still read as milliseconds.
    /// - ISO-8601 with a zone, exactly `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM|±HHMM)`; uppercase `T`
    ///   and `Z` only; the fraction is truncated to milliseconds; seconds 00-59 (no leap second).
    ///
    /// Returns nil for anything else, including ISO times that fall before 1970-01-01T00:00:00Z
    /// or after `maxMilliseconds` once the zone is applied (the same range epoch ms can express).
    public static func parse(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    static func parse(_ p: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = p.count
        if n == 0 { return nil }
        // Epoch milliseconds: digits only.
        switch ASCIIDecimal.magnitude(UnsafeRawBufferPointer(p)) {
        case .some(.some(let value)): return value <= UInt64(maxMilliseconds) ? Int64(value) : nil
        case .some(.none): return nil
        case .none: return parseISO(p)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`.
    private static func parseISO(_ p: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = p.count
        // Shortest: "2026-11-23T10:00:00Z" = 20 bytes.
        guard n >= 20 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int? {
            let d = p[i] &- 0x30
            return d <= 9 ? Int(d) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }
        guard let y1 = two(0), let y2 = two(2), p[4] == 0x2D,
              let month = two(5), p[7] == 0x2D,
              let day = two(8), p[10] == 0x54, // "T"
              let hour = two(11), p[13] == 0x3A,
              let minute = two(14), p[16] == 0x3A,
              let second = two(17)
        else { return nil }
        let year = y1 * 100 + y2
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }

        var i = 19
        var millis = 0
        if p[i] == 0x2E { // "."
            i += 1
            let start = i
            while i < n, let d = digit(i) {
                if i - start < 3 { millis = millis * 10 + d }
                i += 1
            }
            let count = i - start
            guard count >= 1, count <= 9 else { return nil }
            if count == 1 { millis *= 100 } else if count == 2 { millis *= 10 }
        }
        guard i < n else { return nil }

        var offsetMinutes = 0
        switch p[i] {
        case 0x5A: // "Z"
            guard i + 1 == n else { return nil }
        case 0x2B, 0x2D: // "+" "-"
            let sign = p[i] == 0x2D ? -1 : 1
            let rest = n - i - 1
            let zh: Int?
            let zm: Int?
            if rest == 5 {
                guard p[i + 3] == 0x3A else { return nil }
                zh = two(i + 1)
                zm = two(i + 4)
            } else if rest == 4 {
                zh = two(i + 1)
                zm = two(i + 3)
            } else {
                return nil
            }
            guard let zh, let zm, zh <= 23, zm <= 59 else { return nil }
            offsetMinutes = sign * (zh * 60 + zm)
        default:
            return nil
        }

        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let localSeconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let ms = (localSeconds - Int64(offsetMinutes) * 60) * 1000 + Int64(millis)
        guard ms >= 0, ms <= maxMilliseconds else { return nil }
        return ms
    }

    /// `2026-11-23T10:00:00.000Z` (UTC, always milliseconds). Never fails: years outside
    /// 0000-9999 are printed with as many digits as needed (and a `-` sign when negative).
    public static func iso8601(milliseconds: Int64) -> String {
        let (days, msOfDay) = floorDivMod(milliseconds, 86_400_000)
        let (year, month, day) = civilFromDays(days)
        let secondsOfDay = Int(msOfDay / 1000)
        let ms = Int(msOfDay % 1000)
        var out: [UInt8] = []
        out.reserveCapacity(26)
        appendYear(year, to: &out)
        out.append(0x2D); append2(Int(month), to: &out)
        out.append(0x2D); append2(Int(day), to: &out)
        out.append(0x54)
        append2(secondsOfDay / 3600, to: &out)
        out.append(0x3A); append2(secondsOfDay / 60 % 60, to: &out)
        out.append(0x3A); append2(secondsOfDay % 60, to: &out)
        out.append(0x2E)
        out.append(UInt8(0x30 + ms / 100)); out.append(UInt8(0x30 + ms / 10 % 10)); out.append(UInt8(0x30 + ms % 10))
        out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// `2026-11-23` (the UTC calendar date).
    public static func isoDate(milliseconds: Int64) -> String {
        let (days, _) = floorDivMod(milliseconds, 86_400_000)
        let (year, month, day) = civilFromDays(days)
        var out: [UInt8] = []
        out.reserveCapacity(12)
        appendYear(year, to: &out)
        out.append(0x2D); append2(Int(month), to: &out)
        out.append(0x2D); append2(Int(day), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Calendar math (Howard Hinnant's algorithms, proleptic Gregorian)

    static func isLeapYear(_ y: Int) -> Bool {
        y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func append2(_ v: Int, to out: inout [UInt8]) {
        out.append(UInt8(0x30 + v / 10))
        out.append(UInt8(0x30 + v % 10))
    }

    private static func appendYear(_ year: Int64, to out: inout [UInt8]) {
        if year >= 0, year <= 9999 {
            let y = Int(year)
            append2(y / 100, to: &out)
            append2(y % 100, to: &out)
        } else {
            // Only reachable for times far outside the accepted range; keep it total.
            out.append(contentsOf: Array(String(year).utf8))
        }
    }
}
