/// The time range and granularity of a report (`dupwatch report`, `GET /v1/stats`), from the
/// texts a person types: a date (`2026-12-01`, the start of that UTC day), a time (ISO-8601
/// with a zone, or epoch ms), or a span back from now (`7d`, `36h`).
public struct StatsRange: Sendable, Equatable {
    public var since: Int64
    public var until: Int64
    public var period: StatsPeriod

    /// The default span: the last 7 days.
    public static let defaultSpan: Int64 = 7 * 86_400_000
    /// Ranges up to this long are shown by hour unless told otherwise.
    public static let hourlyUpTo: Int64 = 2 * 86_400_000
    /// Most hours one report reads per partition (a day is read as its 24 hours): about 416
    /// days, more than the default retention of 90.
    public static let maxHours: Int64 = 10_000

    public init(since: Int64, until: Int64, period: StatsPeriod) {
        self.since = since
        self.until = until
        self.period = period
    }

    /// Nil texts take the defaults: until now, since 7 days before `until`, by hour up to 2
    /// days and by day beyond. Throws a `Rejection` naming the bad part.
    public static func parse(since: String?, until: String?, period: String?, now: Int64) throws(Rejection) -> StatsRange {
        var end = now
        if let until { end = try bound(until, name: "until", now: now) }
        var start = end - defaultSpan
        if let since { start = try bound(since, name: "since", now: now) }
        guard start < end else {
            throw Rejection("bad_range", "since (\(EventTime.iso8601(milliseconds: start))) must be before until (\(EventTime.iso8601(milliseconds: end)))")
        }
        let granularity: StatsPeriod
        if let period {
            guard let parsed = StatsPeriod(rawValue: period) else {
                throw Rejection("bad_period", "period \(Quoted.string(period)) is not hour or day")
            }
            granularity = parsed
        } else {
            granularity = end - start <= hourlyUpTo ? .hour : .day
        }
        let first = granularity.start(of: granularity.number(of: start))
        let last = granularity.start(of: granularity.number(of: end - 1) + 1)
        let hours = (last - first) / StatsPeriod.hour.milliseconds
        guard hours <= maxHours else {
            throw Rejection("bad_range", "the range holds \(hours) hours; at most \(maxHours) (about 416 days) are read at once: shorten it")
        }
        return StatsRange(since: start, until: end, period: granularity)
    }

    /// A date, a time, or a span back from `now`.
    static func bound(_ text: String, name: String, now: Int64) throws(Rejection) -> Int64 {
        if let time = EventTime.parse(Array(text.utf8)) { return time }
        if text.utf8.count == 10, let day = EventTime.parse(Array((text + "T00:00:00Z").utf8)) { return day }
        if text.last?.isLetter == true, let span = Duration(text: text) { return now - span.inMilliseconds }
        throw Rejection("bad_\(name)", "\(name) \(Quoted.string(text)) is not a date (2026-12-01), a time (2026-12-01T10:00:00Z or epoch ms) or a span back from now (7d, 36h)")
    }
}
