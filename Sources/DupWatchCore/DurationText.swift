/// Parses the durations of the command line: `4h`, `90m`, `30s`, `1500ms`, `2d`; a bare number
/// is milliseconds. Returns milliseconds, nil for anything else.
public enum DurationText {
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" must win over "s": "1500ms" ends with "s" too, but "1500m" is not a number.
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(number) else { continue }
            let (result, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : result
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }
}
