import ArgumentParser
import DupWatchCore
import DupWatchStore
import RedisClient

struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract: "Look at, re-inject or discard entries in stream:deadletter.",
        subcommands: [DeadLetterList.self, DeadLetterReplay.self, DeadLetterDrop.self])
}

struct DeadLetterList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The newest dead letters first.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "How many to show.") var count: Int = 20
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let keys = KeySchema()
        let reply = try connection.connect().command("XREVRANGE", keys.deadLetterStream, "+", "-", "COUNT", String(count))
        let entries = try StreamCommands.decodeEntries(reply)
        if json {
            print(JSONValue.array(entries.map { entry in
                .object([("id", .string(entry.id))] + (entry.fields ?? []).map { ($0.nameString, .string($0.valueString)) })
            }).rendered)
            return
        }
        guard !entries.isEmpty else {
            print("No dead letters in \(keys.deadLetterStream).")
            return
        }
        var table = TextTable("ID", "SOURCE", "SOURCE ID", "REASON", "PAYLOAD")
        for entry in entries {
            func field(_ name: String) -> String { entry.value(of: name).map { String(decoding: $0, as: UTF8.self) } ?? "" }
            let payload = field("payload")
            table.add(entry.id, field("source_stream"), field("source_id"), field("reason"),
                      payload.count > 80 ? String(payload.prefix(77)) + "..." : payload)
        }
        print(table.rendered)
    }
}

struct DeadLetterReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-inject a dead letter's original fields into its source stream (after a fix) and remove it.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The dead letter's entry id (see `dupwatch deadletter list`).") var id: String

    func run() throws {
        let keys = KeySchema()
        let redis = try connection.connect()
        let entry = try deadLetter(id, keys: keys, on: redis)
        guard let sourceName = entry.value(of: "source_stream").map({ String(decoding: $0, as: UTF8.self) }),
              keys.source(ofStream: sourceName) != nil else {
            throw ValidationError("dead letter \(id) has no known source_stream; nothing replayed")
        }
        guard let payload = entry.value(of: "payload"), let fields = DeadLetterPayload.fields(payload), !fields.isEmpty else {
            throw ValidationError("dead letter \(id) has no payload that can be replayed (an empty or trimmed entry); drop it instead")
        }
        var add = RedisCommand("XADD")
        add.append(sourceName)
        add.append("*")
        for field in fields {
            add.append(bytes: field.name)
            add.append(bytes: field.value)
        }
        let replies = try redis.pipeline([RedisCommand("MULTI"), add, RedisCommand("XDEL", keys.deadLetterStream, id), RedisCommand("EXEC")])
        let results = try replies[3].throwIfError().array
        print("replayed dead letter \(id) into \(sourceName) as \(try results[0].throwIfError().string)")
    }
}

struct DeadLetterDrop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drop", abstract: "Discard a dead letter.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The dead letter's entry id.") var id: String

    func run() throws {
        let keys = KeySchema()
        let redis = try connection.connect()
        _ = try deadLetter(id, keys: keys, on: redis)
        _ = try redis.command("XDEL", keys.deadLetterStream, id)
        print("dropped dead letter \(id)")
    }
}

private func deadLetter(_ id: String, keys: KeySchema, on redis: RedisConnection) throws -> StreamEntry {
    let reply = try redis.command("XRANGE", keys.deadLetterStream, id, id)
    guard let entry = try StreamCommands.decodeEntries(reply).first else {
        throw ValidationError("no dead letter with id \(id) in \(keys.deadLetterStream); see `dupwatch deadletter list`")
    }
    return entry
}
