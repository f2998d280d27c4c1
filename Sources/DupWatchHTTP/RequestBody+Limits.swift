import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes: 413 `body_too_large` above, never a crash.
    func bodyBytes(limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        }
    }
}
