import Foundation
import Hummingbird
import Logging
import NIOCore

/// The files the server hands out as they are: the OpenAPI document and the demo page. They are
/// the target's resources (Sources/DupWatchHTTP/Resources), read once at start from the
/// resource folder SwiftPM puts beside the executable; `--static-dir` names another place (an
/// installed binary). Missing files answer 404 with where they were looked for.
struct StaticFiles: Sendable {
    let root: URL?
    let searched: [String]
    private let files: [String: (type: String, bytes: [UInt8])]

    static let bundleName = "DupWatch_DupWatchHTTP.resources"

    init(directory: String?, logger: Logger) {
        var candidates: [URL] = []
        if let directory { candidates.append(URL(fileURLWithPath: directory)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent(Self.bundleName).appendingPathComponent("Resources"))
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(Self.bundleName) }) {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).appendingPathComponent("Resources"))
        }
        // Tests and `swift run` from the checkout.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources"))
        searched = candidates.map(\.path)
        root = candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("openapi.json").path) }
        var files: [String: (type: String, bytes: [UInt8])] = [:]
        if let root {
            for path in ["openapi.json", "demo/index.html", "demo/demo.css", "demo/demo.js",
                         "dashboard/index.html", "dashboard/dashboard.css", "dashboard/dashboard.js"] {
                guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else { continue }
                files[path] = (Self.mediaType(of: path), Array(data))
            }
        } else {
            logger.warning("the demo page and openapi.json were not found (looked in \(searched.joined(separator: ", "))); pass --static-dir")
        }
        self.files = files
    }

    func response(_ path: String) throws -> Response {
        guard let file = files[path] else {
            // Where the server looked is in its log, not in an answer to anyone who asks.
            throw APIError.notFound(root == nil
                ? "/\(path) is not available: this server was started without its static files (see its log)"
                : "no such file: /\(path)")
        }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    static func mediaType(of path: String) -> String {
        if path.hasSuffix(".json") { return "application/json; charset=utf-8" }
        if path.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if path.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if path.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        return "application/octet-stream"
    }
}
