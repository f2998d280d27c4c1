import DupWatchStore
import Hummingbird

/// Answers with a JSON body written by the project's one JSON writer (`JSONText`).
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        make(text: JSONText.encode(value), status: status)
    }

    static func make(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
