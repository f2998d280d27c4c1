import ArgumentParser
import DupWatchCore
import DupWatchStore
import RedisClient

/// Shared options of the read commands.
struct ReadOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print JSON for programs instead of a table.")
    var json = false

    @Option(help: "How many of the last stored orders count (as the worker's --history-depth).")
    var historyDepth: Int = 5

    var model: ReadModel {
        ReadModel(keys: KeySchema(), rules: RuleConfig(historyDepth: max(1, historyDepth)))
    }
}

struct CartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cart", abstract: "Show a customer's active cart.")

    @OptionGroup var options: ReadOptions
    @Argument(help: "The customer_id.") var customer: String

    func run() throws {
        let cart = try options.model.cart(of: customer, on: options.connection.connect())
        if options.json {
            print(JSONValue.object([
                ("customer_id", .string(customer)),
                ("last_cart_event_at", .optional(cart.lastCartEventAt.map { EventTime.iso8601(milliseconds: $0) })),
                ("lines", .array(cart.lines.map { line in
                    .object([("sku", .string(line.sku)), ("quantity", .int(Int64(line.quantity))),
                             ("added_at", .string(EventTime.iso8601(milliseconds: line.addedAt))),
                             ("title", .optional(line.title))])
                })),
            ]).rendered)
            return
        }
        guard !cart.lines.isEmpty else {
            print("Customer \(customer) has an empty cart\(cart.lastCartEventAt.map { " (last cart event \(EventTime.iso8601(milliseconds: $0)))" } ?? "").")
            return
        }
        var table = TextTable("SKU", "QTY", "ADDED AT", "TITLE")
        for line in cart.lines {
            table.add(line.sku, String(line.quantity), EventTime.iso8601(milliseconds: line.addedAt), line.title ?? "")
        }
        print("Cart of customer \(customer) (last cart event \(cart.lastCartEventAt.map { EventTime.iso8601(milliseconds: $0) } ?? "never")):")
        print(table.rendered)
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show a customer's orders, newest first.")

    @OptionGroup var options: ReadOptions
    @Argument(help: "The customer_id.") var customer: String
    @Option(help: "How many orders to show.") var limit: Int = 20

    func run() throws {
        let entries = try options.model.history(of: customer, limit: limit, on: options.connection.connect())
        if options.json {
            print(JSONValue.array(entries.map { entry in
                .object([
                    ("order_id", .string(entry.order.orderID)),
                    ("order_date", .string(EventTime.iso8601(milliseconds: entry.order.placedAt))),
                    ("status", .string(entry.order.status.rawValue)),
                    ("checked", .bool(entry.isRecent)),
                    ("items", .array(entry.order.lines.map { line in
                        .object([("sku", .string(line.sku)), ("qty", .int(Int64(line.quantity))), ("title", .optional(line.title))])
                    })),
                ])
            }).rendered)
            return
        }
        guard !entries.isEmpty else {
            print("Customer \(customer) has no stored orders.")
            return
        }
        var table = TextTable("ORDER", "DATE", "STATUS", "CHECKED", "ITEMS")
        for entry in entries {
            let items = entry.order.lines.map { "\($0.quantity) × \($0.title ?? $0.sku)" }.joined(separator: ", ")
            table.add(entry.order.orderID, EventTime.iso8601(milliseconds: entry.order.placedAt),
                      entry.order.status.rawValue, entry.isRecent ? "yes" : "no", items)
        }
        print("Orders of customer \(customer), newest first (CHECKED = among the last \(options.historyDepth) that duplicate checks use):")
        print(table.rendered)
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read-only: the alerts an order with these items would raise now.")

    @OptionGroup var options: ReadOptions
    @Argument(help: "The customer_id.") var customer: String
    @Option(help: #"The order lines, as in stream:order:placed: '[{"sku":"A1","qty":1}]'."#) var items: String

    func run() throws {
        let probe = RawEntry(.orderPlaced, EntryID(milliseconds: 0, sequence: 0),
                             ["order_id": "check", "customer_id": customer, "items": items])
        let lines: [OrderLine]
        switch EventParser.parse(probe) {
        case .success(.order(let order)): lines = order.lines
        case .failure(let rejection): throw ValidationError(rejection.reason)
        default: throw ValidationError("items could not be read as order lines")
        }
        let alerts = try options.model.check(customer: customer, lines: lines, on: options.connection.connect())
        if options.json {
            print(JSONValue.array(alerts.map(\.json)).rendered)
            return
        }
        guard !alerts.isEmpty else {
            print("No duplicates: none of these items is in the last \(options.historyDepth) orders of customer \(customer).")
            return
        }
        var table = TextTable("SKU", "QTY BEFORE", "ORDER", "DATE", "STATUS", "MESSAGE")
        for alert in alerts {
            table.add(alert.sku, String(alert.quantity), alert.orderID ?? "",
                      alert.orderPlacedAt.map { EventTime.isoDate(milliseconds: $0) } ?? "",
                      alert.orderStatus?.rawValue ?? "", alert.message)
        }
        print(table.rendered)
    }
}
