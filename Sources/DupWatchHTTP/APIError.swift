public import Hummingbird
public import DupWatchCore
import DupWatchStore

/// Every refusal of the API: a status and a JSON body `{"error": code, "message": sentence}`.
/// Validation errors carry the dead-letter reason codes (`missing_sku`, `bad_qty`, ...).
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public init(rejection: Rejection) {
        self.init(.badRequest, rejection.code, rejection.message)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let body = JSONText.encode(["error": code, "message": message])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static func redisUnavailable(_ error: any Error) -> APIError {
        APIError(.serviceUnavailable, "redis_unavailable", "Redis cannot be reached (\(error)); try again shortly")
    }
}
