import Foundation
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The demo page in a real browser: a throwaway redis-server, the real `dupwatch worker` and
/// `dupwatch serve` as child processes, and Tests/Browser/demo_page_test.py driving headless
/// Chromium through the whole story (add, order, come back days later, add again, the dialog,
/// Remove). Chromium, chromedriver and Selenium are required: CI installs them, and a machine
/// without them fails here with the command that installs them.
///
/// `DUPWATCH_DEMO_SCREENSHOT=/path.png` keeps the script's screenshot of the dialog (docs/demo-dialog.png
/// is one); `DUPWATCH_PYTHON` picks the interpreter (default: Debian's /usr/bin/python3, which is
/// the one python3-selenium installs for).
@Suite("Demo page in headless Chromium")
struct DemoPageBrowserTests {
    static let apiKey = "demo-browser-test-key-3f9c1a"
    static let feedbackStream = "stream:alerts:feedback"

    @Test(.timeLimit(.minutes(5)))
    func duplicateDialogAsksAndRemoveSendsFeedback() async throws {
        let browser: BrowserTools
        do {
            browser = try BrowserTools.locate()
        } catch {
            Issue.record("\(error)")
            return
        }

        let h = try Harness()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/api-keys"
        try "# the browser test's key\n\(Self.apiKey) read,ingest\n".write(toFile: keyFile, atomically: true, encoding: .utf8)

        let worker = try h.start(["worker", "--redis-url", h.url])
        let port = try RedisTestServer.freeLoopbackPort()
        let server = try h.start(["serve", "--host", "127.0.0.1", "--port", String(port), "--api-keys", keyFile,
                                  "--redis-url", h.url])
        defer {
            server.signal(SIGTERM)
            worker.signal(SIGTERM)
        }
        func processes() -> String {
            "--- serve stderr ---\n\(server.stderrSoFar)\n--- worker stderr ---\n\(worker.stderrSoFar)"
        }

        let ready = try await Self.waitUntilReady(port: port, timeout: 30) { server.isRunning }
        try #require(ready, "dupwatch serve did not answer 200 on /readyz within 30 s\n\(processes())")
        let owns = try await worker.waitForStderr(timeout: 15) { $0.contains("owns the streams") }
        try #require(owns, "the worker did not take the streams\n\(processes())")

        let screenshot = ProcessInfo.processInfo.environment["DUPWATCH_DEMO_SCREENSHOT"] ?? directory + "/demo-dialog.png"
        let run = try await browser.runScript(arguments: [
            "--url", "http://127.0.0.1:\(port)/demo#key=\(Self.apiKey)",
            "--screenshot", screenshot,
            "--timeout", "45",
        ], outputDirectory: directory, timeout: 240)
        try #require(run.status == 0, "demo_page_test.py failed: \(run)\n\(processes())")
        #expect(FileManager.default.fileExists(atPath: screenshot), "no screenshot at \(screenshot)")

        // What the page says it did, checked against Redis.
        let summaryLine = run.stdout.split(separator: "\n").last { $0.hasPrefix("demo page test passed: ") }
        let summary = try #require(summaryLine.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst("demo page test passed: ".count).utf8)) as? [String: Any]
        }, "no summary line in the script's output: \(run)")
        let customer = try #require(summary["customer_id"] as? String)
        let alertID = try #require(summary["alert_id"] as? String)
        let orderID = try #require(summary["order_id"] as? String)

        let alerts = try h.alerts().filter { $0["customer_id"] == customer }
        #expect(alerts.count == 1, "alerts of \(customer): \(alerts)")
        #expect(alerts.first?["alert_id"] == alertID)
        #expect(alerts.first?["match"] == "order")
        #expect(alerts.first?["order_id"] == orderID)
        #expect(alerts.first?["trigger"] == "cart")

        let feedback = try h.entries(Self.feedbackStream).map(\.fields)
        #expect(feedback.contains { $0["action"] == "removed_item" && $0["alert_id"] == alertID && $0["customer_id"] == customer },
                "stream:alerts:feedback has no removed_item entry for alert \(alertID): \(feedback)")

        // The Remove reached the worker: the SKU left DupWatch's cart.
        let sku = try #require(summary["sku"] as? String)
        let cartGone = try await h.eventually(timeout: 10) {
            let entries = try h.entries(Streams.cart).map(\.fields)
            return entries.contains { $0["type"] == "remove" && $0["customer_id"] == customer && $0["sku"] == sku }
        }
        #expect(cartGone, "no cart remove of \(sku) for \(customer) in \(Streams.cart)")
        #expect(server.isRunning && worker.isRunning, "a child process died during the run\n\(processes())")
    }

    /// Polls `GET /readyz` until it answers 200.
    static func waitUntilReady(port: Int, timeout: Double, alive: () -> Bool) async throws -> Bool {
        let url = URL(string: "http://127.0.0.1:\(port)/readyz")!
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !alive() { return false }
            var request = URLRequest(url: url)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return true
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}

/// Python with Selenium, chromedriver and Chromium, or why not.
struct BrowserTools {
    static let installHint = "run `apt-get install chromium chromium-driver python3-selenium` (CI's .ci/run and scripts/install-deps.sh do)"
    static let chromedriver = "/usr/bin/chromedriver"

    let python: String
    let script: String

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    struct ScriptResult: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit status \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)" }
    }

    /// `script`: a file of Tests/Browser.
    static func locate(script name: String = "demo_page_test.py") throws -> BrowserTools {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Browser/\(name)").path
        guard FileManager.default.fileExists(atPath: script) else { throw Missing(description: "the browser script is missing: \(script)") }
        guard FileManager.default.isExecutableFile(atPath: chromedriver) else {
            throw Missing(description: "the browser test needs \(chromedriver) (chromium-driver): \(installHint)")
        }
        guard executableOnPath("chromium") != nil else {
            throw Missing(description: "the browser test needs headless Chromium (`chromium` on PATH): \(installHint)")
        }
        var candidates: [String] = []
        if let chosen = ProcessInfo.processInfo.environment["DUPWATCH_PYTHON"] { candidates.append(chosen) }
        candidates.append("/usr/bin/python3")
        if let onPath = executableOnPath("python3") { candidates.append(onPath) }
        for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
            if (try? run(python, ["-c", "import selenium"], timeout: 30).status) == 0 {
                return BrowserTools(python: python, script: script)
            }
        }
        throw Missing(description: "the browser test needs Selenium for python3 (tried \(candidates.joined(separator: ", "))): \(installHint)")
    }

    func runScript(arguments: [String], outputDirectory: String, timeout: Double) async throws -> ScriptResult {
        try await Task.detached {
            try Self.run(python, [script] + arguments, timeout: timeout, outputDirectory: outputDirectory)
        }.value
    }

    static func executableOnPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a program to completion with its output in files (no pipe to fill up); kills it
    /// after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], timeout: Double,
                    outputDirectory: String? = nil) throws -> ScriptResult {
        let directory = outputDirectory ?? FileManager.default.temporaryDirectory.path
        let tag = UUID().uuidString
        let outPath = "\(directory)/\(tag).stdout", errPath = "\(directory)/\(tag).stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw Missing(description: "cannot open output files in \(directory)")
        }
        let process = try Process.launched(executable: executable, arguments: arguments, stdout: out, stderr: err)
        try? out.close()
        try? err.close()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(50_000)
        }
        process.waitUntilExit()
        let stdout = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
        var stderr = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        if timedOut { stderr += "\n(killed after \(Int(timeout)) s)" }
        return ScriptResult(status: timedOut ? -1 : process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}
