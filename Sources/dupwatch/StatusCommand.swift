import ArgumentParser
import DupWatchCore
import DupWatchStore
import RedisClient

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per stream: length, group lag, pending entries, oldest pending idle time, consumers; dead letters.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Consumer group name.") var group: String = "dupwatch"
    @Flag(help: "Print JSON.") var json = false

    struct Row {
        var stream: String
        var length: Int64
        var lag: Int64?
        var pending: Int64
        var oldestPendingIdleMs: Int64?
        var consumers: Int64
        var owner: String?
    }

    func run() throws {
        let keys = KeySchema()
        let redis = try connection.connect()
        var rows: [Row] = []
        for source in EventSource.allCases {
            let stream = keys.stream(for: source)
            let replies = try redis.pipeline([
                RedisCommand("XLEN", stream),
                RedisCommand("XINFO", "GROUPS", stream),
                RedisCommand("XPENDING", stream, group, "-", "+", "1"),
            ])
            var row = Row(stream: stream, length: try replies[0].throwIfError().int, lag: nil, pending: 0,
                          oldestPendingIdleMs: nil, consumers: 0)
            if case .array(let groups) = replies[1] {
                for info in groups {
                    let map = try info.fieldMap
                    guard map["name"].flatMap({ try? $0.string }) == group else { continue }
                    row.lag = map["lag"].flatMap { try? $0.int }
                    row.pending = map["pending"].flatMap { try? $0.int } ?? 0
                    row.consumers = map["consumers"].flatMap { try? $0.int } ?? 0
                }
            }
            if case .array(let pending) = replies[2], let first = pending.first, case .array(let fields) = first, fields.count >= 3 {
                row.oldestPendingIdleMs = try? fields[2].int
            }
            rows.append(row)
        }
        let deadLetters = try redis.command("XLEN", keys.deadLetterStream).int
        let alerts = try redis.command("XLEN", keys.alertStream).int
        let owner = try redis.command("GET", keys.lease(group: group)).optionalString

        if json {
            print(JSONValue.object([
                ("group", .string(group)),
                ("owner", .optional(owner.flatMap { $0.hasPrefix("released:") ? nil : $0 })),
                ("released_by", .optional(owner.flatMap { $0.hasPrefix("released:") ? String($0.dropFirst("released:".count)) : nil })),
                ("streams", .array(rows.map { row in
                    .object([
                        ("stream", .string(row.stream)), ("length", .int(row.length)),
                        ("lag", row.lag.map { .int($0) } ?? .null), ("pending", .int(row.pending)),
                        ("oldest_pending_idle_ms", row.oldestPendingIdleMs.map { .int($0) } ?? .null),
                        ("consumers", .int(row.consumers)),
                    ])
                })),
                ("alerts", .int(alerts)),
                ("deadletters", .int(deadLetters)),
            ]).rendered)
            return
        }
        var table = TextTable("STREAM", "LENGTH", "LAG", "PENDING", "OLDEST PENDING", "CONSUMERS")
        for row in rows {
            table.add(row.stream, String(row.length), row.lag.map(String.init) ?? "?", String(row.pending),
                      row.oldestPendingIdleMs.map { "\($0) ms" } ?? "-", String(row.consumers))
        }
        let ownerText: String
        if let owner, owner.hasPrefix("released:") {
            ownerText = "nobody (\(owner.dropFirst("released:".count)) stopped cleanly)"
        } else {
            ownerText = owner ?? "nobody (no worker running)"
        }
        print("Group \(group), owned by \(ownerText)")
        print(table.rendered)
        print("\(keys.alertStream): \(alerts) alerts   \(keys.deadLetterStream): \(deadLetters) dead letters")
    }
}
