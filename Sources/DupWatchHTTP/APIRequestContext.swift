public import Hummingbird
import NIOCore

/// The request context of the API: the caller's key, once `APIKeyMiddleware` found it.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var apiKey: APIKey?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The caller's key if it has `scope`: 401 without a key, 403 with one that lacks it.
    func require(_ scope: Scope) throws(APIError) -> APIKey {
        guard let apiKey else {
            throw APIError.unauthorized("this route needs an API key with the \(scope.rawValue) scope: send Authorization: Bearer KEY")
        }
        guard apiKey.allows(scope) else {
            throw APIError(.forbidden, "forbidden",
                           "the API key \(apiKey.label) lacks the \(scope.rawValue) scope (it has \(apiKey.scopes.map(\.rawValue).sorted().joined(separator: ",")))")
        }
        return apiKey
    }
}

/// Finds the caller's key: `Authorization: Bearer KEY`, or, on the live alert stream only,
/// `?access_token=KEY` (a browser's EventSource cannot send headers). An unknown key is a 401
/// at once; no key at all is left to the route (public routes need none).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let keyring: APIKeyring

    func handle(_ request: Request, context: APIRequestContext,
                next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let secret = Self.secret(of: request) {
            guard let key = keyring.key(for: secret) else {
                throw APIError.unauthorized("the API key is not valid: send one listed in the server's key file (--api-keys) as Authorization: Bearer KEY")
            }
            context.apiKey = key
            context.logger[metadataKey: "api.key"] = .string(key.label)
        }
        return try await next(request, context)
    }

    static func secret(of request: Request) -> Substring? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return parts[1] }
            return Substring(header) // not a bearer header: refused as an unknown key
        }
        if request.uri.path.hasSuffix("/alerts/live"), let token = request.uri.queryParameters["access_token"] {
            return token
        }
        return nil
    }
}
