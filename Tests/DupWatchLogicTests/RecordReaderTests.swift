@testable import DupWatchImport
import TestSupport
import Testing

/// The record reader cut at every byte: a record may span refills of its buffer anywhere (inside
/// quotes, between the two quotes of `""`, between CR and LF), and the records, their fields
/// and their line numbers must not depend on where.
@Suite("Record reader: CSV and lines across buffer refills")
struct RecordReaderTests {
    /// Every CSV record of `text` as `line: field|field|…`, read `bufferSize` bytes at a time.
    static func csv(_ text: String, bufferSize: Int, gzip: Bool = false) throws -> [String] {
        var path = try TemporaryFiles.write("records.csv", text)
        if gzip { path = try TemporaryFiles.gzip(path) }
        let reader = RecordReader(input: try ImportInput(path: path), bufferSize: bufferSize)
        var out: [String] = []
        while try reader.nextCSV() {
            let fields = (0..<reader.fieldCount).map { String(decoding: reader.field($0), as: UTF8.self) }
            out.append("\(reader.line): \(fields.joined(separator: "|"))\(reader.isBlank ? " (blank)" : "")")
        }
        return out
    }

    static func lines(_ text: String, bufferSize: Int) throws -> [String] {
        let reader = RecordReader(input: try ImportInput(path: try TemporaryFiles.write("records.jsonl", text)), bufferSize: bufferSize)
        var out: [String] = []
        while try reader.nextLine() { out.append("\(reader.line): \(String(decoding: reader.bytes, as: UTF8.self))") }
        return out
    }

    static let text = "a,b,c\r\n"
        + "1,\"x, \"\"y\"\"\",\"two\r\nlines\"\r\n"
        + "\r\n"
        + "\"\"\"\",\"\",plain\"quote\n"
        + "\"ab\"cd,\"a\"\"\"\"b\",\r\n"
        + "é,ü\r,\"\u{1F600}\"\n"
        + "last,no,newline"

    static let expected = [
        "1: a|b|c",
        "2: 1|x, \"y\"|two\r\nlines",
        "4:  (blank)",
        "5: \"||plain\"quote",
        "6: abcd|a\"\"b|",
        "7: é|ü|\u{1F600}",
        "8: last|no|newline",
    ]

    @Test func csvRecordsDoNotDependOnWhereTheBufferEnds() throws {
        #expect(try Self.csv(Self.text, bufferSize: 1 << 18) == Self.expected)
        for size in 1...Self.text.utf8.count {
            #expect(try Self.csv(Self.text, bufferSize: size) == Self.expected, "buffer of \(size) bytes")
        }
        #expect(try Self.csv(Self.text, bufferSize: 3, gzip: true) == Self.expected)
    }

    @Test func aFileEndingInsideQuotesOrAfterALineFeedEndsItsLastRecord() throws {
        for size in [1, 2, 5, 1 << 18] {
            #expect(try Self.csv("a,\"open\nquote", bufferSize: size) == ["1: a|open\nquote"])
            #expect(try Self.csv("a,b\n", bufferSize: size) == ["1: a|b"])
            #expect(try Self.csv("a,b\r\n\r\n", bufferSize: size) == ["1: a|b", "2:  (blank)"])
            #expect(try Self.csv("", bufferSize: size).isEmpty)
        }
    }

    @Test func linesDropTheirCRLFWhereverTheBufferEnds() throws {
        let text = "{\"a\":1}\r\n\n{\"b\":\"x\\ny\"}\r\nlast\r"
        let expected = ["1: {\"a\":1}", "2: ", "3: {\"b\":\"x\\ny\"}", "4: last\r"]
        for size in 1...text.utf8.count {
            #expect(try Self.lines(text, bufferSize: size) == expected, "buffer of \(size) bytes")
        }
    }
}
