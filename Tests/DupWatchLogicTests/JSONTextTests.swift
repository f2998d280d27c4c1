import DupWatchCore
@testable import DupWatchStore
import TestSupport
import Testing

@Suite("JSONText: the one JSON writer")
struct JSONTextTests {
    /// The direct writer of flat objects must write exactly what JSONEncoder writes.
    @Test func theFlatWriterWritesWhatTheEncoderWrites() {
        var random = SeededRandom(seed: 17)
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}",
                                  "\u{7F}", "é", "×", "€", "\u{2028}", "😀", "{", "}", "-", "12"]
        for _ in 0..<2_000 {
            var fields: [(String, String)] = []
            for name in ["alert_id", "customer_id", "sku", "title", "quantity", "message"].shuffled(using: &random).prefix(Int.random(in: 1...6, using: &random)) {
                let length = Int.random(in: 0...12, using: &random)
                let value = (0..<length).map { _ in alphabet.randomElement(using: &random)! }.joined()
                fields.append((name, value))
            }
            if Bool.random(using: &random) { fields.append(("quantity", String(Int.random(in: -5...1_000_000, using: &random)))) }
            if Bool.random(using: &random), let first = fields.first { fields.append((first.0, "again")) }
            let expected = JSONText.encode(JSONText.alertObject(fields))
            #expect(JSONText.alert(fields) == expected, "\(fields)")
        }
    }
}
