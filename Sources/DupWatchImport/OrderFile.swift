public import DupWatchCore
import Foundation

/// How an order file is written.
public enum OrderFileFormat: String, Sendable, CaseIterable {
    /// A header line names the columns; one order line per row, consecutive rows of one order id
    /// are one order.
    case csv
    /// One JSON object per line with the fields of `stream:order:placed` (`items` a JSON array,
    /// or a string holding one), plus `status`; `ts` is required.
    case jsonl
}

/// A known file's mapping.
public enum OrderFilePreset: String, Sendable, CaseIterable {
    /// The UCI Online Retail CSV (`../shared/data/online-retail/`): InvoiceNo, StockCode,
    /// Description, Quantity, InvoiceDate (UK local time, read as UTC), CustomerID (`13085.0` is
    /// customer `13085`). An invoice starting with `C` cancels the customer's latest earlier order
    /// holding one of its products; `A` invoices and rows without a customer are rejected.
    case onlineRetail = "online-retail"
}

/// The CSV columns, by their header names.
public struct OrderColumns: Sendable, Equatable {
    public var orderID: String
    public var customer: String
    public var sku: String
    public var qty: String
    public var title: String?
    public var time: String
    public var status: String?

    public init(orderID: String = "order_id", customer: String = "customer_id", sku: String = "sku", qty: String = "qty",
                title: String? = "title", time: String = "ts", status: String? = "status") {
        self.orderID = orderID
        self.customer = customer
        self.sku = sku
        self.qty = qty
        self.title = title
        self.time = time
        self.status = status
    }

    /// The event contract's field names (optional columns used when present).
    public static let contract = OrderColumns()
    public static let onlineRetail = OrderColumns(orderID: "InvoiceNo", customer: "CustomerID", sku: "StockCode", qty: "Quantity",
                                                  title: "Description", time: "InvoiceDate", status: nil)
}

/// A cancellation invoice: the order `target(among:)` picks from the customer's orders becomes
/// `cancelled` (resolved when applied: against the stored state, or a replay's memory).
public struct Cancellation: Sendable, Hashable {
    public var invoice: String
    public var customerID: String
    public var skus: [String]
    public var time: Int64

    public init(invoice: String, customerID: String, skus: [String], time: Int64) {
        self.invoice = invoice
        self.customerID = customerID
        self.skus = skus
        self.time = time
    }
}

/// What the file says, one order (or cancellation, or rejected row) at a time.
public enum ImportItem: Sendable {
    case order(OrderPlaced, rows: Int, line: Int)
    case cancellation(Cancellation, rows: Int, line: Int)
    /// `rows` rows starting at physical line `line`, for `reason` (`<code>: <message>`).
    case rejected(line: Int, rows: Int, reason: String)

    public var customerID: String? {
        switch self {
        case .order(let order, _, _): order.customerID
        case .cancellation(let cancellation, _, _): cancellation.customerID
        case .rejected: nil
        }
    }
}

/// Why a file cannot be imported at all (a missing column, unreadable bytes).
public struct OrderFileError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads orders from an order file, streaming: it holds one order's lines at a time.
public final class OrderFileReader {
    public let input: ImportInput
    private let records: RecordReader
    private let format: OrderFileFormat
    private let preset: OrderFilePreset?
    private var queue: [ImportItem] = []
    private var queueHead = 0
    /// Data rows (CSV rows after the header, non-blank JSON lines) read so far.
    public private(set) var rows = 0

    // CSV column indexes.
    private var orderColumn = 0, customerColumn = 0, skuColumn = 0, qtyColumn = 0, timeColumn = 0
    private var titleColumn: Int?, statusColumn: Int?

    private var pending: PendingOrder?

    public init(input: ImportInput, format: OrderFileFormat, preset: OrderFilePreset? = nil,
                columns: OrderColumns = .contract) throws {
        self.input = input
        self.records = RecordReader(input: input)
        self.format = preset == nil ? format : .csv
        self.preset = preset
        guard self.format == .csv else { return }
        guard try records.nextCSV() else { throw OrderFileError("\(input.path) is empty: a CSV file starts with a header line") }
        var names: [String: Int] = [:]
        for index in 0..<records.fieldCount {
            let name = String(decoding: records.field(index), as: UTF8.self).trimmingCharacters(in: .whitespaces)
            // A UTF-8 byte order mark before the first name is not part of it.
            let clean = index == 0 && name.hasPrefix("\u{FEFF}") ? String(name.dropFirst()) : name
            if names[clean] == nil { names[clean] = index }
        }
        func column(_ name: String, _ what: String) throws -> Int {
            guard let index = names[name] else {
                throw OrderFileError("\(input.path): no column \(Quoted.string(name)) (\(what)) in the header; it has \(names.keys.sorted().map { Quoted.string($0) }.joined(separator: ", "))")
            }
            return index
        }
        orderColumn = try column(columns.orderID, "--order-id-column")
        customerColumn = try column(columns.customer, "--customer-column")
        skuColumn = try column(columns.sku, "--sku-column")
        qtyColumn = try column(columns.qty, "--qty-column")
        timeColumn = try column(columns.time, "--time-column")
        // The contract's optional columns (`title`, `status`) are used when present; another
        // name must be there.
        if let name = columns.title {
            titleColumn = name == OrderColumns.contract.title ? names[name] : try column(name, "--title-column")
        }
        if let name = columns.status {
            statusColumn = name == OrderColumns.contract.status ? names[name] : try column(name, "--status-column")
        }
    }

    /// The next item; nil at the end of the file.
    public func next() throws -> ImportItem? {
        while queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
            switch format {
            case .csv:
                guard try records.nextCSV() else {
                    if let done = pending.take() { finish(done) }
                    if queue.isEmpty { return nil }
                    continue
                }
                if records.isBlank { continue }
                rows += 1
                csvRow()
            case .jsonl:
                guard try records.nextLine() else { return nil }
                if records.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                rows += 1
                jsonLine()
            }
        }
        defer { queueHead += 1 }
        return queue[queueHead]
    }

    // MARK: CSV

    private struct PendingOrder {
        var orderID: [UInt8]
        var order: OrderPlaced
        var isCancellation: Bool
        var index: [String: Int] = [:]
        var rows: Int
        var line: Int
        var problem: String?
    }

    private func reject(_ rejection: Rejection) {
        queue.append(.rejected(line: records.line, rows: 1, reason: rejection.reason))
    }

    private func csvRow() {
        let line = records.line
        let orderBytes = records.field(orderColumn)
        if records.fieldCount <= max(orderColumn, customerColumn, skuColumn, qtyColumn, timeColumn) {
            return reject(Rejection("bad_row", "the row has \(records.fieldCount) fields; the header has more"))
        }
        if let current = pending, current.orderID != orderBytes {
            pending = nil
            finish(current)
        }
        do throws(Rejection) {
            let orderID = try FieldValidation.identifier(orderBytes, field: "order_id")
            var isCancellation = false
            if preset == .onlineRetail {
                if orderBytes.first == UInt8(ascii: "A") {
                    throw Rejection("not_an_order", "invoice \(orderID) is an adjustment (A), not an order")
                }
                isCancellation = orderBytes.first == UInt8(ascii: "C")
            }
            var customerBytes = records.field(customerColumn)
            if preset == .onlineRetail {
                if customerBytes.isEmpty { throw Rejection("missing_customer_id", "the row has no CustomerID (a guest order)") }
                let count = customerBytes.count
                if count > 2, customerBytes[count - 2] == 0x2E, customerBytes[count - 1] == 0x30 { customerBytes.removeLast(2) }
            }
            let customer = try FieldValidation.identifier(customerBytes, field: "customer_id", allowBraces: false)
            let sku = try FieldValidation.identifier(records.field(skuColumn), field: "sku")
            var qtyBytes = records.field(qtyColumn)
            if preset == .onlineRetail, qtyBytes.first == UInt8(ascii: "-") { qtyBytes.removeFirst() }
            let qty = try FieldValidation.quantity(qtyBytes, in: 1...FieldValidation.maxQuantity)
            var title: String?
            if let titleColumn { title = try FieldValidation.title(records.field(titleColumn)) }

            if pending == nil {
                var timeBytes = records.field(timeColumn)
                if preset == .onlineRetail, !timeBytes.isEmpty { timeBytes.append(UInt8(ascii: "Z")) }
                if timeBytes.isEmpty { throw Rejection("bad_ts", "ts is empty") }
                guard let time = EventTime.parse(timeBytes) else {
                    throw Rejection("bad_ts", "ts \(Quoted.bytes(timeBytes)) is not epoch milliseconds or ISO-8601 with a zone")
                }
                var status = OrderStatus.processing
                if let statusColumn, !records.field(statusColumn).isEmpty {
                    status = try FieldValidation.status(records.field(statusColumn))
                }
                pending = PendingOrder(orderID: orderBytes,
                                       order: OrderPlaced(orderID: orderID, customerID: customer, lines: [], time: time, status: status),
                                       isCancellation: isCancellation, rows: 0, line: line)
            }
            add(sku: sku, qty: qty, title: title)
        } catch {
            reject(error)
        }
    }

    /// Adds a valid row to the pending order, summing the quantities of one SKU and keeping its
    /// first title, as the worker's parser does with `items`.
    private func add(sku: String, qty: Int, title: String?) {
        pending!.rows += 1
        guard pending!.problem == nil else { return }
        if let existing = pending!.index[sku] {
            let sum = pending!.order.lines[existing].quantity + qty
            if sum > FieldValidation.maxQuantity, !pending!.isCancellation {
                pending!.problem = "bad_items: items sku \(Quoted.string(sku)) adds up to \(sum); at most \(FieldValidation.maxQuantity) are allowed"
                return
            }
            pending!.order.lines[existing].quantity = min(sum, FieldValidation.maxQuantity)
            if pending!.order.lines[existing].title == nil { pending!.order.lines[existing].title = title }
            return
        }
        if pending!.order.lines.count == FieldValidation.maxOrderLines, !pending!.isCancellation {
            pending!.problem = "bad_items: order \(pending!.order.orderID) has more than \(FieldValidation.maxOrderLines) lines; at most \(FieldValidation.maxOrderLines) are allowed"
            pending!.order.lines = []
            pending!.index = [:]
            return
        }
        pending!.index[sku] = pending!.order.lines.count
        pending!.order.lines.append(OrderLine(sku: sku, quantity: qty, title: title))
    }

    private func finish(_ done: PendingOrder) {
        if let problem = done.problem {
            queue.append(.rejected(line: done.line, rows: done.rows, reason: problem + " (\(done.rows) rows)"))
        } else if done.isCancellation {
            queue.append(.cancellation(Cancellation(invoice: done.order.orderID, customerID: done.order.customerID,
                                                    skus: done.order.lines.map(\.sku), time: done.order.time),
                                       rows: done.rows, line: done.line))
        } else {
            queue.append(.order(done.order, rows: done.rows, line: done.line))
        }
    }

    // MARK: JSON lines

    private func jsonLine() {
        let line = records.line
        guard let object = (try? JSONSerialization.jsonObject(with: Data(records.bytes))) as? [String: Any] else {
            queue.append(.rejected(line: line, rows: 1, reason: "bad_json: the line is not a JSON object"))
            return
        }
        var fields: [RawEntry.Field] = []
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            let text: String
            switch value {
            case let string as String: text = string
            case let number as NSNumber: text = number.stringValue
            case is NSNull: continue
            default:
                guard let data = try? JSONSerialization.data(withJSONObject: value) else { continue }
                text = String(decoding: data, as: UTF8.self)
            }
            fields.append(RawEntry.Field(name, text))
        }
        guard fields.contains(where: { $0.name == Array("ts".utf8) }) else {
            queue.append(.rejected(line: line, rows: 1, reason: "missing_ts: ts is missing (an import needs each order's time)"))
            return
        }
        switch EventParser.parse(RawEntry(source: .orderPlaced, id: EntryID(milliseconds: 0, sequence: 0), fields: fields)) {
        case .success(.order(let order)): queue.append(.order(order, rows: 1, line: line))
        case .success: queue.append(.rejected(line: line, rows: 1, reason: "bad_json: not an order"))
        case .failure(let rejection): queue.append(.rejected(line: line, rows: 1, reason: rejection.reason))
        }
    }
}
