import DupWatchCore
import DupWatchStore
import Hummingbird
import Metrics
import RedisClient

/// `POST /v1/cart-events`, `/v1/orders`, `/v1/order-status`: the body is checked by the
/// worker's own rules (`EventParser`), so a request is refused here for exactly the reasons its
/// entry would be dead-lettered, with the same codes; an accepted one is XADDed to its input
/// stream and answered 202 with the entry id. On a partitioned deployment that stream is the
/// router's ingress, which moves the entry, under the same id, into the customer's partition:
/// a partition stream takes one ingress. Retries with the same `event_id` / `order_id` are
/// harmless because the worker ignores a repeated id.
struct IngestRoutes {
    let lanes: RedisLanes
    let settings: ServerSettings
    let keys = KeySchema()

    /// The fields each input stream's contract names; anything else is refused, so a typo does
    /// not pass silently.
    static let contract: [EventSource: Set<String>] = [
        .cart: ["type", "customer_id", "sku", "qty", "ts", "title", "event_id"],
        .orderPlaced: ["order_id", "customer_id", "items", "status", "ts"],
        .orderStatus: ["order_id", "customer_id", "status", "ts"],
    ]

    struct Accepted: Encodable {
        var entry_id: String
        var stream: String
    }

    func add(to router: RouterGroup<APIRequestContext>) {
        for (path, source) in [("cart-events", EventSource.cart), ("orders", .orderPlaced), ("order-status", .orderStatus)] {
            let accepted = Counter(label: "dupwatch_http_events_accepted_total", dimensions: [("stream", keys.stream(for: source))])
            let refused = Counter(label: "dupwatch_http_events_refused_total", dimensions: [("stream", keys.stream(for: source))])
            router.post(RouterPath(path)) { request, context -> Response in
                _ = try context.require(.ingest)
                let fields: [RawEntry.Field]
                do {
                    fields = try Self.validate(try await request.bodyBytes(limit: settings.maxBodyBytes), source: source,
                                               maxItems: settings.maxItems)
                } catch let error as APIError {
                    refused.increment()
                    throw error
                }
                let stream = keys.stream(for: source)
                let id = try await append(fields.map { StreamField(name: $0.name, value: $0.value) }, to: stream)
                accepted.increment()
                return JSONResponse.make(Accepted(entry_id: id, stream: stream), status: .accepted)
            }
        }
    }

    /// The body as the entry's fields, or the reason it would be dead-lettered.
    static func validate(_ body: [UInt8], source: EventSource, maxItems: Int) throws(APIError) -> [RawEntry.Field] {
        let fields: [RawEntry.Field]
        do {
            fields = try RequestFields.parse(body)
        } catch {
            throw APIError(rejection: error)
        }
        let allowed = contract[source] ?? []
        if let unknown = fields.first(where: { !allowed.contains(String(decoding: $0.name, as: UTF8.self)) }) {
            throw APIError(.badRequest, "unknown_field",
                           "\(Quoted.bytes(unknown.name)) is not a field of \(source) events (fields: \(allowed.sorted().joined(separator: ", ")))")
        }
        switch EventParser.parse(RawEntry(source: source, id: EntryID(milliseconds: 0, sequence: 0), fields: fields)) {
        case .failure(let rejection):
            throw APIError(rejection: rejection)
        case .success(.order(let order)) where order.lines.count > maxItems:
            throw APIError(.badRequest, "too_many_items", "the order has \(order.lines.count) lines; this server takes at most \(maxItems)")
        case .success:
            return fields
        }
    }

    private func append(_ fields: [StreamField], to stream: String) async throws -> String {
        do {
            return try await lanes.send(StreamCommands.xadd(stream, fields: fields), key: stream).throwIfError().string
        } catch let error as RedisError {
            throw APIError.redisUnavailable(error)
        }
    }
}
