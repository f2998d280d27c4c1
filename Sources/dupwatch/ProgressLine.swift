import DupWatchImport
import Foundation

/// `<label> rows=… rows/s=… 42%` rewritten in place on stderr, when stderr is a terminal: what a
/// command reading an order file shows while it reads.
final class ProgressLine {
    private let label: String
    private let enabled = isatty(STDERR_FILENO) == 1
    private var last = ContinuousClock.now
    private var shown = false

    init(label: String) {
        self.label = label
    }

    func show(_ progress: ImportProgress) {
        guard enabled, ContinuousClock.now - last >= .milliseconds(250) else { return }
        last = ContinuousClock.now
        let rate = progress.seconds > 0 ? Int(Double(progress.rows) / progress.seconds) : 0
        let percent = progress.fileSize > 0 ? " \(Int(Double(progress.fileBytesRead) * 100 / Double(progress.fileSize)))%" : ""
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label) rows=\(progress.rows) rows/s=\(rate)\(percent)".utf8))
        shown = true
    }

    func end() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        shown = false
    }
}
