import ArgumentParser
import DupWatchCLI
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

    /// A dead letter with its `payload` as the object it is, not a string to parse again.
    struct Output: Encodable {
        var id: String
        var source_stream: String?
        var source_id: String?
        var reason: String?
        var payload: FieldsObject?
        var deliveries: String?
        var last_error: String?
    }

    func run() throws {
        let keys = KeySchema()
        let entries = try connection.connect().send(
            RedisCommand("XREVRANGE", keys.deadLetterStream, "+", "-", "COUNT", String(count)),
            decode: StreamCommands.decodeEntries)
        if json {
            try JSONOutput.print(entries.map { entry in
                func field(_ name: String) -> String? { entry.value(of: name).map { String(decoding: $0, as: UTF8.self) } }
                return Output(id: entry.id, source_stream: field("source_stream"), source_id: field("source_id"),
                              reason: field("reason"),
                              payload: entry.value(of: "payload").flatMap(DeadLetterPayload.fields).map(FieldsObject.init),
                              deliveries: field("deliveries"), last_error: field("last_error"))
            })
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
            throw CommandFailure("dead letter \(id) has no known source_stream; nothing replayed")
        }
        guard let payload = entry.value(of: "payload"), let fields = DeadLetterPayload.fields(payload), !fields.isEmpty else {
            throw CommandFailure("dead letter \(id) has no payload that can be replayed (an empty or trimmed entry); drop it instead")
        }
        let add = StreamCommands.xadd(sourceName, fields: fields.map { StreamField(name: $0.name, value: $0.value) })
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

/// The dead letter `id`; a clear failure (exit 1, no usage text) when there is none.
private func deadLetter(_ id: String, keys: KeySchema, on redis: RedisConnection) throws -> StreamEntry {
    guard EntryID(id) != nil else {
        throw CommandFailure("\(Quoted.string(id)) is not a stream entry id (<ms>-<seq>); see `dupwatch deadletter list`")
    }
    guard let entry = try redis.send(RedisCommand("XRANGE", keys.deadLetterStream, id, id), decode: StreamCommands.decodeEntries).first else {
        throw CommandFailure("no dead letter with id \(id) in \(keys.deadLetterStream); see `dupwatch deadletter list`")
    }
    return entry
}
