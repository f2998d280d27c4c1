import Foundation

/// Turns the UCI Online Retail order lines into DupWatch events, in time order: one order per
/// invoice with a customer; a cancellation invoice (`C…`) becomes a `cancelled` status update of
/// the customer's latest earlier order holding that product. Invoice times are UK local time
/// without a zone; they are read as UTC.
public enum RetailReplay {
    public static func entries(csvGz path: String, limit: Int) throws -> [GeneratedEntry] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BenchError("no file at \(path); the data set lives in ../shared/data/online-retail/")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zcat", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)

        struct Invoice { var number: String; var customer: String; var time: String; var lines: [(String, Int, String)] }
        var invoices: [Invoice] = []
        var current: Invoice?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() where index > 0 {
            let cells = csvCells(line)
            guard cells.count >= 8 else { continue }
            let (number, sku, title, qtyText, date, customer) = (cells[0], cells[1], cells[2], cells[3], cells[4], cells[6])
            guard !customer.isEmpty, let quantity = Int(qtyText), !number.hasPrefix("A") else { continue }
            if current?.number != number {
                if let done = current { invoices.append(done) }
                current = Invoice(number: number, customer: "R" + customer.replacingOccurrences(of: ".0", with: ""),
                                  time: date + "Z", lines: [])
            }
            current?.lines.append((sku, abs(quantity), title))
        }
        if let done = current { invoices.append(done) }
        invoices.sort { $0.time < $1.time }

        var out: [GeneratedEntry] = []
        var ordersHolding: [String: [(order: String, skus: Set<String>)]] = [:]
        for invoice in invoices {
            guard out.count < limit else { break }
            let time = Int64(out.count) // order only; the real time travels in `ts`
            if invoice.number.hasPrefix("C") {
                let skus = Set(invoice.lines.map(\.0))
                guard let match = ordersHolding[invoice.customer]?.last(where: { !$0.skus.isDisjoint(with: skus) }) else { continue }
                out.append(GeneratedEntry(source: .orderStatus, time: time, fields: [
                    ("order_id", match.order), ("customer_id", invoice.customer), ("status", "cancelled"), ("ts", invoice.time),
                ], malformed: false))
                continue
            }
            let items = OrderItemJSON.array(invoice.lines.map { OrderItemJSON(sku: $0.0, qty: max(1, $0.1), title: $0.2) })
            out.append(GeneratedEntry(source: .orderPlaced, time: time, fields: [
                ("order_id", invoice.number), ("customer_id", invoice.customer), ("items", items), ("ts", invoice.time),
            ], malformed: false))
            ordersHolding[invoice.customer, default: []].append((invoice.number, Set(invoice.lines.map(\.0))))
        }
        return out
    }

    static func csvCells(_ line: Substring) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { cell.append("\"") } else {
                            quoted = false
                            if next == "," { cells.append(cell); cell = "" } else if next != "\r" { cell.append(next) }
                        }
                    } else { quoted = false }
                } else { cell.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { cells.append(cell); cell = "" }
            else if c != "\r" { cell.append(c) }
        }
        cells.append(cell)
        return cells
    }
}

/// One line of an order's `items`, as producers write it.
struct OrderItemJSON: Encodable {
    var sku: String
    var qty: Int
    var title: String?

    /// The `items` field of an order entry.
    static func array(_ items: [OrderItemJSON]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // An array of strings and integers always encodes.
        return (try? encoder.encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
