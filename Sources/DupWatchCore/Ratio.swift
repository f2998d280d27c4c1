/// A share of a whole, or nil when the whole is zero: reports print `n/a` and JSON `null`,
/// never NaN. The one such division of the analytics (`StatsReport`) and the evaluation.
public enum Ratio {
    public static func of<Count: BinaryInteger>(_ part: Count, _ whole: Count) -> Double? {
        whole > 0 ? Double(part) / Double(whole) : nil
    }
}
