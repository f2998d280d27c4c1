/// A small deterministic generator (SplitMix64), so that every randomized test reproduces from
/// its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    public mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    public mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// Up to `max` completely random bytes (mostly invalid UTF-8).
    public mutating func bytes(max: Int) -> [UInt8] {
        (0..<int(max + 1)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
