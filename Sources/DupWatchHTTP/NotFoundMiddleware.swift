import Hummingbird

/// Answers a request that no route matches with the API's JSON error body, like every other
/// refusal, instead of Hummingbird's empty 404.
struct NotFoundMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError.notFound("no route \(request.method) \(request.uri.path); the API is described at /v1/openapi.json")
        }
    }
}
