import Foundation

/// The counts of an import.
public struct ImportSummary: Sendable, Equatable {
    public var rows = 0
    /// Orders read from the file (valid ones, stored now or before).
    public var orders = 0
    /// Of those, already stored (a re-import, or a repeated order id): nothing written.
    public var alreadyStored = 0
    public var cancellations = 0
    public var customers = 0
    public var rejected = 0
    public var seconds = 0.0

    public var rowsPerSecond: Int { seconds > 0 ? Int(Double(rows) / seconds) : rows }

    /// `import rows=… orders=… cancellations=… customers=… rejected=… seconds=… rows_per_s=…`
    public var line: String {
        "import rows=\(rows) orders=\(orders) cancellations=\(cancellations) customers=\(customers) rejected=\(rejected) "
            + "seconds=\(String(format: "%.2f", seconds)) rows_per_s=\(rowsPerSecond)"
    }
}

/// Where an import stands, for a progress line.
public struct ImportProgress: Sendable {
    public var rows: Int
    public var fileBytesRead: Int64
    public var fileSize: Int64
    public var seconds: Double

    public init(rows: Int, fileBytesRead: Int64, fileSize: Int64, seconds: Double) {
        self.rows = rows
        self.fileBytesRead = fileBytesRead
        self.fileSize = fileSize
        self.seconds = seconds
    }
}
