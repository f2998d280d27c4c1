public import Foundation

/// A worker run as a child process, measured as its users see it: wall time, CPU and peak RSS
/// from `wait4`'s rusage.
public struct WorkerProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var wallSeconds: Double
        public var cpuSeconds: Double
        public var maxRSSBytes: Int64
    }

    public let arguments: [String]
    /// Set in the child's environment on top of this process's.
    public let environment: [String: String]

    /// `command[0]` is the executable (looked up on PATH if it has no slash).
    public init(arguments: [String], environment: [String: String] = [:]) {
        self.arguments = arguments
        self.environment = environment
    }

    public func start() throws -> pid_t {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let code = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard code == 0 else {
            throw BenchError("cannot start \(arguments[0]): \(String(cString: strerror(code)))")
        }
        return pid
    }

    /// Waits for the child, sampling its peak RSS (`VmHWM`) every 20 ms meanwhile: rusage's
    /// `ru_maxrss` of a child started with posix_spawn (vfork) also counts the parent's peak,
    /// which for the benchmark is the generated workload, not the worker.
    public static func wait(_ pid: pid_t, startedAt: ContinuousClock.Instant) -> Result {
        var status: Int32 = 0
        var usage = rusage()
        var peakKB: Int64 = 0
        while true {
            if let hwm = highWaterMarkKB(pid) { peakKB = max(peakKB, hwm) }
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid || (done == -1 && errno != EINTR) { break }
            usleep(20_000)
        }
        return result(status: status, usage: usage, wall: startedAt.duration(to: .now), peakKB: peakKB)
    }

    /// `wait` for several children at once, each sampled until it exits, so that a child that
    /// exits while another is waited for still gets its own wall time and peak RSS.
    public static func waitAll(_ pids: [pid_t], startedAt: ContinuousClock.Instant) -> [Result] {
        var results = [Result?](repeating: nil, count: pids.count)
        var peaksKB = [Int64](repeating: 0, count: pids.count)
        while results.contains(where: { $0 == nil }) {
            for (index, pid) in pids.enumerated() where results[index] == nil {
                if let hwm = highWaterMarkKB(pid) { peaksKB[index] = max(peaksKB[index], hwm) }
                var status: Int32 = 0
                var usage = rusage()
                let done = wait4(pid, &status, WNOHANG, &usage)
                guard done == pid || (done == -1 && errno != EINTR) else { continue }
                results[index] = result(status: status, usage: usage, wall: startedAt.duration(to: .now), peakKB: peaksKB[index])
            }
            usleep(20_000)
        }
        return results.map { $0! }
    }

    private static func result(status: Int32, usage: rusage, wall: Duration, peakKB: Int64) -> Result {
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitCode, wallSeconds: wall.inSeconds, cpuSeconds: cpu, maxRSSBytes: peakKB * 1024)
    }

    /// Whether the child has exited: it is a zombie until `wait` reaps it, so its pid cannot have
    /// been reused yet.
    public static func hasExited(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let nameEnd = stat.lastIndex(of: ")") else { return true }
        return stat[nameEnd...].dropFirst(2).first == "Z"
    }

    /// `VmHWM` of a live process, in kB; nil once it is gone.
    static func highWaterMarkKB(_ pid: pid_t) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int64(line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    public func run() throws -> Result {
        let started = ContinuousClock.now
        let pid = try start()
        return Self.wait(pid, startedAt: started)
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
