import ArgumentParser
import DupWatchCLI
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

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int = 8080

    @Option(name: .customLong("api-keys"), help: """
        The API key file: one `KEY SCOPE[,SCOPE]` per line (# comments allowed), keys at least \
        16 characters. Default: $DUPWATCH_API_KEYS_FILE; or the lines themselves in \
        $DUPWATCH_API_KEYS (separated by newlines or `;`).
        """)
    var apiKeys: String?

    @Option(help: "The shop's origin, allowed to call the API from its pages (CORS), e.g. https://shop.example; * allows any.")
    var corsOrigin: String?

    @Option(help: "Largest request body accepted, in bytes (413 above).")
    var maxBodyBytes: Int = 64 * 1024

    @Option(help: "Most lines in one order or check (400 too_many_items above).")
    var maxItems: Int = 100

    @Option(help: "Live alert streams one API key may hold open (429 above).")
    var maxStreamsPerKey: Int = 1_000

    @Option(help: "Live alert streams the server holds open in all (429 above).")
    var maxStreams: Int = 20_000

    @Option(help: "Redis connections (lanes) the API's requests share.")
    var redisLanes: Int = 8

    @Option(help: "How many of the last stored orders checks look at (as the worker's --history-depth).")
    var historyDepth: Int = 5

    @Option(help: "As the worker's --cart-gap (4h, 90m, ...); used by checks.")
    var cartGap: Duration = .seconds(4 * 3600)

    @Option(help: "Where openapi.json and demo/ are, if not beside the executable (DupWatch_DupWatchHTTP.resources/Resources).")
    var staticDir: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard (1...500).contains(maxItems) else { throw ValidationError("--max-items must be 1...500") }
        guard maxStreamsPerKey >= 1, maxStreams >= 1 else { throw ValidationError("--max-streams and --max-streams-per-key must be at least 1") }
        guard (1...256).contains(redisLanes) else { throw ValidationError("--redis-lanes must be 1...256") }
        guard (1...1000).contains(historyDepth) else { throw ValidationError("--history-depth must be 1...1000") }
    }

    func run() async throws {
        try connection.bootstrapLogging()
        let logger = Logger(label: "dupwatch.serve")
        let keyring = try loadKeys()
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: connection.urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.corsOrigin = corsOrigin
        settings.maxBodyBytes = maxBodyBytes
        settings.maxItems = maxItems
        settings.live.maxStreamsPerKey = maxStreamsPerKey
        settings.live.maxStreams = maxStreams
        settings.historyDepth = historyDepth
        settings.cartGap = cartGap
        let registry = PrometheusBackend.bootstrap()
        let server = DupWatchServer(seeds: seeds, lanes: redisLanes, settings: settings, logger: logger)
        let host = self.host
        let app = server.application(settings: settings, keyring: keyring, registry: registry, staticDirectory: staticDir,
                                     logger: logger) { port in
            logger.info("dupwatch serve listening on http://\(host):\(port) (\(keyring.count) API keys; redis \(seeds[0]))")
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

    /// --api-keys FILE, else $DUPWATCH_API_KEYS_FILE, else the lines in $DUPWATCH_API_KEYS.
    private func loadKeys() throws -> APIKeyring {
        let environment = ProcessInfo.processInfo.environment
        let text: String
        let source: String
        if let path = apiKeys ?? environment["DUPWATCH_API_KEYS_FILE"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the API key file \(path): it does not exist or is not readable")
            }
            text = String(decoding: data, as: UTF8.self)
            source = path
        } else if let inline = environment["DUPWATCH_API_KEYS"] {
            text = inline.replacingOccurrences(of: ";", with: "\n")
            source = "$DUPWATCH_API_KEYS"
        } else {
            throw ValidationError("no API keys: pass --api-keys FILE (lines `KEY SCOPE[,SCOPE]`, scopes ingest, read, admin), or set DUPWATCH_API_KEYS_FILE")
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
