import Foundation

/// Progress of a long phase on stderr (stdout stays clean for tables and JSON). On a terminal,
/// one line redrawn in place; otherwise (a log file, a pipe) a line when the phase starts and
/// one when it ends, never a carriage-return redraw per percent.
public struct ProgressBar {
    let label: String
    let total: Int
    let redraws: Bool
    private var lastDrawn = -1
    private let write: (String) -> Void

    /// On stderr, redrawn in place when stderr is a terminal.
    public init(_ label: String, total: Int) {
        self.init(label, total: total, terminal: isatty(STDERR_FILENO) == 1) {
            FileHandle.standardError.write(Data($0.utf8))
        }
    }

    /// `write` receives everything that would go to stderr.
    public init(_ label: String, total: Int, terminal: Bool, write: @escaping (String) -> Void) {
        self.label = label
        self.total = max(1, total)
        self.redraws = terminal
        self.write = write
    }

    public mutating func update(_ done: Int) {
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn else { return }
        let first = lastDrawn < 0
        lastDrawn = percent
        guard redraws else {
            if first { write("\(label): \(total) to go\n") }
            if percent == 100 { write("\(label): done (\(done)/\(total))\n") }
            return
        }
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\(label) [\(bar)] \(percent)% (\(done)/\(total))")
        if percent == 100 { write("\n") }
    }
}
