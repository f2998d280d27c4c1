import Foundation

/// Files a test writes for a command to read (in a fresh temp directory each).
public enum TemporaryFiles {
    /// Writes `contents` to `name` in a new temp directory; returns the path.
    public static func write(_ name: String, _ contents: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `gzip -k` of `path`; returns the `.gz` path.
    public static func gzip(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-k", "-f", path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSupportError("gzip -k \(path) failed (status \(process.terminationStatus))") }
        return path + ".gz"
    }
}
