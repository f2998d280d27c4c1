import Foundation

/// A plain HTTP/1.1 client over a loopback socket, for tests that talk to a real `dupwatch
/// serve` process: one request per connection (`Connection: close`), or a connection held
/// open to read a Server-Sent Events stream line by line.
public final class LoopbackHTTP: @unchecked Sendable {
    public struct Response: Sendable, CustomStringConvertible {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        public var description: String { "\(status) \(body)" }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestSupportError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    public func send(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil,
                     keepOpen: Bool = false) throws {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if !keepOpen { text += "Connection: close\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestSupportError("send failed: errno \(errno)") }
            sent += n
        }
    }

    /// The next line (without CRLF), or nil at end of stream; throws after `timeout` seconds.
    public func readLine(timeout: Double) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill(until: deadline) else {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
        }
    }

    /// Reads bytes into the buffer; false at end of stream.
    private func fill(until deadline: Date) throws -> Bool {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw TestSupportError("no data from the server in time") }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(remaining * 1000) + 1)
        guard ready > 0 else { throw TestSupportError("no data from the server in time") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    /// The next `count` bytes (a body of known `content-length`).
    public func readBody(count: Int, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while buffer.count < count {
            guard try fill(until: deadline) else { break }
        }
        let body = Array(buffer.prefix(count))
        buffer.removeFirst(body.count)
        return String(decoding: body, as: UTF8.self)
    }

    /// Status line and headers.
    public func readHead(timeout: Double = 10) throws -> (status: Int, headers: [String: String]) {
        guard let statusLine = try readLine(timeout: timeout) else { throw TestSupportError("the server closed the connection") }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestSupportError("bad status line \(statusLine)") }
        var headers: [String: String] = [:]
        while let line = try readLine(timeout: timeout), !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    /// One whole request and its answer (the body read to the end: `Connection: close`).
    public static func request(port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
                               body: String? = nil, timeout: Double = 10) throws -> Response {
        let connection = try LoopbackHTTP(port: port)
        try connection.send(method, path, headers: headers, body: body)
        let head = try connection.readHead(timeout: timeout)
        var lines: [String] = []
        while let line = try connection.readLine(timeout: timeout) { lines.append(line) }
        return Response(status: head.status, headers: head.headers, body: lines.joined(separator: "\n"))
    }

    /// The next Server-Sent Event (`event`, `id`, `data`), skipping comments; nil at end.
    public func nextEvent(timeout: Double) throws -> (event: String?, id: String?, data: String)? {
        var event: String?
        var id: String?
        var data: [String] = []
        while let line = try readLine(timeout: timeout) {
            if line.isEmpty {
                if !data.isEmpty { return (event, id, data.joined(separator: "\n")) }
                event = nil
                id = nil
                continue
            }
            if line.hasPrefix(":") { continue }
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
        return nil
    }
}
