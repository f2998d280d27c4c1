/// A parsed `redis://[user[:password]@]host[:port][/db]` URL.
///
/// `description` never contains the password (it is shown as `***`).
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public static let expectedForm = "redis://[user[:password]@]host[:port][/db]"
    public static let defaultPort = 6379

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = RedisURL.defaultPort, username: String? = nil,
                password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]` (also `redis://:password@host`).
    /// User and password are percent-decoded; IPv6 hosts go in brackets (`redis://[::1]:6379`).
    /// Throws `RedisURLError` saying what is wrong; its text never contains the password.
    public init(parsing text: String) throws {
        func fail(_ problem: String) -> RedisURLError {
            RedisURLError(input: RedisURL.redactRaw(text), problem: problem)
        }
        let scheme = "redis://"
        guard text.hasPrefix(scheme) else {
            if text.hasPrefix("rediss://") { throw fail("TLS (rediss://) is not supported") }
            if text.hasPrefix("unix://") || text.hasPrefix("redis+unix://") { throw fail("unix sockets are not supported") }
            throw fail("it must start with redis://")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        if rest.contains("?") || rest.contains("#") { throw fail("query strings and fragments are not supported") }

        // Split off the /db path.
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // user[:password]@ — the last '@' wins so an unencoded '@' in the password still works.
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let userPart: Substring
            var passwordPart: Substring?
            if let colon = userinfo.firstIndex(of: ":") {
                userPart = userinfo[..<colon]
                passwordPart = userinfo[userinfo.index(after: colon)...]
            } else {
                userPart = userinfo
            }
            guard let user = RedisURL.percentDecode(userPart) else {
                throw fail("the user name has an invalid %-escape")
            }
            username = user.isEmpty ? nil : user
            if let passwordPart {
                guard let decoded = RedisURL.percentDecode(passwordPart) else {
                    throw fail("the password has an invalid %-escape (write %25 for a literal %)")
                }
                password = decoded.isEmpty ? nil : decoded
            }
        }

        // host[:port], with [v6] brackets.
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("missing ']' after the IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else {
            let colons = rest.filter { $0 == ":" }.count
            if colons > 1 { throw fail("IPv6 addresses must be written in brackets, e.g. redis://[::1]:6379") }
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
        }
        guard !host.isEmpty else { throw fail("the host is missing") }
        if host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) { throw fail("the host '\(host)' is not valid") }

        var port = RedisURL.defaultPort
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p), portText.allSatisfy(\.isASCII) else {
                throw fail("the port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
        }

        var database = 0
        if !path.isEmpty {
            guard let db = Int(path), db >= 0, path.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail("the database '/\(path)' is not a non-negative number")
            }
            database = db
        }

        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var out = "redis://"
        if let username {
            out += RedisURL.percentEncode(username)
            if password != nil { out += ":***" }
            out += "@"
        } else if password != nil {
            out += ":***@"
        }
        out += host.contains(":") ? "[\(host)]" : host
        out += ":\(port)"
        if database != 0 { out += "/\(database)" }
        return out
    }

    // MARK: - helpers

    static func percentDecode(_ s: Substring) -> String? {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var iterator = s.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let h = iterator.next().flatMap(hexValue), let l = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(h << 4 | l)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func percentEncode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hides whatever could be a password in a URL we failed to parse.
    static func redactRaw(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://")?.upperBound else {
            // No scheme: if it looks like it has credentials, hide everything before the '@'.
            if let at = text.lastIndex(of: "@") { return "***" + String(text[at...]) }
            return text
        }
        let afterScheme = text[schemeEnd...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return text }
        let userinfo = authority[..<at]
        let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] } ?? userinfo
        let hasPassword = userinfo.contains(":")
        let prefix = String(text[..<schemeEnd]) + String(user)
        let hidden: String = hasPassword ? ":***" : ""
        return prefix + hidden + String(text[at...])
    }
}

/// Thrown by `RedisURL(parsing:)`. Deliberately not a `RedisError`: a bad URL is a configuration
/// mistake, and `RedisError(.connection)` would be classified as retryable.
public struct RedisURLError: Error, Sendable, CustomStringConvertible {
    /// The input with any password replaced by `***`.
    public var input: String
    /// What is wrong, e.g. "the port 'abc' is not a number from 1 to 65535".
    public var problem: String

    public var description: String {
        "invalid Redis URL '\(input)': \(problem); expected \(RedisURL.expectedForm)"
    }
}

extension RedisURL {
    /// `--redis-url` with several nodes: URLs separated by commas. A later entry may be a bare
    /// `host:port`, which takes the first URL's user and password (a cluster's nodes share
    /// their ACL users): `redis://u:p@127.0.0.1:7000,127.0.0.1:7001`.
    public static func list(parsing text: String) throws -> [RedisURL] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: " ") }
        guard let first = parts.first, !first.isEmpty else {
            throw RedisURLError(input: "", problem: "no URL given; expected \(expectedForm)[,host:port...]")
        }
        let head = try RedisURL(parsing: first)
        var urls = [head]
        for part in parts.dropFirst() {
            if part.hasPrefix("redis://") || part.hasPrefix("rediss://") || part.contains("://") {
                urls.append(try RedisURL(parsing: part))
                continue
            }
            var url = try RedisURL(parsing: "redis://" + part)
            url.username = head.username
            url.password = head.password
            url.database = head.database
            urls.append(url)
        }
        return urls
    }
}

private extension StringProtocol {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
