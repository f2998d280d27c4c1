import ArgumentParser
import DupWatchCLI
import DupWatchCore
import DupWatchStore
import RedisClient

/// Shared options of the read commands.
struct ReadOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Flag(inversion: .prefixedNo, help: Settings.help("Print JSON for programs instead of a table.", "json", default: "off"))
    var json: Bool?

    @Option(help: Settings.help("How many of the last stored orders count (as the worker's --history-depth; 1-1000).",
                                "history-depth", default: "5"))
    var historyDepth: Int?

    /// The options resolved (command line, DUPWATCH_* variable, default) and checked.
    struct Resolved {
        var json: Bool
        var historyDepth: Int
    }

    func resolved() throws -> Resolved {
        var settings = Settings()
        let options = Resolved(json: try settings.flag(json, "json"),
                               historyDepth: try settings.value(historyDepth, "history-depth", default: 5))
        guard (1...1000).contains(options.historyDepth) else { throw settings.invalid("history-depth", "must be 1...1000") }
        return options
    }

    func validate() throws {
        _ = try resolved()
    }

    /// The read model of `customer`'s partition, and a connection to its node.
    func model(of customer: String, historyDepth: Int) throws -> (ReadModel, RedisConnection) {
        let deployment = try connection.deployment()
        let keys = deployment.keys(ofCustomer: customer)
        return (ReadModel(keys: keys, rules: RuleConfig(historyDepth: historyDepth)), try deployment.connection(for: keys))
    }
}

struct CartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cart", abstract: "Show a customer's active cart.")

    @OptionGroup var options: ReadOptions
    @Argument(help: "The customer_id.") var customer: String

    func run() throws {
        let read = try options.resolved()
        let (model, redis) = try options.model(of: customer, historyDepth: read.historyDepth)
        let cart = try model.cart(of: customer, on: redis)
        if read.json {
            JSONOutput.print(CartView(customer: customer, cart: cart))
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
    @Option(help: Settings.help("How many orders to show.", "limit", default: "20")) var limit: Int?

    func validate() throws {
        var settings = Settings()
        _ = try settings.value(limit, "limit", default: 20)
    }

    func run() throws {
        let read = try options.resolved()
        var settings = Settings()
        let limit = try settings.value(self.limit, "limit", default: 20)
        let (model, redis) = try options.model(of: customer, historyDepth: read.historyDepth)
        let entries = try model.history(of: customer, limit: limit, on: redis)
        if read.json {
            JSONOutput.print(entries.map { OrderView($0) })
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
        print("Orders of customer \(customer), newest first (CHECKED = among the last \(read.historyDepth) that duplicate checks use):")
        print(table.rendered)
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read-only: the alerts an order with these items would raise now.")

    @OptionGroup var options: ReadOptions
    @Argument(help: "The customer_id.") var customer: String
    @Option(help: Settings.help(#"The order lines, as in stream:order:placed: '[{"sku":"A1","qty":1}]'. Required."#, "items"))
    var items: String?
    /// As the worker's, so that the check answers what the worker would alert.
    @OptionGroup var noise: NoiseOptions

    func validate() throws {
        var settings = Settings()
        _ = try settings.required(items, "items")
        var rules = RuleConfig()
        try noise.apply(to: &rules, &settings)
    }

    func run() throws {
        let read = try options.resolved()
        var settings = Settings()
        let items = try settings.required(self.items, "items")
        var rules = RuleConfig(historyDepth: read.historyDepth)
        try noise.apply(to: &rules, &settings)
        let probe = RawEntry(.orderPlaced, EntryID(milliseconds: 0, sequence: 0),
                             ["order_id": "check", "customer_id": customer, "items": items])
        let lines: [OrderLine]
        switch EventParser.parse(probe) {
        case .success(.order(let order)): lines = order.lines
        case .failure(let rejection): throw ValidationError(rejection.reason)
        default: throw ValidationError("items could not be read as order lines")
        }
        let (stored, redis) = try options.model(of: customer, historyDepth: read.historyDepth)
        let alerts = try ReadModel(keys: stored.keys, rules: rules).check(customer: customer, lines: lines, on: redis)
        if read.json {
            // The alert stream's fields, without detected_at: nothing was detected.
            JSONOutput.print(alerts.map { alert in
                JSONText.alertObject(alert.fields(detectedAt: 0).filter { $0.0 != "detected_at" })
            })
            return
        }
        let quiet = Set(lines.map(\.sku)).intersection(rules.quietSKUs).sorted()
        let quietNote = quiet.isEmpty ? "" : " (quiet SKUs never alert: \(quiet.joined(separator: ", ")))"
        guard !alerts.isEmpty else {
            print("No duplicates: none of these items is in the last \(read.historyDepth) orders of customer \(customer)\(quietNote).")
            return
        }
        var table = rules.repeatCount
            ? TextTable("SKU", "QTY BEFORE", "ORDER", "DATE", "STATUS", "IN LAST \(read.historyDepth)", "MESSAGE")
            : TextTable("SKU", "QTY BEFORE", "ORDER", "DATE", "STATUS", "MESSAGE")
        for alert in alerts {
            guard case .order(let orderID, let placedAt, let status) = alert.match else { continue }
            let date = EventTime.isoDate(milliseconds: placedAt)
            if let repeats = alert.repeatCount {
                table.add(alert.sku, String(alert.quantity), orderID, date, status.rawValue, String(repeats), alert.message)
            } else {
                table.add(alert.sku, String(alert.quantity), orderID, date, status.rawValue, alert.message)
            }
        }
        print(table.rendered)
        if !quiet.isEmpty { print("Quiet SKUs never alert: \(quiet.joined(separator: ", ")).") }
    }
}
