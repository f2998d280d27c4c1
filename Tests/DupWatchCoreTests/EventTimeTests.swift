import Testing
import TestSupport
@testable import DupWatchCore

private func ts(_ s: String) -> Int64? { EventTime.parse(Array(s.utf8)) }

/// Independent oracle: days since 1970-01-01 by counting whole years and months.
private func naiveLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

private func naiveDays(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
    var days = 0
    for y in 1970..<year { days += naiveLeap(y) ? 366 : 365 }
    let monthDays = [31, naiveLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for m in 1..<month { days += monthDays[m - 1] }
    return Int64(days + day - 1)
}

private func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

@Suite("EventTime: epoch milliseconds")
struct EventTimeEpochTests {
    @Test("digits are epoch milliseconds", arguments: [
        ("0", Int64(0)), ("1", 1), ("007", 7), ("1700000000000", 1_700_000_000_000),
        ("253402300799999", 253_402_300_799_999), ("0000000000000000000000000000001", 1),
    ])
    func valid(text: String, value: Int64) {
        #expect(ts(text) == value)
    }

    @Test("a seconds-looking number is still milliseconds")
    func secondsAreMilliseconds() {
        #expect(ts("1700000000") == 1_700_000_000)
        #expect(EventTime.iso8601(milliseconds: ts("1700000000")!) == "1970-01-20T16:13:20.000Z")
    }

    @Test("anything but plain digits in range is rejected",
          arguments: ["", "-1", "+1", "1.5", "1e3", " 1", "1 ", "253402300800000", "999999999999999999999999999999",
                      "18446744073709551616", "0x10", "1_000"])
    func invalid(text: String) {
        #expect(ts(text) == nil)
    }
}

@Suite("EventTime: ISO-8601")
struct EventTimeISOTests {
    @Test("known instants", arguments: [
        ("2026-11-23T10:00:00Z", Int64(1_795_428_000_000)),
        ("2026-11-23T10:00:00+01:00", 1_795_424_400_000),
        ("2026-11-23T10:00:00+0100", 1_795_424_400_000),
        ("2026-11-23T10:00:00-0530", 1_795_447_800_000),
        ("2026-11-23T10:00:00-05:30", 1_795_447_800_000),
        ("2026-11-23T10:00:00+00:00", 1_795_428_000_000),
        ("2026-11-23T10:00:00-00:00", 1_795_428_000_000),
        ("2024-02-29T12:34:56.789Z", 1_709_210_096_789),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("2100-03-01T00:00:00Z", 4_107_542_400_000),
        ("2100-02-28T23:59:59Z", 4_107_542_399_000),
        ("2023-12-31T23:59:59.999Z", 1_704_067_199_999),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:00:00-01:00", 0),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ])
    func known(text: String, value: Int64) {
        #expect(ts(text) == value)
    }

    @Test("fractions of 1-9 digits are truncated to milliseconds", arguments: [
        (".5", Int64(500)), (".05", 50), (".12", 120), (".123", 123), (".1239", 123), (".999999999", 999),
        (".123456789", 123), (".000", 0),
    ])
    func fractions(fraction: String, millis: Int64) {
        #expect(ts("2026-11-23T10:00:00\(fraction)Z") == 1_795_428_000_000 + millis)
        #expect(ts("2026-11-23T10:00:00\(fraction)+01:00") == 1_795_424_400_000 + millis)
    }

    @Test("invalid ISO forms are rejected", arguments: [
        "2026-02-30T00:00:00Z",      // no such day
        "2026-02-29T00:00:00Z",      // not a leap year
        "2100-02-29T00:00:00Z",      // century, not a leap year
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-32T00:00:00Z",
        "2026-11-23T24:00:00Z",      // hour 24
        "2026-11-23T10:60:00Z", "2026-11-23T10:00:60Z",
        "2026-11-23T10:00:00",       // no zone
        "2026-11-23T10:00:00z",      // lowercase z
        "2026-11-23t10:00:00Z",      // lowercase t
        "2026-11-23 10:00:00Z",      // space separator
        "2026-11-23T10:00Z",         // no seconds
        "2026-11-23",                // date only
        "2026-11-23T10:00:00.Z",     // empty fraction
        "2026-11-23T10:00:00.1234567890Z", // 10 fraction digits
        "2026-11-23T10:00:00,5Z",    // comma fraction
        "2026-11-23T10:00:00+24:00", "2026-11-23T10:00:00+01:60", "2026-11-23T10:00:00+1:00",
        "2026-11-23T10:00:00+01", "2026-11-23T10:00:00+01:0", "2026-11-23T10:00:00+01-00",
        "2026-11-23T10:00:00+01:00:00", "2026-11-23T10:00:00Z ", " 2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00ZZ", "2026-1-23T10:00:00Z", "26-11-23T10:00:00Z", "+2026-11-23T10:00:00Z",
        "2026/11/23T10:00:00Z", "２026-11-23T10:00:00Z",
        "1969-12-31T23:59:59.999Z",  // before the epoch
        "1970-01-01T00:30:00+01:00", // before the epoch once the zone is applied
        "9999-12-31T23:59:59.999-00:01", // after the maximum once the zone is applied
    ])
    func invalid(text: String) {
        #expect(ts(text) == nil)
    }

    @Test("every Feb 28/29, Mar 1 and Dec 31 from 1970 to 2500 matches a naive day count")
    func calendarAgainstOracle() {
        for year in 1970...2500 {
            var dates = [(2, 28), (3, 1), (12, 31), (1, 1)]
            if naiveLeap(year) { dates.append((2, 29)) }
            for (month, day) in dates {
                let text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T01:02:03.004Z"
                let expected = naiveDays(year, month, day) * 86_400_000 + 3_723_004
                #expect(ts(text) == expected, "\(text)")
                #expect(EventTime.iso8601(milliseconds: expected) == text)
                #expect(EventTime.isoDate(milliseconds: expected) == String(text.prefix(10)))
            }
            if !naiveLeap(year) {
                #expect(ts("\(pad(year, 4))-02-29T00:00:00Z") == nil, "\(year)")
            }
        }
    }

    @Test("the days-from-civil and civil-from-days helpers are inverse over 20,000 days around leap years")
    func civilRoundTrip() {
        var expectedDay: Int64 = EventTime.daysFromCivil(year: 1999, month: 1, day: 1)
        var (y, m, d): (Int64, Int64, Int64) = (1999, 1, 1)
        for _ in 0..<20_000 {
            #expect(EventTime.daysFromCivil(year: y, month: m, day: d) == expectedDay)
            let back = EventTime.civilFromDays(expectedDay)
            #expect(back.year == y && back.month == m && back.day == d)
            // Advance one civil day by hand.
            d += 1
            if d > Int64(EventTime.daysInMonth(year: Int(y), month: Int(m))) { d = 1; m += 1 }
            if m > 12 { m = 1; y += 1 }
            expectedDay += 1
        }
        #expect(EventTime.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
    }
}

@Suite("EventTime: formatting")
struct EventTimeFormattingTests {
    @Test("iso8601 renders UTC with milliseconds")
    func iso8601() {
        #expect(EventTime.iso8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(EventTime.iso8601(milliseconds: 1_795_428_000_000) == "2026-11-23T10:00:00.000Z")
        #expect(EventTime.iso8601(milliseconds: 1_709_210_096_789) == "2024-02-29T12:34:56.789Z")
        #expect(EventTime.iso8601(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(EventTime.iso8601(milliseconds: 4_107_542_400_000) == "2100-03-01T00:00:00.000Z")
        #expect(EventTime.iso8601(milliseconds: 1_704_067_199_999) == "2023-12-31T23:59:59.999Z")
        #expect(EventTime.iso8601(milliseconds: EventTime.maxMilliseconds) == "9999-12-31T23:59:59.999Z")
        #expect(EventTime.iso8601(milliseconds: 7) == "1970-01-01T00:00:00.007Z")
    }

    @Test("isoDate renders the UTC calendar date")
    func isoDate() {
        #expect(EventTime.isoDate(milliseconds: 0) == "1970-01-01")
        #expect(EventTime.isoDate(milliseconds: 1_795_428_000_000) == "2026-11-23")
        #expect(EventTime.isoDate(milliseconds: 951_868_799_999) == "2000-02-29")
        #expect(EventTime.isoDate(milliseconds: 951_868_800_000) == "2000-03-01")
    }

    @Test("formatting is total: negative and huge values do not crash")
    func total() {
        #expect(EventTime.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(EventTime.isoDate(milliseconds: -86_400_000) == "1969-12-31")
        #expect(EventTime.iso8601(milliseconds: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
        #expect(!EventTime.iso8601(milliseconds: .max).isEmpty)
        #expect(!EventTime.iso8601(milliseconds: .min).isEmpty)
    }

    @Test("parse(iso8601(ms)) == ms for 5,000 seeded random instants and the range edges")
    func roundTrip() {
        var rng = SeededRandom(seed: 0x5EED_71AE)
        var samples: [Int64] = [0, 1, 999, 1000, 86_399_999, 86_400_000, EventTime.maxMilliseconds,
                                EventTime.maxMilliseconds - 1, 951_782_399_999, 951_782_400_000]
        for _ in 0..<5_000 { samples.append(Int64(rng.next() % UInt64(EventTime.maxMilliseconds + 1))) }
        for ms in samples {
            let text = EventTime.iso8601(milliseconds: ms)
            #expect(ts(text) == ms, "\(text)")
            #expect(text.hasPrefix(EventTime.isoDate(milliseconds: ms)))
        }
    }
}
