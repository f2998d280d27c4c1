/// What an API key may do. `admin` may do everything.
public enum Scope: String, Sendable, CaseIterable, Hashable {
    /// Push cart events, orders, status updates and alert feedback.
    case ingest
    /// Read carts, orders and alerts; run checks; hold live alert streams.
    case read
    /// Everything, and the operator routes.
    case admin
}

/// One key of the key file. `label` names it in logs and limits (`key#3`: line 3 of the file);
/// the secret itself is never logged.
public struct APIKey: Sendable, Hashable {
    public let label: String
    public let scopes: Set<Scope>

    public func allows(_ scope: Scope) -> Bool {
        scopes.contains(scope) || scopes.contains(.admin)
    }
}

/// The server's keys, read from a file of `KEY SCOPE[,SCOPE]` lines (`#` comments and blank
/// lines allowed), e.g. `k3y-0f-the-shop ingest,read`.
public struct APIKeyring: Sendable {
    private let keys: [String: APIKey]

    public var count: Int { keys.count }

    /// Keys shorter than this are refused: a bearer key is a password.
    public static let minimumKeyLength = 16

    public init(parsing text: String) throws(APIKeyFileError) {
        var keys: [String: APIKey] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 2 else {
                throw APIKeyFileError(line: number, problem: "expected `KEY SCOPE[,SCOPE]`, found \(words.count) word(s)")
            }
            let secret = String(words[0])
            guard secret.utf8.count >= Self.minimumKeyLength else {
                throw APIKeyFileError(line: number, problem: "the key is shorter than \(Self.minimumKeyLength) characters")
            }
            var scopes: Set<Scope> = []
            for name in words[1].split(separator: ",") {
                guard let scope = Scope(rawValue: String(name)) else {
                    throw APIKeyFileError(line: number, problem: "unknown scope \"\(name)\" (scopes: \(Scope.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                scopes.insert(scope)
            }
            guard !scopes.isEmpty else { throw APIKeyFileError(line: number, problem: "no scope") }
            guard keys[secret] == nil else { throw APIKeyFileError(line: number, problem: "the same key is listed twice") }
            keys[secret] = APIKey(label: "key#\(number)", scopes: scopes)
        }
        self.keys = keys
    }

    public func key(for secret: Substring) -> APIKey? {
        keys[String(secret)]
    }
}

public struct APIKeyFileError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var problem: String
    public var description: String { "line \(line): \(problem)" }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" || first == "\r" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return s
    }
}
