public import Foundation
public import RedisClient
public import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers for the end-to-end tests: a throwaway redis-server per test, the test's own
// connection to it, and the real `dupwatch` binary run as a subprocess.

/// The key and stream names DupWatch uses (spelled out here on purpose: the tests check the
/// names of the contract, not whatever `KeySchema` happens to say).
public enum Streams {
    public static let cart = "stream:cart:events"
    public static let orderPlaced = "stream:order:placed"
    public static let orderStatus = "stream:order:status"
    public static let alerts = "stream:alerts:duplicate"
    public static let deadLetter = "stream:deadletter"
    public static let inputs = [cart, orderPlaced, orderStatus]
    public static let all = inputs + [alerts, deadLetter]
    public static let group = "dupwatch"
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How a `dupwatch` run ended.
public struct ProcessResult: CustomStringConvertible {
    public var status: Int32
    /// True when the process was ended by a signal (`status` is then the signal number).
    public var signaled: Bool
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    public var exitedZero: Bool { !signaled && status == 0 }

    public var description: String {
        "\(signaled ? "signal" : "exit status") \(status) after \(String(format: "%.2f", seconds)) s\n"
            + "--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
    }
}

/// A `dupwatch` subprocess with its stdout/stderr going to files (no pipe can fill up and
/// block it; stderr can be read while it runs).
public final class DupwatchProcess: @unchecked Sendable {
    public let process: Process
    public let arguments: [String]
    private let directory: String
    private let started = Date()

    /// `product`: the executable built by this package to run (`dupwatch`, `dupwatch-bench`).
    public init(_ arguments: [String], env: [String: String] = [:], product: String = "dupwatch") throws {
        self.arguments = arguments
        let executable = try ProductLocator.executable(named: product)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        guard let out = FileHandle(forWritingAtPath: directory + "/stdout"),
              let err = FileHandle(forWritingAtPath: directory + "/stderr") else {
            throw HarnessError("cannot open output files in \(directory)")
        }
        // Every option also reads a DUPWATCH_* variable: none of the caller's may reach the child.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DUPWATCH_") }
        for (key, value) in env { environment[key] = value }
        process = try Process.launched(executable: executable, arguments: arguments, environment: environment,
                                       stdout: out, stderr: err)
        try? out.close()
        try? err.close()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public var stdoutSoFar: String { read("stdout") }
    public var stderrSoFar: String { read("stderr") }

    private func read(_ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: directory + "/" + name) ?? Data(), as: UTF8.self)
    }

    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the exit (the process is reaped when this returns). On timeout the process is
    /// SIGKILLed and the error carries its output.
    public func wait(timeout: Double = 60) async throws -> ProcessResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                let stderr = stderrSoFar
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw HarnessError("`dupwatch \(arguments.joined(separator: " "))` did not exit within \(Int(timeout)) s; its stderr:\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                             stdout: stdoutSoFar, stderr: stderrSoFar, seconds: Date().timeIntervalSince(started))
    }

    /// Polls the stderr written so far until `predicate` holds; false after `timeout` seconds.
    public func waitForStderr(timeout: Double, _ predicate: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(stderrSoFar) { return true }
            if !process.isRunning { return predicate(stderrSoFar) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return predicate(stderrSoFar)
    }
}

/// One test's world: its own redis-server and connection.
public final class Harness: @unchecked Sendable {
    public let server: RedisTestServer
    public let redis: RedisConnection

    public init(extraArguments: [String] = []) throws {
        server = try RedisTestServer(extraArguments: extraArguments)
        redis = try server.connect()
    }

    /// `--redis-url` value (with the password, if the server has one).
    public var url: String { server.urlString }

    // MARK: Running the binary

    /// Runs `dupwatch <args>` to completion (fails if it takes longer than `timeout` seconds).
    public func runDupwatch(_ args: [String], env: [String: String] = [:], product: String = "dupwatch",
                            timeout: Double = 60) async throws -> ProcessResult {
        try await DupwatchProcess(args, env: env, product: product).wait(timeout: timeout)
    }

    /// `dupwatch worker --redis-url <url> --drain <extra>`; records an issue unless it exits 0.
    @discardableResult
    public func drain(_ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> ProcessResult {
        let result = try await runDupwatch(["worker", "--redis-url", url, "--drain"] + extra)
        #expect(result.exitedZero, "worker --drain failed: \(result)", sourceLocation: sourceLocation)
        return result
    }

    /// A read/admin command against this server: `dupwatch <args> --redis-url <url>`.
    public func cli(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> ProcessResult {
        let result = try await runDupwatch(args + ["--redis-url", url])
        #expect(result.exitedZero, "`dupwatch \(args.joined(separator: " "))` failed: \(result)", sourceLocation: sourceLocation)
        return result
    }

    public func start(_ args: [String], env: [String: String] = [:], product: String = "dupwatch") throws -> DupwatchProcess {
        try DupwatchProcess(args, env: env, product: product)
    }

    /// `dupwatch-bench <args>` to completion.
    public func runBench(_ args: [String], timeout: Double = 60) async throws -> ProcessResult {
        try await runDupwatch(args, product: "dupwatch-bench", timeout: timeout)
    }

    public func startBench(_ args: [String]) throws -> DupwatchProcess {
        try start(args, product: "dupwatch-bench")
    }

    // MARK: Writing

    private var lastMs: Int64 = 0

    /// XADD; returns the new entry id.
    ///
    /// Without `id`, the entry gets `<ms>-0` with `ms` the current time, but strictly after the
    /// previous entry this harness added to *any* stream. Redis' own `*` numbers each stream
    /// separately, so two entries XADDed to different streams in the same millisecond could get
    /// ids in the opposite order (`T-1` in one, `T-0` in the other); DupWatch orders by entry id,
    /// so these tests give every entry its own millisecond. (That same-millisecond case has a
    /// test of its own.)
    @discardableResult
    public func xadd(_ stream: String, _ fields: KeyValuePairs<String, String>, id: String? = nil) throws -> String {
        try xadd(stream, fields.map { ($0.key, $0.value) }, id: id)
    }

    @discardableResult
    public func xadd(_ stream: String, _ fields: [(String, String)], id: String? = nil) throws -> String {
        let streamFields = fields.map { StreamField(name: $0.0, value: $0.1) }
        if let id {
            return try redis.send(StreamCommands.xadd(stream, id: id, fields: streamFields)).throwIfError().string
        }
        for _ in 0..<100 {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            lastMs = max(now, lastMs + 1)
            let reply = try redis.send(StreamCommands.xadd(stream, id: "\(lastMs)-0", fields: streamFields))
            if case .error(let message) = reply, message.contains("equal or smaller") { continue }  // someone else's `*` got there first
            return try reply.throwIfError().string
        }
        throw HarnessError("XADD \(stream): could not find a free entry id")
    }

    /// Pushes many entries in one pipeline; returns their ids.
    @discardableResult
    public func xaddMany(_ entries: [(stream: String, id: String, fields: [(String, String)])]) throws -> [String] {
        var ids: [String] = []
        for chunk in stride(from: 0, to: entries.count, by: 500) {
            let slice = entries[chunk..<min(chunk + 500, entries.count)]
            let replies = try redis.pipeline(slice.map { entry in
                StreamCommands.xadd(entry.stream, id: entry.id, fields: entry.fields.map { StreamField(name: $0.0, value: $0.1) })
            })
            ids += try replies.map { try $0.throwIfError().string }
        }
        return ids
    }

    @discardableResult
    public func cartAdd(_ customer: String, sku: String, qty: Int? = nil, title: String? = nil, ts: String,
                 eventID: String? = nil) throws -> String {
        var fields: [(String, String)] = [("type", "add"), ("customer_id", customer), ("sku", sku)]
        if let qty { fields.append(("qty", String(qty))) }
        if let title { fields.append(("title", title)) }
        fields.append(("ts", ts))
        if let eventID { fields.append(("event_id", eventID)) }
        return try xadd(Streams.cart, fields)
    }

    @discardableResult
    public func order(_ orderID: String, customer: String, items: String, ts: String, status: String? = nil) throws -> String {
        var fields: [(String, String)] = [("order_id", orderID), ("customer_id", customer), ("items", items), ("ts", ts)]
        if let status { fields.append(("status", status)) }
        return try xadd(Streams.orderPlaced, fields)
    }

    @discardableResult
    public func statusUpdate(_ orderID: String, customer: String, status: String, ts: String) throws -> String {
        try xadd(Streams.orderStatus, [("order_id", orderID), ("customer_id", customer), ("status", status), ("ts", ts)])
    }

    // MARK: Reading

    /// All entries of a stream, oldest first, fields as a dictionary (first value of a name wins).
    public func entries(_ stream: String) throws -> [(id: String, fields: [String: String])] {
        try redis.send(RedisCommand("XRANGE", stream, "-", "+"), decode: StreamCommands.decodeEntries).map { entry in
            var map: [String: String] = [:]
            for field in entry.fields ?? [] where map[field.nameString] == nil {
                map[field.nameString] = field.valueString
            }
            return (entry.id, map)
        }
    }

    /// The fields of every alert, oldest first.
    public func alerts() throws -> [[String: String]] {
        try entries(Streams.alerts).map(\.fields)
    }

    /// The fields of every dead letter, oldest first, with the dead letter's own id as `_id`.
    public func deadLetters() throws -> [[String: String]] {
        try entries(Streams.deadLetter).map { entry in
            var fields = entry.fields
            fields["_id"] = entry.id
            return fields
        }
    }

    public func xlen(_ stream: String) throws -> Int {
        Int(try redis.command("XLEN", stream).int)
    }

    /// Entries delivered to the group and not acked: the count of the XPENDING summary
    /// `[count, smallest, largest, consumers]`; 0 without a group.
    public func pending(_ stream: String) throws -> Int {
        let reply = try redis.send(RedisCommand("XPENDING", stream, Streams.group))
        if case .error = reply { return 0 }
        return Int(try reply.array[0].int)
    }

    public func totalPending() throws -> Int {
        try Streams.inputs.reduce(0) { $0 + (try pending($1)) }
    }

    /// The group's fields from XINFO GROUPS (`lag`, `pending`, `entries-read`, ...); nil if no such group.
    public func groupInfo(_ stream: String) throws -> [String: RedisReply]? {
        let reply = try redis.send(RedisCommand("XINFO", "GROUPS", stream))
        guard case .array(let groups) = reply else { return nil }
        for group in groups {
            let map = try group.fieldMap
            if (try? map["name"]?.string) == Streams.group { return map }
        }
        return nil
    }

    /// XINFO GROUPS lag (nil when Redis cannot tell, or there is no group).
    public func lag(_ stream: String) throws -> Int64? {
        guard let info = try groupInfo(stream), let lag = info["lag"], !lag.isNull else { return nil }
        return try lag.int
    }

    public func hash(_ key: String) throws -> [String: String] {
        try redis.command("HGETALL", key).stringMap
    }

    /// Every key with its type and DUMP serialization (and TTL presence): equal snapshots mean
    /// nothing was written in between.
    public func snapshot() throws -> [String: [UInt8]] {
        let keys = try redis.command("KEYS", "*").array.map { try $0.string }
        var out: [String: [UInt8]] = [:]
        for key in keys {
            out[key] = try redis.command("DUMP", key).bytes
        }
        return out
    }

    public func dbsize() throws -> Int { Int(try redis.command("DBSIZE").int) }

    /// Polls until `condition` holds or `timeout` seconds pass.
    public func eventually(timeout: Double, _ condition: () throws -> Bool) async throws -> Bool {
        try await TestSupport.eventually(timeout: timeout, condition)
    }
}


// MARK: JSON

/// Parses CLI `--json` output.
public func parseJSON(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
    do {
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    } catch {
        Issue.record("not JSON: \(error)\n\(text)", sourceLocation: sourceLocation)
        throw error
    }
}

extension Dictionary where Key == String, Value == Any {
    public func string(_ key: String) -> String? { self[key] as? String }
    public func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
}

/// An items JSON array for stream:order:placed.
public func itemsJSON(_ lines: [(sku: String, qty: Int, title: String?)]) -> String {
    "[" + lines.map { line in
        var object = "{\"sku\":\"\(line.sku)\",\"qty\":\(line.qty)"
        if let title = line.title { object += ",\"title\":\"\(title)\"" }
        return object + "}"
    }.joined(separator: ",") + "]"
}
