/// Durations as DupWatch reads and writes them: on the command line (`4h`, `90m`, `30s`,
/// `1500ms`, `2d`, or a bare number of milliseconds) and as the plain numbers that Redis
/// commands, event times and reports need. The one place a `Duration` becomes a number.
extension Duration {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `4h`, `90m`, `30s`, `1500ms`, `2d`, or a bare number of milliseconds; nil for
    /// anything else (negative, fractional, unknown unit, overflow).
    public init?(text: String) {
        for (suffix, factor) in Self.units where text.hasSuffix(suffix) {
            // "ms" must win over "s": "1500ms" ends with "s" too, but "1500m" is not a number.
            guard let value = ASCIIDecimal.int64(text.dropLast(suffix.count)), value >= 0 else { continue }
            let (result, overflow) = value.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            self = .milliseconds(result)
            return
        }
        guard let value = ASCIIDecimal.int64(Substring(text)), value >= 0 else { return nil }
        self = .milliseconds(value)
    }

    /// The shortest exact form `init(text:)` reads back: `4h`, `90m`, `1500ms`.
    public var text: String {
        let ms = inMilliseconds
        for (suffix, factor) in Self.units.reversed() where ms != 0 && ms % factor == 0 {
            return "\(ms / factor)\(suffix)"
        }
        return "\(ms)ms"
    }

    /// Whole milliseconds, rounded toward zero (what PEXPIRE, event-time arithmetic and the
    /// socket timeouts take).
    public var inMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    public var inMicroseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
    public var inNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
