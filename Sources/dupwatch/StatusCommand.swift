import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import RedisClient

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per input stream: length, lag and committed position; the group's owner, lease and resume attempts; alerts and dead letters.",
        discussion: """
            The worker reads with XREAD and commits its position by moving the consumer group \
            (XGROUP SETID) inside each batch's MULTI/EXEC, so the group's lag is exact, XPENDING \
            is always empty and no consumers are listed: none of those is shown.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Consumer group name.") var group: String = "dupwatch"
    @Option(help: "The workers' --lease-ttl, to tell how long ago the owner renewed its lease.")
    var leaseTTL: Duration = .seconds(10)
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        struct Stream: Encodable {
            var stream: String
            var length: Int64
            /// Entries not yet applied; nil before the group exists or when Redis cannot tell.
            var lag: Int64?
            /// The group's last-delivered-id: everything up to it has been applied.
            var committed_id: String?
        }
        var group: String
        var owner: String?
        var released_by: String?
        var lease_ttl_left_ms: Int64?
        var lease_age_ms: Int64?
        var resume_attempts: Int64
        var streams: [Stream]
        var alerts: Int64
        var deadletters: Int64
    }

    func run() throws {
        let keys = KeySchema()
        let redis = try connection.connect()
        var streams: [Output.Stream] = []
        for source in EventSource.allCases {
            let stream = keys.stream(for: source)
            let replies = try redis.pipeline([RedisCommand("XLEN", stream), RedisCommand("XINFO", "GROUPS", stream)])
            var row = Output.Stream(stream: stream, length: try replies[0].throwIfError().int)
            if case .array(let groups) = replies[1] {
                for info in groups {
                    let map = try info.fieldMap
                    guard map["name"].flatMap({ try? $0.string }) == group else { continue }
                    row.lag = map["lag"].flatMap { try? $0.int }
                    row.committed_id = map["last-delivered-id"].flatMap { try? $0.string }
                }
            }
            streams.append(row)
        }
        let replies = try redis.pipeline([
            RedisCommand("XLEN", keys.deadLetterStream), RedisCommand("XLEN", keys.alertStream),
            RedisCommand("GET", keys.lease(group: group)), RedisCommand("PTTL", keys.lease(group: group)),
            RedisCommand("GET", keys.resumeAttempts(group: group)),
        ])
        let holder = try replies[2].throwIfError().optionalString
        let released = holder.flatMap { $0.hasPrefix("released:") ? String($0.dropFirst("released:".count)) : nil }
        let ttlLeft = try replies[3].throwIfError().int
        var output = Output(
            group: group, owner: released == nil ? holder : nil, released_by: released,
            resume_attempts: try replies[4].throwIfError().optionalString.flatMap { Int64($0) } ?? 0,
            streams: streams, alerts: try replies[1].throwIfError().int, deadletters: try replies[0].throwIfError().int)
        if output.owner != nil, ttlLeft >= 0 {
            output.lease_ttl_left_ms = ttlLeft
            output.lease_age_ms = max(0, leaseTTL.inMilliseconds - ttlLeft)
        }
        if json {
            try JSONOutput.print(output)
            return
        }
        if let owner = output.owner {
            let lease = output.lease_ttl_left_ms.map { "lease renewed \($0 <= leaseTTL.inMilliseconds ? "\(leaseTTL.inMilliseconds - $0) ms ago, " : "")expires in \($0) ms" } ?? "lease without expiry"
            print("Group \(group), owned by \(owner) (\(lease))")
        } else if let released {
            print("Group \(group), owned by nobody (\(released) stopped cleanly and released it)")
        } else {
            print("Group \(group), owned by nobody (no worker running)")
        }
        if output.resume_attempts > 0 {
            print("Resume attempts since the last commit: \(output.resume_attempts) (a worker keeps failing at the committed position)")
        }
        var table = TextTable("STREAM", "LENGTH", "LAG", "COMMITTED ID")
        for row in streams {
            table.add(row.stream, String(row.length), row.lag.map(String.init) ?? "?", row.committed_id ?? "(no group yet)")
        }
        print(table.rendered)
        print("\(keys.alertStream): \(output.alerts) alerts   \(keys.deadLetterStream): \(output.deadletters) dead letters")
    }
}
