import Foundation

/// The reject file: one line per rejected row (or order), `<line number><TAB><code>: <message>`.
/// Created (emptied) when the import starts, so that it describes the last run.
public final class RejectWriter {
    public let path: String
    private let file: UnsafeMutablePointer<FILE>

    public init(path: String) throws {
        guard let opened = fopen(path, "w") else {
            throw OrderFileError("cannot write the reject file \(path): \(String(cString: strerror(errno))) (choose another with --rejects)")
        }
        self.path = path
        file = opened
    }

    deinit {
        fclose(file)
    }

    public func write(line: Int, reason: String) throws {
        // Foundation's replacingOccurrences cost more than the rest of a rejected row.
        let oneLine = reason.utf8.contains(0x0A) ? String(reason.map { $0 == "\n" ? " " : $0 }) : reason
        fputs("\(line)\t\(oneLine)\n", file)
    }

    public func flush() throws {
        fflush(file)
    }
}
