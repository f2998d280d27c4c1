import Foundation
import TestSupport
import Testing

/// scripts/systemd/*.service pass `systemd-analyze verify` without a warning. verify checks that
/// ExecStart's executable exists, so each unit is verified from a copy that runs the built
/// `dupwatch` instead of /usr/local/bin/dupwatch.
@Suite("systemd units")
struct SystemdUnitTests {
    static let analyzer = "/usr/bin/systemd-analyze"
    static let installedBinary = "/usr/local/bin/dupwatch"

    @Test(arguments: ["dupwatch-worker.service", "dupwatch-server.service"])
    func unitVerifiesWithoutWarnings(unit: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.analyzer) else {
            print("skipped: \(Self.analyzer) is absent, so \(unit) is not verified")
            return
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/systemd/\(unit)").standardizedFileURL
        let text = try String(contentsOf: source, encoding: .utf8)
        #expect(text.contains("ExecStart=\(Self.installedBinary) "), "\(unit) does not run \(Self.installedBinary)")
        for setting in ["User=dupwatch", "EnvironmentFile=-/etc/dupwatch/dupwatch.env", "Restart=on-failure",
                        "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "KillSignal=SIGTERM",
                        "After=network-online.target redis-server.service"] {
            #expect(text.split(separator: "\n").contains { $0 == setting }, "\(unit) lacks \(setting)")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent(unit)
        let binary = try ProductLocator.executable(named: "dupwatch")
        try text.replacingOccurrences(of: "ExecStart=\(Self.installedBinary) ", with: "ExecStart=\(binary) ")
            .write(to: copy, atomically: true, encoding: .utf8)

        let result = try run(Self.analyzer, ["verify", copy.path])
        #expect(result.status == 0, "systemd-analyze verify \(unit): exit \(result.status)\n\(result.stderr)")
        let aboutTheUnit = result.stderr.split(separator: "\n").filter { $0.contains(unit) || $0.contains(directory.path) }
        #expect(aboutTheUnit.isEmpty, "systemd-analyze verify \(unit) warns:\n\(aboutTheUnit.joined(separator: "\n"))")
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let output = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
