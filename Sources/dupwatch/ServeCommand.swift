import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import DupWatchHTTP
import Foundation
import Logging
import RedisClient
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API, live alerts, the demo page, /metrics, /healthz and /readyz.",
        discussion: """
            The API is under /v1 (see /v1/openapi.json), for callers with an API key from \
            --api-keys: a file of `KEY SCOPE[,SCOPE]` lines (scopes: ingest, read, admin). \
            Events are checked by the worker's rules and added to the input streams; a worker \
            (`dupwatch worker`) processes them.
            """)

    @OptionGroup var connection: ConnectionOptions

    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("Address to listen on.", "host", default: "127.0.0.1"))
    var host: String?

    @Option(help: Settings.help("Port to listen on (0: any free port, logged at start).", "port", default: "8080"))
    var port: Int?

    // `--api-keys` is the name the issue and the units use; the variable follows the option's
    // first name, `--api-keys-file`: DUPWATCH_API_KEYS_FILE.
    @Option(name: [.customLong("api-keys-file"), .customLong("api-keys")], help: Settings.help("""
        The API key file: one `KEY SCOPE[,SCOPE]` per line (# comments allowed; scopes ingest, \
        read, admin; keys at least 16 characters). Without it, the lines themselves from \
        $DUPWATCH_API_KEYS (separated by newlines or `;`).
        """, "api-keys-file"))
    var apiKeysFile: String?

    @Option(help: Settings.help("The shop's origin, allowed to call the API from its pages (CORS), e.g. https://shop.example; * allows any.",
                                "cors-origin", default: "none: same origin only"))
    var corsOrigin: String?

    @Option(help: Settings.help("Largest request body accepted, in bytes (413 above; at least 1024).", "max-body-bytes", default: "65536"))
    var maxBodyBytes: Int?

    @Option(help: Settings.help("Most lines in one order or check (400 too_many_items above; 1-500).", "max-items", default: "100"))
    var maxItems: Int?

    @Option(help: Settings.help("Live alert streams one API key may hold open (429 above).", "max-streams-per-key", default: "1000"))
    var maxStreamsPerKey: Int?

    @Option(help: Settings.help("Live alert streams the server holds open in all (429 above).", "max-streams", default: "20000"))
    var maxStreams: Int?

    // Few lanes make big batches: on two cores, 2 served checks and ingest best (bench-http.sh).
    @Option(help: Settings.help("Redis connections (lanes) the API's requests share; each batches the requests that wait for it (1-256).",
                                "redis-lanes", default: "2"))
    var redisLanes: Int?

    @Option(help: Settings.help("How many of the last stored orders checks look at, as the worker's (1-1000).",
                                "history-depth", default: "5"))
    var historyDepth: Int?

    @Option(help: Settings.help("As the worker's --cart-gap (4h, 90m, ...); used by checks.", "cart-gap", default: "4h"))
    var cartGap: Duration?

    @OptionGroup var noise: NoiseOptions

    @Option(help: Settings.help("How long each hour of feedback counts is kept, as the worker's analytics (0 = forever).",
                                "stats-retention", default: "90d"))
    var statsRetention: Duration?

    @Option(help: Settings.help("Where openapi.json and demo/ are, if not beside the executable.", "static-dir",
                                default: "DupWatch_DupWatchHTTP.resources/Resources beside the executable"))
    var staticDir: String?

    /// The options resolved (command line, DUPWATCH_* variable, default) and checked.
    struct Resolved {
        var server = ServerSettings()
        var lanes: Int
        var keysFile: String?
        var staticDir: String?
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        var r = Resolved(lanes: try settings.value(redisLanes, "redis-lanes", default: 2),
                         keysFile: try settings.value(apiKeysFile, "api-keys-file"),
                         staticDir: try settings.value(staticDir, "static-dir"))
        r.server.host = try settings.value(host, "host", default: "127.0.0.1")
        r.server.port = try settings.value(port, "port", default: 8080)
        r.server.corsOrigin = try settings.value(corsOrigin, "cors-origin")
        r.server.maxBodyBytes = try settings.value(maxBodyBytes, "max-body-bytes", default: 64 * 1024)
        r.server.maxItems = try settings.value(maxItems, "max-items", default: 100)
        r.server.live.maxStreamsPerKey = try settings.value(maxStreamsPerKey, "max-streams-per-key", default: 1_000)
        r.server.live.maxStreams = try settings.value(maxStreams, "max-streams", default: 20_000)
        r.server.historyDepth = try settings.value(historyDepth, "history-depth", default: 5)
        r.server.cartGap = try settings.value(cartGap, "cart-gap", default: .seconds(4 * 3600))
        r.server.statsRetention = try settings.value(statsRetention, "stats-retention", default: StatsSettings.defaultRetention)
        var rules = RuleConfig()
        try noise.apply(to: &rules, &settings)
        r.server.quietSKUs = rules.quietSKUs
        r.server.repeatCount = rules.repeatCount
        guard (0...65535).contains(r.server.port) else { throw settings.invalid("port", "must be 0...65535") }
        guard r.server.maxBodyBytes >= 1024 else { throw settings.invalid("max-body-bytes", "must be at least 1024") }
        guard (1...500).contains(r.server.maxItems) else { throw settings.invalid("max-items", "must be 1...500") }
        guard r.server.live.maxStreamsPerKey >= 1 else { throw settings.invalid("max-streams-per-key", "must be at least 1") }
        guard r.server.live.maxStreams >= 1 else { throw settings.invalid("max-streams", "must be at least 1") }
        guard (1...256).contains(r.lanes) else { throw settings.invalid("redis-lanes", "must be 1...256") }
        guard (1...1000).contains(r.server.historyDepth) else { throw settings.invalid("history-depth", "must be 1...1000") }
        return r
    }

    func validate() throws {
        _ = try resolved()
    }

    func run() async throws {
        let options = try resolved()
        try connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.serve")
        let keyring = try loadKeys(file: options.keysFile)
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        let settings = options.server
        let registry = PrometheusBackend.bootstrap()
        let server = DupWatchServer(seeds: seeds, lanes: options.lanes, settings: settings, logger: logger)
        let app = server.application(settings: settings, keyring: keyring, registry: registry,
                                     staticDirectory: options.staticDir, logger: logger) { port in
            logger.info("dupwatch serve listening on http://\(settings.host):\(port) (\(keyring.count) API keys; redis \(seeds[0]))")
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("serve failed: \(error)")
            throw ExitCode(1)
        }
        server.lanes.close()
    }

    /// The key file, else the lines in $DUPWATCH_API_KEYS.
    private func loadKeys(file: String?) throws -> APIKeyring {
        let text: String
        let source: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read the API key file \(file): it does not exist or is not readable by this user")
            }
            text = String(decoding: data, as: UTF8.self)
            source = file
        } else if let inline = ProcessInfo.processInfo.environment["DUPWATCH_API_KEYS"], !inline.isEmpty {
            text = inline.replacingOccurrences(of: ";", with: "\n")
            source = "$DUPWATCH_API_KEYS"
        } else {
            throw ValidationError("""
                no API keys: pass --api-keys FILE (or set DUPWATCH_API_KEYS_FILE), a file of `KEY SCOPE[,SCOPE]` lines \
                (scopes ingest, read, admin), or put the lines in DUPWATCH_API_KEYS
                """)
        }
        do {
            let keyring = try APIKeyring(parsing: text)
            guard keyring.count > 0 else { throw ValidationError("\(source) lists no API key") }
            return keyring
        } catch let error as APIKeyFileError {
            throw ValidationError("\(source), \(error)")
        }
    }
}
