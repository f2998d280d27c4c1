import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import RedisClient

struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract: "Look at, re-inject or discard dead letters (stream:deadletter, and each partition's).",
        subcommands: [DeadLetterList.self, DeadLetterReplay.self, DeadLetterDrop.self])
}

/// Every dead-letter stream of the deployment: the shared one (a single partition's, or the
/// router's for entries without a customer) and, with partitions, each partition's.
private func deadLetterStreams(_ deployment: Deployment) -> [String] {
    var streams = [deployment.shared.deadLetterStream]
    if deployment.partitioning.count > 1 { streams += deployment.partitions.map(\.deadLetterStream) }
    return streams
}

struct DeadLetterList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The newest dead letters first.")

    @OptionGroup var connection: ConnectionOptions
    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("How many to show.", "count", default: "20")) var count: Int?
    @Flag(inversion: .prefixedNo, help: Settings.help("Print JSON.", "json", default: "off")) var json: Bool?

    /// The options resolved (command line, DUPWATCH_* variable, default).
    func resolved() throws -> (count: Int, json: Bool) {
        var settings = Settings()
        return (try settings.value(count, "count", default: 20), try settings.flag(json, "json"))
    }

    func validate() throws {
        _ = try resolved()
    }

    /// A dead letter with its `payload` as the object it is, not a string to parse again.
    struct Output: Encodable {
        var id: String
        /// The dead-letter stream it is in (one per partition in a partitioned deployment).
        var stream: String
        var source_stream: String?
        var source_id: String?
        var reason: String?
        var payload: FieldsObject?
        var deliveries: String?
        var last_error: String?
    }

    func run() throws {
        let (count, json) = try resolved()
        let deployment = try connection.deployment()
        var entries: [(stream: String, entry: StreamEntry)] = []
        for stream in deadLetterStreams(deployment) {
            let newest = try deployment.connection(forKey: stream).send(
                RedisCommand("XREVRANGE", stream, "+", "-", "COUNT", String(count)), decode: StreamCommands.decodeEntries)
            entries += newest.map { (stream, $0) }
        }
        entries.sort { (EntryID($0.entry.id) ?? EntryID(milliseconds: 0, sequence: 0)) > (EntryID($1.entry.id) ?? EntryID(milliseconds: 0, sequence: 0)) }
        entries = Array(entries.prefix(count))
        if json {
            JSONOutput.print(entries.map { stream, entry in
                func field(_ name: String) -> String? { entry.value(of: name).map { String(decoding: $0, as: UTF8.self) } }
                return Output(id: entry.id, stream: stream, source_stream: field("source_stream"), source_id: field("source_id"),
                              reason: field("reason"),
                              payload: entry.value(of: "payload").flatMap(DeadLetterPayload.fields).map(FieldsObject.init),
                              deliveries: field("deliveries"), last_error: field("last_error"))
            })
            return
        }
        guard !entries.isEmpty else {
            print("No dead letters in \(deadLetterStreams(deployment).joined(separator: ", ")).")
            return
        }
        var table = TextTable("ID", "SOURCE", "SOURCE ID", "REASON", "PAYLOAD")
        for (_, entry) in entries {
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
        abstract: "Re-inject a dead letter's original fields into its source stream (after a fix) and remove it.",
        discussion: """
            In a partitioned deployment fed by `dupwatch route`, the fields go back into the \
            unpartitioned stream of the same kind, so that the router places them: a partition \
            stream takes one ingress.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The dead letter's entry id (see `dupwatch deadletter list`).") var id: String
    @Option(help: Settings.help("The dead-letter stream that holds it, when the id is in more than one.", "stream"))
    var stream: String?

    func run() throws {
        var settings = Settings()
        let stream = try settings.value(self.stream, "stream")
        let deployment = try connection.deployment()
        let (letterStream, entry) = try deadLetter(id, in: stream, of: deployment)
        guard let sourceName = entry.value(of: "source_stream").map({ String(decoding: $0, as: UTF8.self) }),
              let source = sourceKind(of: sourceName, in: deployment) else {
            throw CommandFailure("dead letter \(id) has no known source_stream; nothing replayed")
        }
        guard let payload = entry.value(of: "payload"), let fields = DeadLetterPayload.fields(payload), !fields.isEmpty else {
            throw CommandFailure("dead letter \(id) has no payload that can be replayed (an empty or trimmed entry); drop it instead")
        }
        let routed = try deployment.partitioning.count > 1 && routerFeeds(deployment)
        let target = routed ? deployment.shared.stream(for: source) : sourceName
        let add = StreamCommands.xadd(target, fields: fields.map { StreamField(name: $0.name, value: $0.value) })
        let newID: String
        if deployment.redis.topology.masters.count == 1 {
            // One node: re-injected and removed together.
            let replies = try deployment.connection(forKey: target).pipeline([
                RedisCommand("MULTI"), add, RedisCommand("XDEL", letterStream, id), RedisCommand("EXEC"),
            ])
            newID = try replies[3].throwIfError().array[0].throwIfError().string
        } else {
            // On a cluster the two streams are on different slots: re-injected first, so that a
            // failure in between leaves the dead letter to drop rather than an entry lost.
            newID = try deployment.connection(forKey: target).send(add).throwIfError().string
            _ = try deployment.connection(forKey: letterStream).command("XDEL", letterStream, id)
        }
        print("replayed dead letter \(id) into \(target) as \(newID)")
    }

    /// Whether the router moves the unpartitioned streams into the partitions (its positions exist).
    private func routerFeeds(_ deployment: Deployment) throws -> Bool {
        let key = deployment.partitions[0].routerPosition
        return try !deployment.connection(forKey: key).command("HGETALL", key).array.isEmpty
    }

    private func sourceKind(of stream: String, in deployment: Deployment) -> EventSource? {
        ([deployment.shared] + deployment.partitions).lazy.compactMap { $0.source(ofStream: stream) }.first
    }
}

struct DeadLetterDrop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drop", abstract: "Discard a dead letter.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The dead letter's entry id.") var id: String
    @Option(help: Settings.help("The dead-letter stream that holds it, when the id is in more than one.", "stream"))
    var stream: String?

    func run() throws {
        var settings = Settings()
        let stream = try settings.value(self.stream, "stream")
        let deployment = try connection.deployment()
        let (letterStream, _) = try deadLetter(id, in: stream, of: deployment)
        _ = try deployment.connection(forKey: letterStream).command("XDEL", letterStream, id)
        print("dropped dead letter \(id)")
    }
}

/// The dead letter `id` and its stream; a clear failure (exit 1, no usage text) when there is
/// none, or when it is in several streams and `stream` does not say which.
private func deadLetter(_ id: String, in stream: String?, of deployment: Deployment) throws -> (String, StreamEntry) {
    guard EntryID(id) != nil else {
        throw CommandFailure("\(Quoted.string(id)) is not a stream entry id (<ms>-<seq>); see `dupwatch deadletter list`")
    }
    let streams = deadLetterStreams(deployment)
    if let stream, !streams.contains(stream) {
        throw CommandFailure("\(stream) is not a dead-letter stream of this deployment (\(streams.joined(separator: ", ")))")
    }
    var found: [(String, StreamEntry)] = []
    for candidate in stream.map({ [$0] }) ?? streams {
        let entries = try deployment.connection(forKey: candidate)
            .send(RedisCommand("XRANGE", candidate, id, id), decode: StreamCommands.decodeEntries)
        if let entry = entries.first { found.append((candidate, entry)) }
    }
    guard let first = found.first else {
        throw CommandFailure("no dead letter with id \(id) in \(streams.count == 1 ? streams[0] : "any dead-letter stream"); see `dupwatch deadletter list`")
    }
    guard found.count == 1 else {
        throw CommandFailure("dead letter \(id) is in \(found.map(\.0).joined(separator: " and ")); say which with --stream")
    }
    return first
}
