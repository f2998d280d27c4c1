public import Foundation
public import RedisClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from the test helpers; `description` says what to do.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A throwaway `redis-server` on a free loopback port, in a fresh temp directory.
///
/// Each instance is independent, so tests running in parallel can each start their own.
/// The process is killed and the directory removed when the instance is deallocated.
/// Thread-safe: all process state is guarded by a lock.
public final class RedisTestServer: @unchecked Sendable {
    public let port: Int
    /// Working directory of the server (`--dir`): RDB/AOF files and `redis.log` live here.
    public let directory: String
    public let executablePath: String
    /// Full argument list passed to redis-server (same on every restart).
    public let arguments: [String]

    /// `redis://127.0.0.1:<port>` (with the `--requirepass` password, if one was given).
    public var url: RedisURL { RedisURL(host: "127.0.0.1", port: port, password: password) }
    /// `url` as text, including the password (unlike `url.description`), for passing to a CLI.
    public var urlString: String {
        guard let password else { return "redis://127.0.0.1:\(port)" }
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "redis://:\(encoded)@127.0.0.1:\(port)"
    }
    public var logPath: String { directory + "/redis.log" }

    /// The `--requirepass` value from `extraArguments`, if any (included in `url` and `urlString`).
    public let password: String?

    private let lock = NSLock()
    private var process: Process?
    private let readyTimeout: TimeInterval

    /// - Parameters:
    ///   - extraArguments: appended last, so they override the defaults (e.g. `["--appendonly", "yes"]`).
    ///   - configFile: start from this redis.conf; port, bind, dir and daemonize are still forced.
    ///     Without it the defaults are `--save '' --appendonly no`.
    ///   - readyTimeout: seconds to wait for PING to answer.
    public init(extraArguments: [String] = [], configFile: String? = nil, readyTimeout: Double = 5) throws {
        let executable = try RedisTestServer.findRedisServer()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("dupwatch-redis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.executablePath = executable
        self.readyTimeout = readyTimeout
        // With --requirepass the readiness probe has to authenticate.
        var password: String?
        if let index = extraArguments.lastIndex(of: "--requirepass"), index + 1 < extraArguments.count {
            password = extraArguments[index + 1]
        }
        self.password = password

        var lastFailure = ""
        for _ in 0..<5 {
            let port: Int
            do {
                port = try RedisTestServer.freeLoopbackPort()
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            var args: [String] = []
            if let configFile { args.append(configFile) }
            args += ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--daemonize", "no"]
            if configFile == nil { args += ["--save", "", "--appendonly", "no"] }
            args += extraArguments

            let process: Process
            do {
                process = try RedisTestServer.launch(executable: executable, arguments: args, logPath: directory + "/redis.log")
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw TestSupportError("cannot start \(executable): \(error)")
            }
            switch RedisTestServer.waitUntilReady(process: process, port: port, password: password, timeout: readyTimeout) {
            case .ready:
                self.port = port
                self.arguments = args
                self.process = process
                return
            case .exited:
                // Most likely someone grabbed the port between our probe and redis' bind: retry.
                lastFailure = "redis-server exited during startup (status \(process.terminationStatus))"
            case .timedOut:
                RedisTestServer.hardKill(process)
                lastFailure = "redis-server did not answer PING within \(readyTimeout) s"
            }
        }
        let log = RedisTestServer.tail(ofFileAt: directory + "/redis.log")
        try? FileManager.default.removeItem(atPath: directory)
        throw TestSupportError("\(lastFailure) (after 5 attempts). Last log lines:\n\(log)")
    }

    deinit {
        if let process { RedisTestServer.hardKill(process) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new connection to this server.
    public func connect(connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws -> RedisConnection {
        try RedisConnection(url: url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
    }

    public var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// Process id of the running server, if any.
    public var pid: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// Graceful shutdown (SIGTERM), waits for the process to exit (SIGKILL after 10 s).
    public func stop() {
        lock.withLock {
            guard let process else { return }
            if process.isRunning {
                process.terminate()
                if !RedisTestServer.waitForExit(process, timeout: 10) {
                    RedisTestServer.hardKill(process)
                }
            }
            self.process = nil
        }
    }

    /// Crash the server (SIGKILL) and wait for it to be gone.
    public func kill() {
        lock.withLock {
            guard let process else { return }
            RedisTestServer.hardKill(process)
            self.process = nil
        }
    }

    /// Stops the server if it runs, then starts it again on the same port and directory with the
    /// same arguments (so an AOF/RDB in the directory is loaded). Returns when PING answers and
    /// loading has finished.
    public func restart() throws {
        try lock.withLock {
            if let process {
                if process.isRunning {
                    process.terminate()
                    if !RedisTestServer.waitForExit(process, timeout: 10) { RedisTestServer.hardKill(process) }
                }
                self.process = nil
            }
            var lastFailure = ""
            // The port can be briefly unavailable right after the old process died: retry a few times.
            for _ in 0..<10 {
                let process = try RedisTestServer.launch(executable: executablePath, arguments: arguments, logPath: logPath)
                switch RedisTestServer.waitUntilReady(process: process, port: port, password: password, timeout: readyTimeout) {
                case .ready:
                    self.process = process
                    return
                case .exited:
                    lastFailure = "redis-server exited during restart (status \(process.terminationStatus))"
                    Thread.sleep(forTimeInterval: 0.1)
                case .timedOut:
                    RedisTestServer.hardKill(process)
                    lastFailure = "redis-server did not become ready within \(readyTimeout) s after restart"
                }
            }
            throw TestSupportError("\(lastFailure). Last log lines:\n\(RedisTestServer.tail(ofFileAt: logPath))")
        }
    }

    /// The last lines of the server's log (stdout+stderr), for failure messages.
    public func logTail(lines: Int = 20) -> String {
        RedisTestServer.tail(ofFileAt: logPath, lines: lines)
    }

    // MARK: - helpers

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
    /// Another process may still take it before you bind; callers must retry on failure.
    /// A test that needs a port nobody listens on wants `ClosedLoopbackPort` instead.
    public static func freeLoopbackPort() throws -> Int {
        try ClosedLoopbackPort().port
    }

    static func findRedisServer() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSupportError("redis-server not found on PATH or in /usr/bin: install it with `apt-get install -y redis-server`")
    }

    static func launch(executable: String, arguments: [String], logPath: String) throws -> Process {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw TestSupportError("cannot open \(logPath) for writing")
        }
        log.seekToEndOfFile()
        let process = try Process.launched(executable: executable, arguments: arguments, stdout: log, stderr: log)
        try? log.close()
        return process
    }

    enum Readiness { case ready, exited, timedOut }

    /// Polls until PING answers PONG and INFO says loading is over, the process exits, or time runs out.
    static func waitUntilReady(process: Process, port: Int, password: String?, timeout: TimeInterval) -> Readiness {
        let deadline = Date().addingTimeInterval(timeout)
        let url = RedisURL(host: "127.0.0.1", port: port, password: password)
        while Date() < deadline {
            if !process.isRunning { return .exited }
            if let connection = try? RedisConnection(url: url, connectTimeoutMs: 250, commandTimeoutMs: 1000),
               let pong = try? connection.send(RedisCommand("PING")), pong == .status("PONG"),
               let info = try? connection.send(RedisCommand("INFO", "server", "persistence")).string {
                // If our server lost the race for the port, another test's server may be answering
                // here: only accept the one whose process_id is ours.
                guard info.contains("process_id:\(process.processIdentifier)\r\n") else {
                    if !RedisTestServer.waitForExit(process, timeout: 2) { return .timedOut }
                    return .exited
                }
                if info.contains("loading:0") { return .ready }
            } else if let connection = try? RedisConnection(url: RedisURL(host: "127.0.0.1", port: port), connectTimeoutMs: 250, commandTimeoutMs: 1000),
                      case .error(let message)? = try? connection.send(RedisCommand("PING")), message.hasPrefix("NOAUTH") {
                // A password from a config file we do not know: the server answers, which is all we can check.
                Thread.sleep(forTimeInterval: 0.05)
                return process.isRunning ? .ready : .exited
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return process.isRunning ? .timedOut : .exited
    }

    static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }

    static func hardKill(_ process: Process) {
        guard process.isRunning else { return }
        #if canImport(Glibc)
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        #else
        _ = Darwin.kill(process.processIdentifier, SIGKILL)
        #endif
        _ = waitForExit(process, timeout: 10)
    }

    static func tail(ofFileAt path: String, lines: Int = 20) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

extension Process {
    /// `run()`, but the child starts with SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2/SIGALRM unblocked.
    ///
    /// Foundation's Process (swift-corelibs) posix_spawns on the calling thread without resetting the
    /// signal mask, and Swift-concurrency/dispatch worker threads (where tests run) block most
    /// signals. A child started with plain `run()` from a test therefore inherits a mask with SIGTERM
    /// blocked and silently ignores `terminate()` (redis-server did: `stop()` hung until a SIGKILL).
    /// Use this for every process a test wants to stop gracefully, e.g. the `dupwatch` binary.
    /// Starts `executable` with stdin from /dev/null, the given outputs and environment
    /// (nil: this process's), signals unblocked (see `runWithSignalsUnblocked`).
    public static func launched(executable: String, arguments: [String], environment: [String: String]? = nil,
                                stdout: FileHandle, stderr: FileHandle) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.runWithSignalsUnblocked()
        return process
    }

    public func runWithSignalsUnblocked() throws {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&unblock, signal) }
        var previous = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &unblock, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
    }
}
