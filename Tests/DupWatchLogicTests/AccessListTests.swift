import Foundation
import DupWatchStore
import Testing

/// users.acl.template's `dupwatch` user: its comment lists the commands the code sends, its rule
/// grants them; the two must say the same, and the rule's key patterns must cover every key.
@Suite("The dupwatch ACL user")
struct AccessListTests {
    static let template: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("users.acl.template"), encoding: .utf8)) ?? ""
    }()

    /// The `user dupwatch ...` rule line.
    static var rule: [Substring] {
        template.split(separator: "\n").first { $0.hasPrefix("user dupwatch ") }?.split(separator: " ") ?? []
    }

    /// `+xgroup|create` -> `XGROUP CREATE`.
    static var granted: Set<String> {
        Set(rule.filter { $0.hasPrefix("+") }.map { $0.dropFirst().uppercased().replacingOccurrences(of: "|", with: " ") })
    }

    /// The commands the comment's listing names (from `#   connection:` up to `# Keys:`),
    /// leaving out what is in parentheses; a subcommand stays with its command.
    static var listed: Set<String> {
        let lines = template.split(separator: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("#   connection:") }),
              let end = lines[start...].firstIndex(where: { $0.hasPrefix("# Keys:") }) else { return [] }
        var text = lines[start..<end].map { $0.dropFirst() }.joined(separator: " ")
        while let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") {
            text.removeSubrange(open...close)
        }
        let words = text.split(whereSeparator: { !$0.isLetter }).map(String.init)
        var commands: Set<String> = []
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.count > 1, word == word.uppercased() {
                if ["XGROUP", "XINFO", "CLUSTER"].contains(word), index + 1 < words.count {
                    commands.insert(word + " " + words[index + 1])
                    index += 2
                    continue
                }
                commands.insert(word)
            }
            index += 1
        }
        return commands
    }

    @Test func theCommentListsExactlyTheGrantedCommands() {
        #expect(!Self.granted.isEmpty && !Self.listed.isEmpty, "cannot read users.acl.template")
        #expect(Self.listed.subtracting(Self.granted).isEmpty, "listed but not granted: \(Self.listed.subtracting(Self.granted))")
        #expect(Self.granted.subtracting(Self.listed).isEmpty, "granted but not listed: \(Self.granted.subtracting(Self.listed))")
    }

    @Test func nothingOfTheConsumerGroupDeliveryModelIsGranted() {
        for command in ["XREADGROUP", "XACK", "XCLAIM", "XAUTOCLAIM", "XPENDING", "FLUSHALL", "KEYS", "EVAL"] {
            #expect(!Self.granted.contains(command), "\(command) is granted")
        }
    }

    @Test func theKeyPatternsCoverEveryKeyTheSchemaSpells() {
        let patterns = Self.rule.filter { $0.hasPrefix("~") }.map { String($0.dropFirst()) }
        #expect(patterns.allSatisfy { $0.hasSuffix("*") }, "\(patterns)")
        let keys = KeySchema()
        let spelled = keys.inputStreams + [keys.alertStream, keys.deadLetterStream, keys.cart("C"), keys.recentOrders("C"),
                                           keys.order("C", "O"), keys.history("C"), keys.eventIDs("C"),
                                           keys.alertIndex("C"), keys.feedbackStream,
                                           keys.lease(group: "g"), keys.resumeAttempts(group: "g")]
        for key in spelled {
            #expect(patterns.contains { key.hasPrefix($0.dropLast()) }, "\(key) is not covered by \(patterns)")
        }
    }
}
