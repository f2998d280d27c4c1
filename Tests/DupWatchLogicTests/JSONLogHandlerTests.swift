import DupWatchCLI
import Foundation
import Logging
import Testing

/// `--log-format json`: one object per line, metadata as fields. Rendered to strings, no I/O.
@Suite("JSONLogHandler")
struct JSONLogHandlerTests {
    /// 2026-11-23T10:00:00.123Z
    private let time = Date(timeIntervalSince1970: 1_795_428_000.123_4)

    private func event(_ message: Logger.Message, level: Logger.Level = .info, metadata: Logger.Metadata? = nil,
                       error: (any Error)? = nil) -> LogEvent {
        LogEvent(level: level, message: message, error: error, metadata: metadata, source: "test", file: #fileID, function: #function, line: #line)
    }

    private func object(_ line: String) throws -> [String: Any] {
        #expect(!line.contains("\n"), "one line: \(line)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }

    @Test func aLineHasTheTimeLevelLabelAndMessage() throws {
        let handler = JSONLogHandler(label: "dupwatch.worker", output: { _ in })
        let line = try object(handler.render(event("worker w1 starting", level: .notice), at: time))
        #expect(line["ts"] as? String == "2026-11-23T10:00:00.123Z")
        #expect(line["level"] as? String == "notice")
        #expect(line["label"] as? String == "dupwatch.worker")
        #expect(line["message"] as? String == "worker w1 starting")
        #expect(line.count == 4, "\(line)")
    }

    @Test func everyMetadataKeyIsAFieldOfItsOwn() throws {
        var handler = JSONLogHandler(label: "dupwatch.worker", output: { _ in })
        handler[metadataKey: "consumer"] = "w1"
        handler[metadataKey: "customer.id"] = "overridden"
        let line = try object(handler.render(event("alert raised", metadata: [
            "customer.id": "c42",
            "entry.id": .stringConvertible("1700000000000-0"),
            "skus": ["MILK-1L", "BREAD"],
            "order": ["id": "O-1", "status": "shipped"],
        ]), at: time))
        #expect(line["message"] as? String == "alert raised", "metadata stays out of the message")
        #expect(line["consumer"] as? String == "w1")
        #expect(line["customer.id"] as? String == "c42", "the statement's metadata wins over the handler's")
        #expect(line["entry.id"] as? String == "1700000000000-0")
        #expect(line["skus"] as? [String] == ["MILK-1L", "BREAD"])
        #expect(line["order"] as? [String: String] == ["id": "O-1", "status": "shipped"])
    }

    @Test func theMetadataProviderIsMergedBetweenHandlerAndStatement() throws {
        var handler = JSONLogHandler(label: "l", metadataProvider: .init { ["request.id": "r1", "shared": "provider"] }, output: { _ in })
        handler[metadataKey: "shared"] = "handler"
        let line = try object(handler.render(event("m"), at: time))
        #expect(line["request.id"] as? String == "r1")
        #expect(line["shared"] as? String == "provider")
    }

    @Test func metadataCannotHideTheFixedFields() throws {
        let handler = JSONLogHandler(label: "dupwatch.route", output: { _ in })
        let line = try object(handler.render(event("real", metadata: ["message": "fake", "level": "fake", "ts": "fake"]), at: time))
        #expect(line["message"] as? String == "real")
        #expect(line["level"] as? String == "info")
        #expect(line["ts"] as? String == "2026-11-23T10:00:00.123Z")
        #expect(line["metadata.message"] as? String == "fake")
        #expect(line["metadata.ts"] as? String == "fake")
    }

    @Test func quotesNewlinesAndNonASCIIAreEscapedOnOneLine() throws {
        let handler = JSONLogHandler(label: "l", output: { _ in })
        let message = "bad \"qty\"\n\tin Crème fraîche 🥛 \\ / \u{1}"
        let line = try object(handler.render(event("\(message)", level: .error, metadata: ["title": "\(message)"]), at: time))
        #expect(line["message"] as? String == message)
        #expect(line["title"] as? String == message)
    }

    @Test func anErrorAddsItsMessageAndType() throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "WRONGPASS" } }
        let handler = JSONLogHandler(label: "l", output: { _ in })
        let line = try object(handler.render(event("cannot connect", level: .error, error: Refused()), at: time))
        #expect(line["error.message"] as? String == "WRONGPASS")
        #expect((line["error.type"] as? String)?.hasSuffix("Refused") == true, "\(line)")
    }

    /// Through a `Logger`: the level filters, and each statement is one `output` call.
    @Test func aLoggerWritesOneLinePerStatementFromItsLevelUp() throws {
        let lines = Lines()
        var logger = Logger(label: "dupwatch.worker") { label in
            JSONLogHandler(label: label, logLevel: .info, clock: { Date(timeIntervalSince1970: 1_795_428_000.123_4) },
                           output: { lines.append($0) })
        }
        logger[metadataKey: "consumer"] = "w1"
        logger.debug("not written")
        logger.info("committed", metadata: ["entry.id": "1-0"])
        logger.warning("slow")
        let written = lines.all
        #expect(written.count == 2, "\(written)")
        let first = try object(written[0])
        #expect(first["message"] as? String == "committed")
        #expect(first["entry.id"] as? String == "1-0")
        #expect(first["consumer"] as? String == "w1")
        #expect(first["ts"] as? String == "2026-11-23T10:00:00.123Z")
        #expect(try object(written[1])["level"] as? String == "warning")
    }
}

/// Lines a handler wrote, from any thread.
private final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
