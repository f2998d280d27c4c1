import Foundation
import Testing
import TestSupport
@testable import DupWatchCore

private func json(_ s: String) -> Result<JSONValue, JSONError> {
    do { return .success(try JSONReader.parse(Array(s.utf8))) } catch { return .failure(error) }
}

private func jsonBytes(_ b: [UInt8]) -> Result<JSONValue, JSONError> {
    do { return .success(try JSONReader.parse(b)) } catch { return .failure(error) }
}

private func value(_ s: String) -> JSONValue? { try? json(s).get() }

private func error(_ s: String) -> JSONError? {
    if case .failure(let e) = json(s) { return e }
    return nil
}

private func int(_ v: Int64, _ literal: String? = nil) -> JSONValue {
    .number(JSONNumber(literal: literal ?? String(v), isInteger: true, integerValue: v))
}

@Suite("JSON reader")
struct JSONReaderTests {
    @Test("scalars")
    func scalars() {
        #expect(value("true") == .bool(true))
        #expect(value("false") == .bool(false))
        #expect(value("null") == .null)
        #expect(value(#""hi""#) == .string("hi"))
        #expect(value("42") == int(42))
        #expect(value(" \t\r\n 42 \n") == int(42))
    }

    @Test("arrays and objects keep order and duplicate keys")
    func containers() {
        #expect(value("[]") == .array([]))
        #expect(value("{}") == .object([]))
        #expect(value(#"[1,[2,{"a":null}]]"#) == .array([int(1), .array([int(2), .object([JSONMember(key: "a", value: .null)])])]))
        #expect(value(#"{"b":1,"a":2,"b":3}"#) == .object([
            JSONMember(key: "b", value: int(1)), JSONMember(key: "a", value: int(2)), JSONMember(key: "b", value: int(3)),
        ]))
    }

    @Test("string escapes", arguments: [
        (#""\"""#, "\""), (#""\\""#, "\\"), (#""\/""#, "/"), (#""\b""#, "\u{08}"), (#""\f""#, "\u{0C}"),
        (#""\n""#, "\n"), (#""\r""#, "\r"), (#""\t""#, "\t"), (#""\u0041""#, "A"), (#""\u00e9""#, "é"),
        (#""\u00E9""#, "é"), (#""\u20AC""#, "€"), (#""\u0000""#, "\u{00}"), (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00x""#, "😀x"), (#""\udbff\udfff""#, "\u{10FFFF}"), (#""\ud800\udc00""#, "\u{10000}"), (#""a\nb\u0063""#, "a\nbc"), (#""é€😀""#, "é€😀"),
    ])
    func escapes(text: String, expected: String) {
        #expect(value(text) == .string(expected))
    }

    @Test("bad escapes and surrogates", arguments: [
        #""\x""#, #""\u12""#, #""\u12G4""#, #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ud83dx""#,
        #""\ud83d\n""#, #""\U0041""#, #""\"#,
    ])
    func badEscapes(text: String) {
        #expect(error(text) != nil)
    }

    @Test("raw control characters and invalid UTF-8 inside strings are rejected with their offset")
    func rawBytes() {
        #expect(error("\"a\nb\"") == JSONError(problem: "control character in string", offset: 2))
        #expect(error("\"a\u{01}\"") == JSONError(problem: "control character in string", offset: 2))
        guard case .failure(let e) = jsonBytes([0x22, 0x61, 0xC3, 0x28, 0x22]) else {
            Issue.record("invalid UTF-8 accepted"); return
        }
        #expect(e == JSONError(problem: "invalid UTF-8", offset: 2))
        // Also on the slow (escaped) path, and for surrogates encoded directly.
        #expect((try? jsonBytes([0x22, 0x5C, 0x6E, 0xFF, 0x22]).get()) == nil)
        #expect((try? jsonBytes([0x22, 0xED, 0xA0, 0x80, 0x22]).get()) == nil)
        #expect((try? jsonBytes([0x22, 0xC0, 0xAF, 0x22]).get()) == nil)
        // Overlong 3- and 4-byte forms, values above U+10FFFF, truncated sequences.
        for bad: [UInt8] in [[0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
                             [0xE2, 0x82], [0x80], [0xBF]] {
            #expect((try? jsonBytes([0x22] + bad + [0x22]).get()) == nil, "\(bad)")
        }
        // The shortest and longest well-formed sequences of each length are accepted.
        for good: [UInt8] in [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
                              [0xF4, 0x8F, 0xBF, 0xBF], [0xED, 0x9F, 0xBF]] {
            #expect((try? jsonBytes([0x22] + good + [0x22]).get()) == .string(String(decoding: good, as: UTF8.self)), "\(good)")
        }
    }

    @Test("numbers: integers are told apart from fractions and exponents")
    func numbers() throws {
        #expect(value("0") == int(0))
        #expect(value("-0") == int(0, "-0"))
        #expect(value("-17") == int(-17))
        #expect(value("9223372036854775807") == int(.max))
        #expect(value("-9223372036854775808") == int(.min))
        #expect(value("9223372036854775808") == .number(JSONNumber(literal: "9223372036854775808", isInteger: true, integerValue: nil)))
        #expect(value("123456789012345678901234567890")
            == .number(JSONNumber(literal: "123456789012345678901234567890", isInteger: true, integerValue: nil)))
        for fractional in ["1.0", "1e2", "1E2", "1e+2", "1e-2", "-0.5", "1.5e3", "0.0"] {
            guard case .number(let n)? = value(fractional) else {
                Issue.record("\(fractional) did not parse"); continue
            }
            #expect(!n.isInteger, "\(fractional)")
            #expect(n.integerValue == nil)
            #expect(n.literal == fractional)
        }
    }

    @Test("malformed numbers", arguments: ["01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "1.e3", "0x10", "1_0", "Infinity", "NaN"])
    func badNumbers(text: String) {
        #expect(error(text) != nil)
    }

    @Test("malformed documents", arguments: [
        "", " ", "[", "]", "[1,]", "[,1]", "[1 2]", "{", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{a:1}"#, "{1:2}",
        "tru", "nul", "True", "NULL", "[1] x", "1 2", "'a'", #""abc"#, "[true false]", "{\"a\":1 \"b\":2}",
    ])
    func malformed(text: String) {
        #expect(error(text) != nil)
    }

    @Test("error offsets are 0-based byte offsets")
    func offsets() {
        #expect(error("[1,}") == JSONError(problem: "unexpected character", offset: 3))
        #expect(error("[1] x") == JSONError(problem: "unexpected character", offset: 4))
        #expect(error("") == JSONError(problem: "unexpected end of input", offset: 0))
        #expect(error("[1,") == JSONError(problem: "unexpected end of input", offset: 3))
        #expect(error(#""\q""#) == JSONError(problem: "invalid escape", offset: 1))
        #expect(error("[1,}")?.description == "unexpected character at byte 3")
    }

    @Test("nesting is limited and deep input does not overflow the stack")
    func depth() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(value(ok) != nil)
        let tooDeep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(error(tooDeep) == JSONError(problem: "nesting deeper than 32 levels", offset: 32))
        let objects = String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)
        #expect(error(objects)?.problem == "nesting deeper than 32 levels")
        let hostile = String(repeating: "[", count: 200_000)
        #expect(error(hostile) != nil)
        #expect((try? JSONReader.parse(Array("[[1]]".utf8), maxDepth: 1)) == nil)
        #expect((try? JSONReader.parse(Array("[[1]]".utf8), maxDepth: 2)) != nil)
    }
}

@Suite("Quoted values in messages and JSON objects of entry fields")
struct JSONWriterTests {
    private func encoded(_ object: FieldsObject) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }

    @Test("Quoted.string escapes quotes, backslashes and control characters only")
    func quote() {
        #expect(Quoted.string("") == #""""#)
        #expect(Quoted.string("plain") == #""plain""#)
        #expect(Quoted.string("a\"b\\c") == #""a\"b\\c""#)
        #expect(Quoted.string("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(Quoted.string("\u{00}\u{01}\u{1F}") == #""\u0000\u0001\u001f""#)
        #expect(Quoted.string("é€😀/\u{7F}") == "\"é€😀/\u{7F}\"")
    }

    @Test("quoted strings read back unchanged (2,000 seeded random strings)")
    func quoteRoundTrip() {
        var rng = SeededRandom(seed: 42)
        let alphabet: [Unicode.Scalar] = ["a", "\"", "\\", "/", "\n", "\u{00}", "\u{1F}", "\u{7F}", "\u{85}", "é",
                                          "\u{2028}", "€", "\u{FFFF}", "😀", "\u{10FFFF}", " "]
        for _ in 0..<2_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 24) {
                s.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            #expect(value(Quoted.string(s)) == .string(s), "\(s.debugDescription)")
        }
    }

    @Test("FieldsObject holds every name once; of a repeated name, the last value")
    func object() throws {
        let fields = [RawEntry.Field("type", "add"), RawEntry.Field("qty", "1\"2"), RawEntry.Field("type", "x")]
        guard case .object(let members)? = value(try encoded(FieldsObject(fields))) else {
            Issue.record("not an object"); return
        }
        #expect(members.map(\.key).sorted() == ["qty", "type"])
        #expect(members.first { $0.key == "type" }?.value == .string("x"))
        #expect(members.first { $0.key == "qty" }?.value == .string("1\"2"))
        #expect(try encoded(FieldsObject([RawEntry.Field]())) == "{}")
        let ordered = try encoded(FieldsObject([("b", "1"), ("a", "2"), ("c", "3")]))
        #expect(ordered == #"{"a":"2","b":"1","c":"3"}"#)
    }

    @Test("FieldsObject writes the named integer fields as numbers, the rest as strings")
    func numbers() throws {
        let text = try encoded(FieldsObject([("quantity", "3"), ("sku", "7"), ("qty", "x")], numbers: ["quantity", "qty"]))
        #expect(text == #"{"qty":"x","quantity":3,"sku":"7"}"#)
    }

    @Test("FieldsObject replaces invalid UTF-8 with U+FFFD and still yields valid JSON")
    func objectInvalidUTF8() throws {
        let fields = [
            RawEntry.Field(name: Array("customer_id".utf8), value: [0x61, 0xFF, 0x62]),
            RawEntry.Field(name: [0xC3], value: [0xED, 0xA0, 0x80]),
            RawEntry.Field(name: Array("n".utf8), value: [0x00, 0x0A]),
        ]
        let text = try encoded(FieldsObject(fields))
        guard case .object(let members)? = value(text) else {
            Issue.record("payload is not a JSON object: \(text)"); return
        }
        #expect(Set(members.map(\.key)) == ["customer_id", "\u{FFFD}", "n"])
        #expect(members.first { $0.key == "customer_id" }?.value == .string("a\u{FFFD}b"))
        #expect(members.first { $0.key == "n" }?.value == .string("\u{00}\n"))
        guard case .string(let surrogate)? = members.first(where: { $0.key == "\u{FFFD}" })?.value else { Issue.record("not a string"); return }
        #expect(!surrogate.isEmpty && surrogate.unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })
    }

    @Test("FieldsObject never fails on random bytes and reads back as what it was given")
    func objectRandom() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<1_000 {
            var fields: [RawEntry.Field] = []
            for _ in 0..<Int(rng.next() % 5) {
                fields.append(RawEntry.Field(name: rng.bytes(max: 12), value: rng.bytes(max: 40)))
            }
            guard case .object(let members)? = value(try encoded(FieldsObject(fields))) else {
                Issue.record("not an object for \(fields)"); continue
            }
            var expected: [String: String] = [:]
            for f in fields { expected[String(decoding: f.name, as: UTF8.self)] = String(decoding: f.value, as: UTF8.self) }
            #expect(members.count == expected.count)
            for m in members { #expect(m.value == .string(expected[m.key] ?? "<missing>")) }
        }
    }
}
