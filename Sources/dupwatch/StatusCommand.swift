import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import Foundation
import RedisClient

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per input stream: length, lag and committed position; each partition's owner, lease and resume attempts; alerts and dead letters.",
        discussion: """
            The worker reads with XREAD and commits its position by moving the consumer group \
            (XGROUP SETID) inside each batch's MULTI/EXEC, so the group's lag is exact, XPENDING \
            is always empty and no consumers are listed: none of those is shown. A partitioned \
            deployment (one Redis or a cluster) gets a row per partition and totals.
            """)

    @OptionGroup var connection: ConnectionOptions
    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("Consumer group name.", "group", default: "dupwatch")) var group: String?
    @Option(help: Settings.help("The workers' --lease-ttl, to tell how long ago the owner renewed its lease.", "lease-ttl", default: "10s"))
    var leaseTTL: Duration?
    @Flag(inversion: .prefixedNo, help: Settings.help("Print JSON.", "json", default: "off")) var json: Bool?

    /// The options resolved (command line, DUPWATCH_* variable, default).
    struct Resolved {
        var group: String
        var leaseTTL: Duration
        var json: Bool
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        return Resolved(group: try settings.value(group, "group", default: "dupwatch"),
                        leaseTTL: try settings.value(leaseTTL, "lease-ttl", default: .seconds(10)),
                        json: try settings.flag(json, "json"))
    }

    func validate() throws {
        _ = try resolved()
    }

    struct Stream: Encodable {
        var stream: String
        var length: Int64
        /// Entries not yet applied; nil before the group exists or when Redis cannot tell.
        var lag: Int64?
        /// The group's last-delivered-id: everything up to it has been applied.
        var committed_id: String?
    }

    struct Partition: Encodable {
        var partition: Int
        var streams: [Stream]
        var owner: String?
        var released_by: String?
        var lease_ttl_left_ms: Int64?
        var lease_age_ms: Int64?
        var resume_attempts: Int64
        var alerts: Int64
        var deadletters: Int64
    }

    struct Output: Encodable {
        var group: String
        var partitions: Int
        /// A single partition: its fields at the top level, as before partitions existed.
        var owner: String?
        var released_by: String?
        var lease_ttl_left_ms: Int64?
        var lease_age_ms: Int64?
        var resume_attempts: Int64?
        var streams: [Stream]?
        /// More than one partition: a row each.
        var rows: [Partition]?
        var live_workers: [String]?
        var alerts: Int64
        var deadletters: Int64
    }

    func run() throws {
        let options = try resolved()
        let deployment = try connection.deployment()
        var rows: [Partition] = []
        for (index, keys) in deployment.partitions.enumerated() {
            rows.append(try status(of: keys, partition: index, on: deployment.connection(for: keys), options: options))
        }
        // The router's dead letters (entries without a customer) are outside the partitions.
        var sharedDeadLetters: Int64 = 0
        if deployment.partitioning.count > 1 {
            sharedDeadLetters = try deployment.connection(forKey: deployment.shared.deadLetterStream)
                .command("XLEN", deployment.shared.deadLetterStream).int
        }
        let alerts = rows.reduce(0) { $0 + $1.alerts }
        let deadLetters = rows.reduce(sharedDeadLetters) { $0 + $1.deadletters }
        var output = Output(group: options.group, partitions: rows.count, alerts: alerts, deadletters: deadLetters)
        if rows.count == 1 {
            output.owner = rows[0].owner
            output.released_by = rows[0].released_by
            output.lease_ttl_left_ms = rows[0].lease_ttl_left_ms
            output.lease_age_ms = rows[0].lease_age_ms
            output.resume_attempts = rows[0].resume_attempts
            output.streams = rows[0].streams
        } else {
            output.rows = rows
            let key = deployment.shared.members(group: options.group)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            output.live_workers = try deployment.connection(forKey: key)
                .command("ZRANGE", key, String(now), "+inf", "BYSCORE").array.map { try $0.string }
        }
        if options.json {
            JSONOutput.print(output)
        } else if rows.count == 1 {
            printSingle(rows[0], options: options)
            print("\(deployment.shared.alertStream): \(alerts) alerts   \(deployment.shared.deadLetterStream): \(deadLetters) dead letters")
        } else {
            printPartitions(rows, workers: output.live_workers ?? [], group: options.group)
            print("\(rows.count) partitions: \(alerts) alerts, \(deadLetters) dead letters (\(sharedDeadLetters) of them from the router, in \(deployment.shared.deadLetterStream))")
        }
    }

    private func status(of keys: KeySchema, partition: Int, on redis: RedisConnection, options: Resolved) throws -> Partition {
        let group = options.group
        var streams: [Stream] = []
        for stream in keys.inputStreams {
            let replies = try redis.pipeline([RedisCommand("XLEN", stream), RedisCommand("XINFO", "GROUPS", stream)])
            var row = Stream(stream: stream, length: try replies[0].throwIfError().int)
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
        var row = Partition(partition: partition, streams: streams, owner: released == nil ? holder : nil, released_by: released,
                            resume_attempts: try replies[4].throwIfError().optionalString.flatMap { Int64($0) } ?? 0,
                            alerts: try replies[1].throwIfError().int, deadletters: try replies[0].throwIfError().int)
        if row.owner != nil, ttlLeft >= 0 {
            row.lease_ttl_left_ms = ttlLeft
            row.lease_age_ms = max(0, options.leaseTTL.inMilliseconds - ttlLeft)
        }
        return row
    }

    private func printSingle(_ row: Partition, options: Resolved) {
        let (group, leaseTTL) = (options.group, options.leaseTTL)
        if let owner = row.owner {
            let lease = row.lease_ttl_left_ms.map { "lease renewed \($0 <= leaseTTL.inMilliseconds ? "\(leaseTTL.inMilliseconds - $0) ms ago, " : "")expires in \($0) ms" } ?? "lease without expiry"
            print("Group \(group), owned by \(owner) (\(lease))")
        } else if let released = row.released_by {
            print("Group \(group), owned by nobody (\(released) stopped cleanly and released it)")
        } else {
            print("Group \(group), owned by nobody (no worker running)")
        }
        if row.resume_attempts > 0 {
            print("Resume attempts since the last commit: \(row.resume_attempts) (a worker keeps failing at the committed position)")
        }
        var table = TextTable("STREAM", "LENGTH", "LAG", "COMMITTED ID")
        for stream in row.streams {
            table.add(stream.stream, String(stream.length), stream.lag.map(String.init) ?? "?", stream.committed_id ?? "(no group yet)")
        }
        print(table.rendered)
    }

    private func printPartitions(_ rows: [Partition], workers: [String], group: String) {
        print("Group \(group), \(rows.count) partitions, live workers: \(workers.isEmpty ? "none" : workers.joined(separator: ", "))")
        var table = TextTable("PARTITION", "ENTRIES", "LAG", "OWNER", "LEASE", "ATTEMPTS", "ALERTS", "DEAD LETTERS")
        for row in rows {
            let lag = row.streams.contains { $0.lag == nil } ? "?" : String(row.streams.reduce(0) { $0 + ($1.lag ?? 0) })
            let owner = row.owner ?? row.released_by.map { "(released by \($0))" } ?? "(nobody)"
            table.add(String(row.partition), String(row.streams.reduce(0) { $0 + $1.length }), lag, owner,
                      row.lease_ttl_left_ms.map { "\($0) ms left" } ?? "-", String(row.resume_attempts),
                      String(row.alerts), String(row.deadletters))
        }
        print(table.rendered)
    }
}
