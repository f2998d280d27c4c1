import Testing
import RedisClient

private func text(_ command: RedisCommand) -> String {
    String(decoding: command.encoded, as: UTF8.self)
}

@Suite("RESP encoding and reply accessors")
struct RedisCommandTests {
    @Test func nameOnly() {
        #expect(text(RedisCommand("PING")) == "*1\r\n$4\r\nPING\r\n")
    }

    @Test func variadicAndArrayFormsAgree() {
        let a = RedisCommand("XACK", "stream", "group", "1-0")
        let b = RedisCommand(["XACK", "stream", "group", "1-0"])
        #expect(a.encoded == b.encoded)
        #expect(text(a) == "*4\r\n$4\r\nXACK\r\n$6\r\nstream\r\n$5\r\ngroup\r\n$3\r\n1-0\r\n")
        #expect(a.argumentCount == 4)
        #expect(a.encodedCount == a.encoded.count)
    }

    @Test func integersAndBytes() {
        var command = RedisCommand("SET")
        command.append(bytes: [0, 0xFF, 13, 10])
        command.append(0)
        command.append(-42)
        command.append(Int64.max)
        command.append(Int64.min)
        #expect(text(command) == "*6\r\n$3\r\nSET\r\n$4\r\n\u{0}\u{FFFD}\r\n\r\n$1\r\n0\r\n$3\r\n-42\r\n"
            + "$19\r\n9223372036854775807\r\n$20\r\n-9223372036854775808\r\n")
        #expect(Array(command.encoded[17..<21]) == [0, 0xFF, 13, 10])
    }

    @Test func utf8AndEmptyArguments() {
        var command = RedisCommand("SET", "ключ", "")
        command.append("€")
        #expect(text(command) == "*4\r\n$3\r\nSET\r\n$8\r\nключ\r\n$0\r\n\r\n$3\r\n€\r\n")
    }

    @Test func headerGrowsPastTenAndThousandArguments() {
        var command = RedisCommand("DEL")
        for i in 0..<1234 { command.append("k\(i)") }
        let encoded = text(command)
        #expect(encoded.hasPrefix("*1235\r\n$3\r\nDEL\r\n$2\r\nk0\r\n"))
        #expect(encoded.hasSuffix("$5\r\nk1233\r\n"))
        #expect(command.argumentCount == 1235)
    }

    @Test func copiesAreIndependent() {
        let base = RedisCommand("GET")
        var a = base
        a.append("a")
        #expect(text(base) == "*1\r\n$3\r\nGET\r\n")
        #expect(text(a) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    }

    @Test func replyAccessors() throws {
        #expect(try RedisReply.bulk(Array("hi".utf8)).string == "hi")
        #expect(try RedisReply.status("OK").string == "OK")
        #expect(try RedisReply.bulk([0xFF]).string == "\u{FFFD}")
        #expect(try RedisReply.integer(7).int == 7)
        #expect(try RedisReply.bulk(Array("-12".utf8)).int == -12)
        #expect(try RedisReply.null.optionalString == nil)
        #expect(try RedisReply.bulk([65]).optionalString == "A")
        #expect(RedisReply.null.isNull)
        #expect(try RedisReply.array([.integer(1)]).array == [.integer(1)])
        #expect(try RedisReply.bulk([1, 2]).bytes == [1, 2])

        let shape = #expect(throws: RedisError.self) { try RedisReply.integer(1).string }
        #expect(shape?.kind == .protocolViolation)
        #expect(throws: RedisError.self) { try RedisReply.bulk(Array("12a".utf8)).int }
        #expect(throws: RedisError.self) { try RedisReply.bulk(Array("99999999999999999999".utf8)).int }
        #expect(throws: RedisError.self) { try RedisReply.null.array }

        let server = #expect(throws: RedisError.self) { try RedisReply.error("WRONGTYPE Operation against a key").throwIfError() }
        #expect(server?.kind == .server(code: "WRONGTYPE"))
        #expect(try RedisReply.integer(3).throwIfError() == .integer(3))
        // An error reply read through an accessor surfaces as the server error, not as a shape error.
        let viaAccessor = #expect(throws: RedisError.self) { try RedisReply.error("NOGROUP No such key").string }
        #expect(viaAccessor?.kind == .server(code: "NOGROUP"))
    }

    @Test func errorClassification() {
        let oom = RedisError.server("OOM command not allowed when used memory > 'maxmemory'.")
        #expect(oom.kind == .server(code: "OOM"))
        #expect(oom.isRetryable)
        #expect(oom.hint.contains("maxmemory"))
        #expect(oom.description == "\(oom.message) — \(oom.hint)")
        #expect(RedisError.server("LOADING Redis is loading the dataset in memory").isRetryable)
        #expect(RedisError.server("BUSY Redis is busy running a script").isRetryable)
        #expect(RedisError.server("READONLY You can't write against a read only replica.").isRetryable)
        #expect(!RedisError.server("WRONGTYPE Operation against a key").isRetryable)
        #expect(!RedisError.server("NOGROUP No such key").isRetryable)
        #expect(!RedisError.server("ERR unknown command").isRetryable)
        #expect(RedisError(kind: .connection, message: "x").isRetryable)
        #expect(RedisError(kind: .timeout, message: "x").isRetryable)
        #expect(!RedisError(kind: .protocolViolation, message: "x").isRetryable)
        #expect(RedisError.server("NOPERM this user has no permissions").hint.contains("--redis-url"))
        #expect(RedisError.server("WRONGPASS invalid username-password pair").hint.contains("--redis-url"))
        #expect(RedisError.server("").kind == .server(code: "ERR"))
    }
}
