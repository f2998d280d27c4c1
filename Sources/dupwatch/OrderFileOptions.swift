import ArgumentParser
import DupWatchCLI
import DupWatchImport

/// How an order file's CSV is mapped: a known file's preset and the column names, which
/// `import orders` and `evaluate` read alike.
struct OrderFileOptions: ParsableArguments {
    // No ArgumentParser defaults: they would hide the DUPWATCH_* variables (Settings).
    @Option(help: Settings.help("A known file's column mapping: online-retail (the UCI Online Retail CSV).", "preset", default: "none"))
    var preset: String?

    @Option(help: Settings.help("CSV column of the order id.", "order-id-column", default: "order_id"))
    var orderIdColumn: String?

    @Option(help: Settings.help("CSV column of the customer id.", "customer-column", default: "customer_id"))
    var customerColumn: String?

    @Option(help: Settings.help("CSV column of the line's SKU.", "sku-column", default: "sku"))
    var skuColumn: String?

    @Option(help: Settings.help("CSV column of the line's quantity.", "qty-column", default: "qty"))
    var qtyColumn: String?

    @Option(help: Settings.help("CSV column of the product title (optional).", "title-column", default: "title, if present"))
    var titleColumn: String?

    @Option(help: Settings.help("CSV column of the order time (epoch ms or ISO-8601 with a zone).", "time-column", default: "ts"))
    var timeColumn: String?

    @Option(help: Settings.help("CSV column of the order status (optional; empty means processing).", "status-column", default: "status, if present"))
    var statusColumn: String?

    init() {}

    /// The preset and the columns (the preset's, or the contract's names), each column name
    /// given replacing its default.
    func resolved(_ settings: inout Settings) throws -> (preset: OrderFilePreset?, columns: OrderColumns) {
        var preset: OrderFilePreset?
        if let name = try settings.value(self.preset, "preset") {
            guard let known = OrderFilePreset(rawValue: name) else {
                throw settings.invalid("preset", "must be one of \(OrderFilePreset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            preset = known
        }
        var columns = preset == .onlineRetail ? OrderColumns.onlineRetail : OrderColumns.contract
        if let name = try settings.value(orderIdColumn, "order-id-column") { columns.orderID = name }
        if let name = try settings.value(customerColumn, "customer-column") { columns.customer = name }
        if let name = try settings.value(skuColumn, "sku-column") { columns.sku = name }
        if let name = try settings.value(qtyColumn, "qty-column") { columns.qty = name }
        if let name = try settings.value(titleColumn, "title-column") { columns.title = name }
        if let name = try settings.value(timeColumn, "time-column") { columns.time = name }
        if let name = try settings.value(statusColumn, "status-column") { columns.status = name }
        return (preset, columns)
    }
}
