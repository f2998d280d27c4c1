/// The UTC hours and days figures are kept by: numbered from the epoch, named by their ISO
/// text (`2026-12-07T14`, `2026-12-07`) in keys and reports.
public enum StatsPeriod: String, Sendable, Hashable, CaseIterable {
    case hour, day

    public var milliseconds: Int64 {
        switch self {
        case .hour: 3_600_000
        case .day: 86_400_000
        }
    }

    /// The period holding `time` (epoch ms), as its number.
    public func number(of time: Int64) -> Int64 {
        let (quotient, remainder) = time.quotientAndRemainder(dividingBy: milliseconds)
        return remainder < 0 ? quotient - 1 : quotient
    }

    public func start(of number: Int64) -> Int64 { number * milliseconds }

    /// `2026-12-07T14` or `2026-12-07`.
    public func name(of number: Int64) -> String {
        switch self {
        case .hour: String(EventTime.iso8601(milliseconds: start(of: number)).prefix(13))
        case .day: EventTime.isoDate(milliseconds: start(of: number))
        }
    }
}
