/// Left-aligned columns for terminal output.
public struct TextTable {
    let headers: [String]
    var rows: [[String]] = []

    public init(_ headers: String...) {
        self.headers = headers
    }

    public mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    public var rendered: String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n")
    }
}
