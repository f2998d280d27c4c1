/// Exponential backoff with full jitter, capped: 100 ms, 200 ms, 400 ms ... up to `capMs`.
public struct Backoff: Sendable {
    public let baseMs: Int
    public let capMs: Int
    public private(set) var attempt = 0

    public init(baseMs: Int = 100, capMs: Int) {
        self.baseMs = baseMs
        self.capMs = capMs
    }

    /// The next delay; jitter keeps a fleet of workers from reconnecting in lockstep.
    public mutating func nextDelayMs<G: RandomNumberGenerator>(using generator: inout G) -> Int {
        let exponent = min(attempt, 20)
        attempt += 1
        let ceiling = min(capMs, baseMs << exponent)
        return ceiling / 2 + Int.random(in: 0...max(0, ceiling / 2), using: &generator)
    }

    public mutating func nextDelayMs() -> Int {
        var generator = SystemRandomNumberGenerator()
        return nextDelayMs(using: &generator)
    }

    public mutating func reset() { attempt = 0 }
}
