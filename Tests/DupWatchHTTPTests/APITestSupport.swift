import DupWatchHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import RedisClient
import TestSupport
import Testing

/// The keys every API test uses: one per scope, and one with two.
enum TestKeys {
    static let ingest = "ingest-key-000000001"
    static let read = "read-key-00000000001"
    static let admin = "admin-key-0000000001"
    static let shop = "shop-key-00000000001"
    static let file = """
        # test keys
        \(ingest) ingest
        \(read) read
        \(admin) admin
        \(shop) read,ingest
        """

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
}

/// The real app, built as `dupwatch serve` builds it, against a throwaway Redis.
struct APITestApp {
    let harness: Harness
    let settings: ServerSettings

    init(settings: ServerSettings = ServerSettings()) throws {
        harness = try Harness()
        var settings = settings
        settings.host = "127.0.0.1"
        settings.port = 0
        self.settings = settings
    }

    func application() throws -> some ApplicationProtocol {
        let logger = Logger(label: "test.serve")
        let server = DupWatchServer(seeds: [harness.server.url], lanes: 2, settings: settings, logger: logger)
        return server.application(settings: settings, keyring: try APIKeyring(parsing: TestKeys.file),
                                  registry: PrometheusCollectorRegistry(), logger: logger)
    }

    func test<Value: Sendable>(_ setup: TestingSetup = .router,
                               _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await application().test(setup) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    /// POSTs a JSON text with `key`.
    func post(_ uri: String, key: String?, json: String) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, key: String?) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: key.map { [.authorization: "Bearer \($0)"] } ?? [:])
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object (Foundation's reader: a second, independent opinion).
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var errorCode: String? { object["error"] as? String }
}
