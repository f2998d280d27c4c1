import DupWatchBench
import Foundation
import RedisClient
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers of ChaosTests (the short form of scripts/chaos.sh). Every name starts with `Chaos` so
// nothing clashes with the other helpers of this test target.

struct ChaosError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// SplitMix64: the kill timings of a run follow from its seed.

enum ChaosNames {
    static let inputs = ["stream:cart:events", "stream:order:placed", "stream:order:status"]
    static let alerts = "stream:alerts:duplicate"
    static let deadLetter = "stream:deadletter"
    static let group = "dupwatch"
    static let statePrefixes = ["cart:{", "orders:{", "order:{", "history:{", "events:{", "alerts:{", "stats:"]
}

/// A `dupwatch` subprocess whose output goes to a log file (kept in the chaos server's directory).
final class ChaosProcess: @unchecked Sendable {
    let process: Process
    let arguments: [String]

    init(_ binary: String, _ arguments: [String], log: String) throws {
        self.arguments = arguments
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: log) else { throw ChaosError("cannot open \(log)") }
        handle.seekToEndOfFile()
        // Every option also reads a DUPWATCH_* variable: none of the caller's may reach the child.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DUPWATCH_") }
        process = try Process.launched(executable: binary, arguments: arguments, environment: environment,
                                       stdout: handle, stderr: handle)
        try? handle.close()
    }

    deinit { killHard() }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the exit; SIGKILLs it and throws after `timeout` seconds.
    func wait(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                killHard()
                throw ChaosError("`dupwatch \(arguments.joined(separator: " "))` did not exit within \(Int(timeout)) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// One input entry, as XRANGE returned it.
struct ChaosEntry: Sendable {
    var stream: String
    var id: String
    var fields: [StreamField]

    /// (milliseconds, sequence) of the id.
    var idParts: (UInt64, UInt64) {
        let parts = id.split(separator: "-")
        return (UInt64(parts[0]) ?? 0, UInt64(parts.count > 1 ? parts[1] : "0") ?? 0)
    }

    /// The worker's processing order: millisecond, stream rank (cart, order, status), sequence.
    var order: (UInt64, Int, UInt64) {
        (idParts.0, ChaosNames.inputs.firstIndex(of: stream) ?? 0, idParts.1)
    }
}

enum ChaosRedis {
    static func entries(_ redis: RedisConnection, _ stream: String) throws -> [StreamEntry] {
        var out: [StreamEntry] = []
        var start = "-"
        while true {
            let page = try redis.send(RedisCommand("XRANGE", stream, start, "+", "COUNT", "5000"), decode: StreamCommands.decodeEntries)
            out += page
            guard page.count == 5000, let last = page.last else { return out }
            start = "(" + last.id
        }
    }

    /// The three input streams, merged into the worker's processing order (so a replay in this
    /// order always leaves Redis holding a prefix of it, as the crash-free drain saw it).
    static func exportInput(_ redis: RedisConnection) throws -> [ChaosEntry] {
        var all: [ChaosEntry] = []
        for stream in ChaosNames.inputs {
            all += try entries(redis, stream).map { ChaosEntry(stream: stream, id: $0.id, fields: $0.fields ?? []) }
        }
        return all.sorted { $0.order < $1.order }
    }

    static func fields(_ entry: StreamEntry) -> [String: String] {
        var out: [String: String] = [:]
        for field in entry.fields ?? [] where out[field.nameString] == nil { out[field.nameString] = field.valueString }
        return out
    }


    /// (committed so far, pending + lag) of the group over the three inputs.
    static func progress(_ redis: RedisConnection) throws -> (acked: Int64, outstanding: Int64) {
        var acked: Int64 = 0
        var outstanding: Int64 = 0
        for stream in ChaosNames.inputs {
            let reply = try redis.send(RedisCommand("XINFO", "GROUPS", stream))
            let length = try redis.send(RedisCommand("XLEN", stream)).throwIfError().int
            guard case .array(let groups) = reply,
                  let group = try groups.map({ try $0.fieldMap }).first(where: { try $0["name"]?.string == ChaosNames.group }) else {
                outstanding += length
                continue
            }
            let pending = try group["pending"]?.int ?? 0
            let lag = (try? group["lag"]?.int) ?? nil
            let read = (try? group["entries-read"]?.int) ?? nil
            let entriesRead = read ?? (length - (lag ?? 0))
            acked += entriesRead - pending
            outstanding += pending + (lag ?? (length - entriesRead))
        }
        return (acked, outstanding)
    }

    /// Every customer key with its type and contents (hash fields, list items, zset members and
    /// scores); TTLs are not part of it.
    static func state(_ redis: RedisConnection) throws -> [String: String] {
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try redis.send(RedisCommand("SCAN", cursor, "COUNT", "2000")).throwIfError().array
            cursor = try reply[0].string
            for key in try reply[1].array.map({ try $0.string })
            where ChaosNames.statePrefixes.contains(where: { key.hasPrefix($0) }) {
                keys.append(key)
            }
        } while cursor != "0"
        var out: [String: String] = [:]
        for key in Set(keys) {
            let type = try redis.send(RedisCommand("TYPE", key)).throwIfError().string
            let value: String
            switch type {
            case "hash":
                let items = try redis.send(RedisCommand("HGETALL", key)).throwIfError().array.map { try $0.string }
                value = stride(from: 0, to: items.count - 1, by: 2).map { "\(items[$0])=\(items[$0 + 1])" }.sorted()
                    .joined(separator: "; ")
            case "list":
                value = try redis.send(RedisCommand("LRANGE", key, "0", "-1")).throwIfError().array
                    .map { try $0.string }.joined(separator: ", ")
            case "zset" where key.hasPrefix("alerts:{"):
                // The alert index, without the run's wall clock (`detected_at`, the scores).
                value = try redis.send(RedisCommand("ZRANGE", key, "0", "-1")).throwIfError().array
                    .map { try Self.withoutDetectionTime(try $0.string) }.sorted().joined(separator: ", ")
            case "zset":
                value = try redis.send(RedisCommand("ZRANGE", key, "0", "-1", "WITHSCORES")).throwIfError().array
                    .map { try $0.string }.joined(separator: ", ")
            case "none":
                continue
            default:
                value = "(\(type))"
            }
            out[key] = "\(type): \(value)"
        }
        return out
    }
}

extension ChaosRedis {
    static func withoutDetectionTime(_ json: String) throws -> String {
        guard var alert = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        alert["detected_at"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: alert, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// Replays the reference input into the chaos server with the same entry ids, in processing
/// order, so that Redis always holds a prefix of it. Survives a redis-server restart: it asks
/// for each stream's last id and goes on from there.
final class ChaosPusher {
    let entries: [ChaosEntry]
    let server: RedisTestServer
    private(set) var position = 0
    private var connection: RedisConnection?

    init(entries: [ChaosEntry], server: RedisTestServer) {
        self.entries = entries
        self.server = server
    }

    var isDone: Bool { position >= entries.count }

    func push(upTo target: Int) throws {
        let target = min(target, entries.count)
        var attempts = 0
        while position < target {
            do {
                let redis = try connected()
                let end = min(target, position + 2000)
                let commands = entries[position..<end].map { StreamCommands.xadd($0.stream, id: $0.id, fields: $0.fields) }
                for reply in try redis.pipeline(commands) { try reply.throwIfError() }
                position = end
            } catch let error as RedisError where attempts < 100 {
                if case .server = error.kind { throw error }
                connection = nil
                attempts += 1
                usleep(20_000)
            }
        }
    }

    private func connected() throws -> RedisConnection {
        if let connection, !connection.isBroken { return connection }
        let redis = try server.connect()
        var last: [String: (UInt64, UInt64)] = [:]
        for stream in ChaosNames.inputs {
            let top = try redis.send(RedisCommand("XREVRANGE", stream, "+", "-", "COUNT", "1"), decode: StreamCommands.decodeEntries).first
            last[stream] = top.map { ChaosEntry(stream: stream, id: $0.id, fields: []).idParts } ?? (0, 0)
        }
        var resumed = 0
        while resumed < entries.count {
            guard entries[resumed].idParts <= last[entries[resumed].stream]! else { break }
            resumed += 1
        }
        position = resumed
        connection = redis
        return redis
    }
}

/// `DUPWATCH_CHAOS_SEED=<n>` repeats a chaos test's workload (and kill schedule; timings still
/// vary); without it, `fallback`.
enum ChaosSeed {
    static func fromEnvironment(or fallback: @autoclosure () -> UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment["DUPWATCH_CHAOS_SEED"].flatMap { UInt64($0) } ?? fallback()
    }

    /// How a failure message names the seed and how to repeat it.
    static func context(_ seed: UInt64) -> String {
        "seed \(seed); rerun with DUPWATCH_CHAOS_SEED=\(seed)"
    }
}

/// The crash-free run the chaos runs are compared with: a seeded workload generated into a
/// server of its own, then drained once without interruption.
struct ChaosReference {
    let server: RedisTestServer
    let redis: RedisConnection
    /// The input in processing order, to replay with the same entry ids.
    let input: [ChaosEntry]

    static func run(seed: UInt64, events: Int, customers: Int, binary: String, log: String,
                    context: String) async throws -> ChaosReference {
        let server = try RedisTestServer()
        let generate = try ChaosProcess(try ProductLocator.executable(named: "dupwatch-bench"),
                                        ["generate", "--redis-url", server.urlString, "--seed", "\(seed)",
                                                 "--events", "\(events)", "--customers", "\(customers)"], log: log)
        guard try await generate.wait(timeout: 30) == 0 else { throw ChaosError("generate failed (\(context))") }
        let redis = try server.connect()
        let input = try ChaosRedis.exportInput(redis)
        guard input.count == events else { throw ChaosError("generate wrote \(input.count) entries, not \(events) (\(context))") }
        let drain = try ChaosProcess(binary, ["worker", "--drain", "--redis-url", server.urlString,
                                              "--log-level", "warning"], log: server.directory + "/drain.log")
        guard try await drain.wait(timeout: 30) == 0 else { throw ChaosError("the reference drain failed (\(context))") }
        return ChaosReference(server: server, redis: redis, input: input)
    }
}

/// What differs between the crash-free reference and the chaos run.
struct ChaosComparison {
    var inputDifferences: [String] = []
    var alertsExpected = 0
    var alertsGot = 0
    var missing: [String] = []
    var extra: [String] = []
    var doubled: [String] = []
    var deadLettersExpected: [String: Int] = [:]
    var deadLettersGot: [String: Int] = [:]
    var stateDifferences: [String] = []
    var stateKeys = 0
    var pending: Int64 = 0
    var lagProblems: [String] = []

    static func compare(reference: RedisConnection, chaos: RedisConnection) throws -> ChaosComparison {
        var result = ChaosComparison()
        for stream in ChaosNames.inputs {
            let a = try ChaosRedis.entries(reference, stream)
            let b = try ChaosRedis.entries(chaos, stream)
            if a != b {
                result.inputDifferences.append("\(stream): \(a.count) entries in the reference, \(b.count) in the chaos run")
            }
        }

        func alertIDs(_ redis: RedisConnection) throws -> [String] {
            try ChaosRedis.entries(redis, ChaosNames.alerts).map { ChaosRedis.fields($0)["alert_id"] ?? "?" }
        }
        let expected = try alertIDs(reference)
        let got = try alertIDs(chaos)
        result.alertsExpected = expected.count
        result.alertsGot = got.count
        var counts: [String: Int] = [:]
        for id in got { counts[id, default: 0] += 1 }
        let expectedSet = Set(expected)
        result.missing = expectedSet.subtracting(counts.keys).sorted()
        result.extra = Set(counts.keys).subtracting(expectedSet).sorted()
        result.doubled = counts.filter { $0.value > 1 }.map(\.key).sorted()

        func deadLetters(_ redis: RedisConnection) throws -> [String: Int] {
            var out: [String: Int] = [:]
            for entry in try ChaosRedis.entries(redis, ChaosNames.deadLetter) {
                let reason = ChaosRedis.fields(entry)["reason"] ?? ""
                out[String(reason.split(separator: ":", maxSplits: 1).first ?? ""), default: 0] += 1
            }
            return out
        }
        result.deadLettersExpected = try deadLetters(reference)
        result.deadLettersGot = try deadLetters(chaos)

        let a = try ChaosRedis.state(reference)
        let b = try ChaosRedis.state(chaos)
        result.stateKeys = b.count
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            result.stateDifferences.append("\(key): reference \(a[key] ?? "(none)") / chaos \(b[key] ?? "(none)")")
        }

        for stream in ChaosNames.inputs {
            let summary = try chaos.send(RedisCommand("XPENDING", stream, ChaosNames.group)).throwIfError().array
            result.pending += try summary[0].int
            let groups = try chaos.send(RedisCommand("XINFO", "GROUPS", stream)).throwIfError().array.map { try $0.fieldMap }
            let group = try groups.first { try $0["name"]?.string == ChaosNames.group }
            let lag = (try? group?["lag"]?.int) ?? nil
            if lag != 0 { result.lagProblems.append("\(stream): lag \(lag.map(String.init) ?? "unknown")") }
        }
        return result
    }

    var summary: String {
        "alerts_expected=\(alertsExpected) alerts_got=\(alertsGot) missing=\(missing.count) doubled=\(doubled.count) "
            + "extra=\(extra.count) deadletter=\(deadLettersGot.values.reduce(0, +))/\(deadLettersExpected.values.reduce(0, +)) "
            + "state_diffs=\(stateDifferences.count)/\(stateKeys) pending=\(pending)"
    }
}
