/// The counts of a replay that are not figures of the evaluation: what the file held.
public struct ReplayCounts: Sendable, Equatable, Encodable {
    /// Data rows read (rows of orders, of cancellations and rejected rows).
    public var rows = 0
    /// Rows no order or cancellation could be made of (a guest order, a bad quantity...), by the
    /// reason's code (`missing_customer_id`, ...), as `dupwatch import orders` rejects them.
    public var rejectedRows = 0
    public var rejectedRowsByCode: [String: Int] = [:]
    /// Orders replayed (each order id once).
    public var orders = 0
    /// Orders whose id came again later in the file (split invoices): ignored, as the worker does.
    public var repeatedOrderIDs = 0
    public var cancellationInvoices = 0
    /// Cancellation invoices no earlier order of their customer holds a product of.
    public var unmatchedCancellations = 0
    /// Customers with at least one order.
    public var customers = 0
    /// Orders and cancellations placed earlier than one before them in the file.
    public var outOfTimeOrder = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rows, rejectedRows = "rejected_rows", rejectedRowsByCode = "rejected_rows_by_code", orders
        case repeatedOrderIDs = "repeated_order_ids", cancellationInvoices = "cancellation_invoices"
        case unmatchedCancellations = "unmatched_cancellations", customers, outOfTimeOrder = "out_of_time_order"
    }
}
