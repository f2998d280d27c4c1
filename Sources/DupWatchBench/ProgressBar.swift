import Foundation

/// A one-line progress bar on stderr (stdout stays clean for tables and JSON).
public struct ProgressBar {
    let label: String
    let total: Int
    private var lastDrawn = -1

    public init(_ label: String, total: Int) {
        self.label = label
        self.total = max(1, total)
    }

    public mutating func update(_ done: Int) {
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% (\(done)/\(total))".utf8))
        if percent == 100 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
