import DupWatchCore
import Foundation
import DupWatchStore
import Hummingbird
import RedisClient

/// The read side for the website: `GET /v1/customers/{id}/cart`, `/orders`, `/alerts` and
/// `POST /v1/customers/{id}/check`. Each is one lane call: one or two pipelined reads.
struct CustomerRoutes {
    let lanes: RedisLanes
    let settings: ServerSettings

    var rules: RuleConfig {
        RuleConfig(cartGap: settings.cartGap, historyDepth: settings.historyDepth, quietSKUs: settings.quietSKUs,
                   repeatCount: settings.repeatCount)
    }

    struct OrdersAnswer: Encodable {
        var customer_id: String
        var orders: [OrderView]
    }

    struct AlertsAnswer: Encodable {
        var customer_id: String?
        var alerts: [FieldsObject]
    }

    func add(to customers: RouterGroup<APIRequestContext>) {
        let rules = self.rules
        customers.get("cart") { _, context -> Response in
            _ = try context.require(.read)
            let customer = try Self.customer(context)
            let cart = ReadModel.cart(in: try await state(of: customer))
            return JSONResponse.make(CartView(customer: customer, cart: cart))
        }
        customers.get("orders") { request, context -> Response in
            _ = try context.require(.read)
            let customer = try Self.customer(context)
            let limit = try Self.limit(request, default: 20, max: 100)
            let entries = try await read { deployment in
                try ReadModel(keys: deployment.keys(ofCustomer: customer), rules: rules)
                    .history(of: customer, limit: limit, on: deployment.connection(for: deployment.keys(ofCustomer: customer)))
            }
            return JSONResponse.make(OrdersAnswer(customer_id: customer, orders: entries.map { OrderView($0) }))
        }
        customers.post("check") { request, context -> Response in
            _ = try context.require(.read)
            let customer = try Self.customer(context)
            let lines = try Self.checkLines(try await request.bodyBytes(limit: settings.maxBodyBytes), customer: customer,
                                            maxItems: settings.maxItems)
            let alerts = ReadModel(keys: KeySchema(), rules: rules).check(customer: customer, lines: lines, in: try await state(of: customer))
            // The alert stream's fields, without detected_at: nothing was detected.
            return JSONResponse.make(AlertsAnswer(customer_id: nil, alerts: alerts.map {
                JSONText.alertObject($0.fields(detectedAt: 0).filter { $0.0 != "detected_at" })
            }))
        }
        customers.get("alerts") { request, context -> Response in
            _ = try context.require(.read)
            let customer = try Self.customer(context)
            let limit = try Self.limit(request, default: 20, max: 100)
            let since = try Self.since(request)
            let alerts = try await read { deployment in
                try ReadModel(keys: deployment.keys(ofCustomer: customer), rules: rules)
                    .alerts(of: customer, since: since, limit: limit, on: deployment.connection(for: deployment.keys(ofCustomer: customer)))
            }
            return JSONResponse.make(AlertsAnswer(customer_id: customer, alerts: alerts.compactMap(Self.alertObject)))
        }
    }

    /// The customer's state, read with other requests' (`RedisLanes.state`).
    private func state(of customer: String) async throws -> CustomerState {
        do {
            return try await lanes.state(of: customer, historyDepth: settings.historyDepth)
        } catch let error as RedisError {
            throw APIError.redisUnavailable(error)
        } catch let error as ReadModelError {
            throw APIError(.internalServerError, "corrupt_state", error.description)
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Deployment) throws -> T) async throws -> T {
        do {
            return try await lanes.run(idempotent: true, body)
        } catch let error as RedisError {
            throw APIError.redisUnavailable(error)
        } catch let error as ReadModelError {
            throw APIError(.internalServerError, "corrupt_state", error.description)
        }
    }

    /// The `{id}` of the path, checked as a `customer_id` is.
    static func customer(_ context: APIRequestContext) throws(APIError) -> String {
        // Path parameters arrive as sent: a customer id with spaces, braces or non-ASCII
        // characters is percent-encoded in the URL.
        guard let raw = context.parameters.get("customer") else { throw APIError.notFound("no customer id in the path") }
        guard let id = raw.removingPercentEncoding else {
            throw APIError(.badRequest, "bad_customer_id", "the customer id in the path is not valid percent-encoded UTF-8")
        }
        do {
            return try FieldValidation.identifier(Array(id.utf8), field: "customer_id", allowBraces: false)
        } catch {
            throw APIError(rejection: error)
        }
    }

    static func limit(_ request: Request, default value: Int, max: Int) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return value }
        guard let limit = Int(text), (1...max).contains(limit) else {
            throw APIError(.badRequest, "bad_limit", "limit \(Quoted.string(String(text))) is not an integer 1-\(max)")
        }
        return limit
    }

    /// `since`: epoch milliseconds or ISO-8601 with a zone, as `ts` in events.
    static func since(_ request: Request) throws(APIError) -> Int64? {
        guard let text = request.uri.queryParameters["since"] else { return nil }
        guard let since = EventTime.parse(Array(text.utf8)) else {
            throw APIError(.badRequest, "bad_since", "since \(Quoted.string(String(text))) is neither epoch milliseconds nor ISO-8601 with a zone")
        }
        return since
    }

    /// The `items` of a check body, read as an order's items are.
    static func checkLines(_ body: [UInt8], customer: String, maxItems: Int) throws(APIError) -> [OrderLine] {
        let fields: [RawEntry.Field]
        do {
            fields = try RequestFields.parse(body)
        } catch {
            throw APIError(rejection: error)
        }
        guard let items = fields.first(where: { $0.name == Array("items".utf8) }) else {
            throw APIError(.badRequest, "missing_items", "the body needs \"items\": [{\"sku\": ..., \"qty\": ...}, ...]")
        }
        let probe = RawEntry(source: .orderPlaced, id: EntryID(milliseconds: 0, sequence: 0), fields: [
            RawEntry.Field("order_id", "check"), RawEntry.Field("customer_id", customer), items,
        ])
        switch EventParser.parse(probe) {
        case .success(.order(let order)) where order.lines.count > maxItems:
            throw APIError(.badRequest, "too_many_items", "the check has \(order.lines.count) lines; this server takes at most \(maxItems)")
        case .success(.order(let order)):
            return order.lines
        case .failure(let rejection):
            throw APIError(rejection: rejection)
        case .success:
            throw APIError(.badRequest, "bad_items", "items could not be read as order lines")
        }
    }

    /// An index entry (a JSON object of strings and the numbers of `Alert.numericFields`) back as fields.
    static func alertObject(_ json: String) -> FieldsObject? {
        guard let fields = try? RequestFields.parse(Array(json.utf8)) else { return nil }
        return FieldsObject(fields.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) },
                            numbers: Alert.numericFields)
    }
}
