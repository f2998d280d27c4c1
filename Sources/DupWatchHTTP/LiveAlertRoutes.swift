import DupWatchCore
import DupWatchStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RedisClient
import ServiceLifecycle

/// `GET /v1/customers/{id}/alerts/live` (Server-Sent Events) and
/// `POST /v1/alerts/{alert_id}/feedback`.
struct LiveAlertRoutes {
    let lanes: RedisLanes
    let hub: AlertHub
    let settings: ServerSettings
    let keys = KeySchema()

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let actions: Set<String> = ["kept_both", "removed_item", "cancelled_order", "dismissed"]
    static let feedbackMaxLength = 1_000_000

    func addLive(to customers: RouterGroup<APIRequestContext>) {
        let hub = self.hub
        customers.get("alerts/live") { request, context -> Response in
            let key = try context.require(.read)
            let customer = try CustomerRoutes.customer(context)
            var after: EntryID?
            if let text = request.headers[Self.lastEventID] {
                guard let id = EntryID(text) else {
                    throw APIError(.badRequest, "bad_last_event_id", "Last-Event-ID \(Quoted.string(text)) is not a stream entry id")
                }
                after = id
            }
            let subscription = try hub.subscribe(customer: customer, after: after, key: key)
            let headers: HTTPFields = [
                .contentType: "text/event-stream; charset=utf-8",
                .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                defer { subscription.close() }
                // The comment sends the headers at once, so the client knows it is connected.
                try await writer.write(ByteBuffer(string: ": connected\nretry: 2000\n\n"))
                for alert in subscription.replay {
                    try await writer.write(Self.message(alert))
                }
                // The stream ends when the client hangs up (noticed at once, so its slot under
                // the per-key limit is free again), or when the server stops: the clients then
                // reconnect to another one with Last-Event-ID.
                try await request.body.consumeWithInboundCloseHandler { _ in
                    try await withGracefulShutdownHandler {
                        for await event in subscription.events {
                            switch event {
                            case .alert(let alert): try await writer.write(Self.message(alert))
                            case .keepAlive: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            }
                        }
                    } onGracefulShutdown: {
                        subscription.close()
                    }
                } onInboundClosed: {
                    subscription.close()
                }
                try await writer.finish(nil)
            })
        }
    }

    static func message(_ alert: LiveAlert) -> ByteBuffer {
        ByteBuffer(string: "event: alert\nid: \(alert.id)\ndata: \(alert.json)\n\n")
    }

    struct FeedbackAnswer: Encodable {
        var entry_id: String
        var stream: String
    }

    func addFeedback(to alerts: RouterGroup<APIRequestContext>) {
        let stream = keys.feedbackStream
        alerts.post(":alert/feedback") { request, context -> Response in
            _ = try context.require(.ingest)
            guard let alertID = context.parameters.get("alert"), alertID.utf8.count == 32,
                  alertID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw APIError(.badRequest, "bad_alert_id", "the alert id must be the alert's alert_id: 32 lowercase hex digits")
            }
            let (fields, action) = try Self.feedback(try await request.bodyBytes(limit: settings.maxBodyBytes))
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let entry = fields + [StreamField(name: "alert_id", value: alertID),
                                  StreamField(name: "at", value: EventTime.iso8601(milliseconds: now))]
            let commands = [StreamCommands.xadd(stream, maxLenApprox: Self.feedbackMaxLength, fields: entry)]
                + Self.countFeedback(action: action, at: now, keys: keys, retention: settings.statsRetention)
            do {
                // The entry and its count land together: MULTI/EXEC on the stream's node (the
                // counters carry the stream's hash tag).
                let id = try await lanes.run { deployment in
                    let replies = try deployment.connection(forKey: stream).pipeline([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")])
                    return try replies.last!.throwIfError().array[0].throwIfError().string
                }
                return JSONResponse.make(FeedbackAnswer(entry_id: id, stream: stream), status: .accepted)
            } catch let error as RedisError {
                throw APIError.redisUnavailable(error)
            }
        }
    }

    /// HINCRBY of the action's counter in the hour of `now` (wall clock: when the customer
    /// answered), kept `retention`.
    static func countFeedback(action: String, at now: Int64, keys: KeySchema, retention: Duration) -> [RedisCommand] {
        guard let counter = StatsCounter.feedback(action: action) else { return [] }
        let key = keys.feedbackStatsHour(StatsPeriod.hour.number(of: now))
        let count = CommitCommand.hincrby(key: key, field: counter.field, by: 1).encoded
        return retention > .zero ? [count, CommitCommand.pexpire(key: key, after: retention).encoded] : [count]
    }

    /// `{"customer_id": ..., "action": ...}` as the feedback entry's fields, and the action.
    static func feedback(_ body: [UInt8]) throws(APIError) -> (fields: [StreamField], action: String) {
        let fields: [RawEntry.Field]
        do {
            fields = try RequestFields.parse(body)
        } catch {
            throw APIError(rejection: error)
        }
        func value(_ name: String) -> [UInt8]? { fields.first { $0.name == Array(name.utf8) }?.value }
        guard let customer = value("customer_id") else {
            throw APIError(.badRequest, "missing_customer_id", "the body needs \"customer_id\"")
        }
        do {
            _ = try FieldValidation.identifier(customer, field: "customer_id", allowBraces: false)
        } catch {
            throw APIError(rejection: error)
        }
        guard let action = value("action") else {
            throw APIError(.badRequest, "missing_action", "the body needs \"action\": one of \(actions.sorted().joined(separator: ", "))")
        }
        let text = String(decoding: action, as: UTF8.self)
        guard actions.contains(text) else {
            throw APIError(.badRequest, "bad_action", "action \(Quoted.bytes(action)) is not one of \(actions.sorted().joined(separator: ", "))")
        }
        if let unknown = fields.first(where: { !["customer_id", "action"].contains(String(decoding: $0.name, as: UTF8.self)) }) {
            throw APIError(.badRequest, "unknown_field", "\(Quoted.bytes(unknown.name)) is not a field of feedback (fields: action, customer_id)")
        }
        return ([StreamField(name: "customer_id", value: String(decoding: customer, as: UTF8.self)),
                 StreamField(name: "action", value: text)], text)
    }
}
