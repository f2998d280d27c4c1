import Testing
import Foundation
import RedisClient
import TestSupport

@Suite("RedisConnection against a real redis-server")
struct ConnectionTests {
    @Test func binarySafeRoundTrip() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let value: [UInt8] = [0, 0xFF, 0xFE, 0, UInt8(ascii: "a"), 13, 10, 0xC3, 0x28, 0]
        var set = RedisCommand("SET")
        set.append(bytes: [0x6B, 0, 0xFF])  // key with NUL and invalid UTF-8 too
        set.append(bytes: value)
        #expect(try connection.send(set) == .status("OK"))
        var get = RedisCommand("GET")
        get.append(bytes: [0x6B, 0, 0xFF])
        let reply = try connection.send(get)
        #expect(reply == .bulk(value))
        #expect(try reply.bytes == value)
        _ = try reply.string  // lossy, must not trap
        #expect(try connection.command("GET", "missing") == .null)
        #expect(try connection.command("SET", "empty", "") == .status("OK"))
        #expect(try connection.command("GET", "empty") == .bulk([]))
        #expect(try connection.command("STRLEN", "empty") == .integer(0))
    }

    @Test func replyViewsReadRepliesInPlace() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        _ = try connection.command("HSET", "h", "ts", "1795168800000", "title", "Crème")
        _ = try connection.command("SET", "s", "x")
        var seen: [String] = []
        try connection.pipeline([
            RedisCommand("HGETALL", "h"), RedisCommand("GET", "missing"), RedisCommand("INCR", "n"),
            RedisCommand("HGETALL", "s"), RedisCommand("PING"), RedisCommand("GET", "s"),
        ]) { index, reply in
            switch index {
            case 0:
                #expect(reply.kind == .array)
                #expect(reply.count == 4)
                var fields: [String: String] = [:]
                for (name, value) in reply.pairs { fields[name.text] = value.text }
                #expect(fields == ["ts": "1795168800000", "title": "Crème"])
                #expect((0..<reply.count).contains { reply[$0].equals("ts") })
                #expect(!(0..<reply.count).contains { reply[$0].equals("t") })
            case 1:
                #expect(reply.kind == .null)
                #expect(reply.count == 0)
                #expect(reply.withBytes { $0.count } == 0)
            case 2:
                #expect(reply.kind == .integer)
                #expect(reply.integer == 1)
            case 3:
                #expect(reply.kind == .error)
                #expect(reply.text.hasPrefix("WRONGTYPE"))
                #expect(reply.reply == .error(reply.text))
            case 4:
                #expect(reply.kind == .status)
                #expect(reply.equals("PONG"))
            default:
                #expect(reply.kind == .string)
                #expect(reply.reply == .bulk([UInt8(ascii: "x")]))
            }
            seen.append("\(index)")
        }
        #expect(seen == ["0", "1", "2", "3", "4", "5"])
        #expect(try connection.command("PING") == .status("PONG"), "the connection is in step after a view pipeline")
    }

    @Test func writtenCommandsRunBeforeTheirRepliesAreRead() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let observer = try server.connect()
        try connection.write([RedisCommand("SET", "a", "1"), RedisCommand("INCR", "n"), RedisCommand("GET", "a")])
        // Nothing was read on `connection`, yet the server has run the commands.
        var seen = RedisReply.null
        for _ in 0..<200 where seen == .null {
            seen = try observer.command("GET", "n")
            if seen == .null { usleep(5000) }
        }
        #expect(seen == .bulk(Array("1".utf8)))

        // While replies are owed, a call that reads its own reply refuses instead of taking one of them.
        #expect { try connection.send(RedisCommand("PING")) } throws: {
            ($0 as? RedisError)?.kind == .protocolViolation && "\($0)".contains("3 replies")
        }
        #expect(!connection.isBroken)

        var replies: [RedisReply] = []
        try connection.readReplies(3) { index, reply in
            #expect(replies.count == index)
            replies.append(reply.reply)
        }
        #expect(replies == [.status("OK"), .integer(1), .bulk(Array("1".utf8))])
        #expect(try connection.command("PING") == .status("PONG"))
        #expect { try connection.readReplies(1) { _, _ in } } throws: { ($0 as? RedisError)?.kind == .protocolViolation }
    }

    @Test func writtenTransactionReportsItsOutcome() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let other = try server.connect()
        // A transaction with a WATCH written behind it in the same write; both read back in order.
        try connection.write([RedisCommand("WATCH", "lease")])
        try connection.readReplies(1) { _, _ in }
        let first = try connection.write(transaction: [RedisCommand("SET", "k", "v")],
                                         followedBy: [RedisCommand("WATCH", "lease"), RedisCommand("GET", "lease")])
        guard case .executed(let errors) = try connection.outcome(of: first) else {
            Issue.record("the first transaction did not execute")
            return
        }
        #expect(errors.isEmpty)
        var lease: [RedisReply] = []
        try connection.readReplies(2) { _, reply in lease.append(reply.reply) }
        #expect(lease == [.status("OK"), .null])
        #expect(try connection.command("PING") == .status("PONG")) // no reply left unread
        // The WATCH written after the first EXEC guards the second transaction.
        _ = try other.command("SET", "lease", "someone-else")
        let second = try connection.write(transaction: [RedisCommand("SET", "k", "w")])
        guard case .watchFailed = try connection.outcome(of: second) else {
            Issue.record("the WATCHed key changed, yet the transaction ran")
            return
        }
        #expect(try other.command("GET", "k") == .bulk(Array("v".utf8)))
    }

    @Test func largeValueRoundTrip() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let value = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var set = RedisCommand("SET", "big")
        set.append(bytes: value)
        #expect(try connection.send(set) == .status("OK"))
        #expect(try connection.command("GET", "big") == .bulk(value))
    }

    @Test func pipelineOfTenThousandKeepsOrder() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let commands = (0..<10_000).map { _ in RedisCommand("INCR", "counter") }
        let replies = try connection.pipeline(commands)
        #expect(replies.count == 10_000)
        #expect(replies == (1...10_000).map { RedisReply.integer(Int64($0)) })

        var sets: [RedisCommand] = []
        for i in 0..<10_000 {
            var set = RedisCommand("SET")
            set.append("key:\(i)")
            set.append(i)
            sets.append(set)
        }
        #expect(try connection.pipeline(sets).allSatisfy { $0 == .status("OK") })
        let gets = (0..<10_000).map { RedisCommand("GET", "key:\($0)") }
        let values = try connection.pipeline(gets)
        #expect(values.count == 10_000)
        for (i, value) in values.enumerated() where try value.int != Int64(i) {
            Issue.record("reply \(i) is \(value)")
            break
        }
        #expect(try connection.pipeline([]) == [])
        // The connection is still usable afterwards.
        #expect(try connection.command("PING") == .status("PONG"))
    }

    @Test func serverErrorsInPipelinesAndCommands() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let replies = try connection.pipeline([
            RedisCommand("SET", "s", "x"),
            RedisCommand("LPUSH", "s", "y"),
            RedisCommand("GET", "s"),
            RedisCommand("NOSUCHCOMMAND"),
            RedisCommand("XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "nostream", ">"),
            RedisCommand("INCR", "n"),
        ])
        #expect(replies.count == 6)
        #expect(replies[0] == .status("OK"))
        guard case .error(let wrongType) = replies[1] else { Issue.record("expected error, got \(replies[1])"); return }
        #expect(wrongType.hasPrefix("WRONGTYPE"))
        #expect(replies[2] == .bulk(Array("x".utf8)))
        guard case .error(let unknown) = replies[3] else { Issue.record("expected error"); return }
        #expect(unknown.hasPrefix("ERR unknown command"))
        guard case .error(let noGroup) = replies[4] else { Issue.record("expected error"); return }
        #expect(noGroup.hasPrefix("NOGROUP"))
        #expect(replies[5] == .integer(1))

        // send() returns the error reply; command() throws it.
        guard case .error = try connection.send(RedisCommand("LPUSH", "s", "y")) else {
            Issue.record("send should return .error"); return
        }
        let thrown = #expect(throws: RedisError.self) { try connection.command("LPUSH", "s", "y") }
        #expect(thrown?.kind == .server(code: "WRONGTYPE"))
        #expect(thrown?.isRetryable == false)
        #expect(thrown?.message.contains("LPUSH") == true)
        let nogroup = #expect(throws: RedisError.self) {
            try connection.command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nostream", ">")
        }
        #expect(nogroup?.kind == .server(code: "NOGROUP"))
        #expect(nogroup?.hint.contains("XGROUP CREATE") == true)
        #expect(!connection.isBroken)
        #expect(try connection.command("GET", "s") == .bulk(Array("x".utf8)))
    }

    @Test func emptyCommandIsRejectedLocally() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        let error = #expect(throws: RedisError.self) { try connection.send(RedisCommand([])) }
        #expect(error?.kind == .protocolViolation)
        #expect(!connection.isBroken)
        #expect(try connection.command("PING") == .status("PONG"))
    }

    @Test func aclUserFromURL() throws {
        let server = try RedisTestServer()
        let admin = try server.connect()
        #expect(try admin.command("ACL", "SETUSER", "alice", "on", ">p@ss:w/rd", "~*", "&*", "+@all") == .status("OK"))
        #expect(try admin.command("ACL", "SETUSER", "reader", "on", ">r", "~*", "+get", "+ping") == .status("OK"))

        let url = try RedisURL(parsing: "redis://alice:p%40ss%3Aw%2Frd@127.0.0.1:\(server.port)/2")
        let alice = try RedisConnection(url: url)
        #expect(try alice.command("ACL", "WHOAMI") == .bulk(Array("alice".utf8)))
        #expect(try alice.command("SET", "in-db-2", "1") == .status("OK"))
        #expect(try admin.command("EXISTS", "in-db-2") == .integer(0))  // admin is on db 0

        let wrong = try RedisURL(parsing: "redis://alice:nottheone@127.0.0.1:\(server.port)")
        let error = #expect(throws: RedisError.self) { try RedisConnection(url: wrong) }
        #expect(error?.kind == .server(code: "WRONGPASS"))
        #expect(error?.description.contains("nottheone") == false)
        #expect(error?.description.contains("alice") == true)
        #expect(error?.hint.contains("--redis-url") == true)

        let reader = try RedisConnection(url: RedisURL(parsing: "redis://reader:r@127.0.0.1:\(server.port)"))
        let denied = #expect(throws: RedisError.self) { try reader.command("SET", "k", "v") }
        #expect(denied?.kind == .server(code: "NOPERM"))
    }

    @Test func requirePassOnDefaultUser() throws {
        let server = try RedisTestServer(extraArguments: ["--requirepass", "letmein"])
        #expect(server.url.password == "letmein")
        #expect(try server.connect().command("PING") == .status("PONG"))
        #expect(try RedisURL(parsing: server.urlString) == server.url)
        let noAuth = try RedisConnection(url: RedisURL(host: "127.0.0.1", port: server.port))
        let error = #expect(throws: RedisError.self) { try noAuth.command("PING") }
        #expect(error?.kind == .server(code: "NOAUTH"))
        let ok = try RedisConnection(url: RedisURL(parsing: "redis://:letmein@127.0.0.1:\(server.port)"))
        #expect(try ok.command("PING") == .status("PONG"))
    }

    @Test func connectionRefusedNamesURLAndHint() throws {
        let closed = try ClosedLoopbackPort()
        let port = closed.port
        let url = try RedisURL(parsing: "redis://u:hidden@127.0.0.1:\(port)")
        let error = withExtendedLifetime(closed) {
            #expect(throws: RedisError.self) { try RedisConnection(url: url, connectTimeoutMs: 500) }
        }
        let text = error?.description ?? ""
        #expect(error?.kind == .connection)
        #expect(error?.isRetryable == true)
        #expect(text.contains("cannot connect to redis://u:***@127.0.0.1:\(port)"), "\(text)")
        #expect(text.contains("Connection refused"), "\(text)")
        #expect(text.contains("redis-server running"), "\(text)")
        #expect(!text.contains("hidden"))
    }

    @Test func killedServerBreaksTheConnection() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        #expect(try connection.command("PING") == .status("PONG"))
        server.kill()
        let error = #expect(throws: RedisError.self) { try connection.command("PING") }
        #expect(error?.kind == .connection)
        #expect(error?.description.contains("redis://127.0.0.1:\(server.port)") == true)
        #expect(connection.isBroken)
        // Further calls fail fast, also pipelines.
        let again = #expect(throws: RedisError.self) { try connection.pipeline([RedisCommand("PING")]) }
        #expect(again?.kind == .connection)
        #expect(again?.message.contains("broken") == true)

        // After a restart a new connection works and the old one stays broken.
        try server.restart()
        #expect(try server.connect().command("PING") == .status("PONG"))
        #expect(throws: RedisError.self) { try connection.command("PING") }
    }

    @Test func killedServerMidPipelineThrowsConnection() throws {
        let server = try RedisTestServer()
        let connection = try server.connect()
        _ = try connection.command("PING")
        server.kill()
        let error = #expect(throws: RedisError.self) {
            try connection.pipeline((0..<5_000).map { RedisCommand("SET", "k\($0)", String(repeating: "v", count: 100)) })
        }
        #expect(error?.kind == .connection)
        #expect(connection.isBroken)
    }

    @Test func commandTimeoutBreaksTheConnection() throws {
        let server = try RedisTestServer()
        let connection = try server.connect(commandTimeoutMs: 200)
        let error = #expect(throws: RedisError.self) { try connection.command("BLPOP", "nothing", "3") }
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        #expect(error?.message.contains("200 ms") == true)
        #expect(connection.isBroken)
        #expect(throws: RedisError.self) { try connection.command("PING") }

        // A longer timeout lets a blocking command finish.
        let patient = try server.connect(commandTimeoutMs: 200)
        patient.setCommandTimeout(ms: 3000)
        #expect(try patient.command("BLPOP", "nothing", "0.5") == .null)
        #expect(!patient.isBroken)
    }

    @Test func hostNameAndDatabaseFromURL() throws {
        let server = try RedisTestServer()
        let connection = try RedisConnection(url: RedisURL(parsing: "redis://localhost:\(server.port)/5"))
        #expect(try connection.command("SET", "k", "v") == .status("OK"))
        #expect(try server.connect().command("SELECT", "5") == .status("OK"))
        let bad = #expect(throws: RedisError.self) {
            try RedisConnection(url: RedisURL(parsing: "redis://127.0.0.1:\(server.port)/99"))
        }
        #expect(bad?.kind == .server(code: "ERR"))
        #expect(bad?.message.contains("SELECT 99") == true)
    }

    @Test func zeroTimeoutWaitsForever() throws {
        let server = try RedisTestServer()
        let connection = try server.connect(connectTimeoutMs: 300, commandTimeoutMs: 0)
        #expect(try connection.command("BLPOP", "nothing", "0.6") == .null)
        #expect(!connection.isBroken)
    }

    @Test func serverIsCleanedUpOnDeinit() throws {
        var server: RedisTestServer? = try RedisTestServer()
        let directory = server!.directory
        let pid = try #require(server?.pid)
        #expect(FileManager.default.fileExists(atPath: directory))
        server = nil
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(kill(pid, 0) != 0)  // process is gone (and reaped)
    }

    @Test func gracefulStopReachesRedis() throws {
        // Regression: Process children inherited a signal mask with SIGTERM blocked.
        let server = try RedisTestServer()
        let started = Date()
        server.stop()
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(server.logTail(lines: 50).contains("Received SIGTERM"))
    }

    @Test func restartKeepsAppendOnlyData() throws {
        let server = try RedisTestServer(extraArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        try server.connect().command("SET", "durable", "yes")
        server.stop()
        #expect(!server.isRunning)
        try server.restart()
        #expect(try server.connect().command("GET", "durable") == .bulk(Array("yes".utf8)))
        // And after a crash too (appendfsync always: the write is on disk).
        try server.connect().command("SET", "durable2", "yes")
        server.kill()
        try server.restart()
        #expect(try server.connect().command("GET", "durable2") == .bulk(Array("yes".utf8)))
    }

    @Test func manyServersInParallel() async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let server = try RedisTestServer()
                    let connection = try server.connect()
                    #expect(try connection.command("PING") == .status("PONG"))
                    return server.port
                }
            }
            var ports: [Int] = []
            for try await port in group { ports.append(port) }
            #expect(Set(ports).count == ports.count)
        }
    }

    @Test func productLocatorExplainsMissingProduct() throws {
        let error = #expect(throws: TestSupportError.self) { try ProductLocator.executable(named: "no-such-product-xyz") }
        #expect(error?.description.contains("swift build") == true)
        #expect(!ProductLocator.candidateDirectories().isEmpty)
    }
}
