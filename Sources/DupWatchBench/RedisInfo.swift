public import RedisClient
import Foundation

/// The few `INFO` figures the benchmark reads before and after a run.
public struct RedisInfo: Sendable {
    /// CPU of the main (command) thread, µs: `used_cpu_sys_main_thread` + `used_cpu_user_main_thread`.
    public var mainThreadCPUMicros: Double
    /// All redis-server CPU (incl. background threads and AOF rewrite children once reaped), µs.
    public var totalCPUMicros: Double
    public var usedMemory: Int64
    /// Current AOF size in bytes; 0 when AOF is off.
    public var aofSize: Int64
    public var aofEnabled: Bool
    /// AOF rewrites completed since the server started (`aof_rewrites`).
    public var aofRewrites: Int64

    public static func read(_ connection: RedisConnection) throws -> RedisInfo {
        let text = try connection.command("INFO", "all").string
        var values: [Substring: Substring] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            values[line[..<colon]] = line[line.index(after: colon)...]
        }
        func double(_ key: Substring) -> Double { values[key].flatMap { Double($0) } ?? 0 }
        return RedisInfo(
            mainThreadCPUMicros: (double("used_cpu_sys_main_thread") + double("used_cpu_user_main_thread")) * 1e6,
            totalCPUMicros: (double("used_cpu_sys") + double("used_cpu_user") + double("used_cpu_sys_children")
                + double("used_cpu_user_children")) * 1e6,
            usedMemory: Int64(double("used_memory")),
            aofSize: Int64(double("aof_current_size")),
            aofEnabled: values["aof_enabled"] == "1",
            aofRewrites: Int64(double("aof_rewrites")))
    }

    /// `aof_current_size` and `aof_rewrites` alone (`INFO persistence`), for sampling during a run.
    public static func aofSample(_ connection: RedisConnection) throws -> (size: Int64, rewrites: Int64) {
        var size: Int64 = 0
        var rewrites: Int64 = 0
        for line in try connection.command("INFO", "persistence").string.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("aof_current_size:") { size = Int64(line.dropFirst("aof_current_size:".count)) ?? 0 }
            if line.hasPrefix("aof_rewrites:") { rewrites = Int64(line.dropFirst("aof_rewrites:".count)) ?? 0 }
        }
        return (size, rewrites)
    }

    /// Waits until no AOF rewrite is running or scheduled, so that one a measurement triggered is
    /// not billed to the next (up to 60 s).
    public static func waitForAOFRewrite(_ redis: RedisConnection) throws {
        for _ in 0..<600 {
            let text = try redis.command("INFO", "persistence").string
            if !text.contains("aof_rewrite_in_progress:1") && !text.contains("aof_rewrite_scheduled:1") { return }
            usleep(100_000)
        }
    }
}
