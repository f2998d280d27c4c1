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
        let values = try fields(connection, section: "all")
        func double(_ key: Substring) -> Double { values[key].flatMap { Double($0) } ?? 0 }
        let cpu = cpuMicros(values)
        return RedisInfo(
            mainThreadCPUMicros: cpu.mainThread,
            totalCPUMicros: cpu.process,
            usedMemory: Int64(double("used_memory")),
            aofSize: Int64(double("aof_current_size")),
            aofEnabled: values["aof_enabled"] == "1",
            aofRewrites: Int64(double("aof_rewrites")))
    }

    /// `aof_current_size` and `aof_rewrites` alone (`INFO persistence`), for sampling during a run.
    public static func aofSample(_ connection: RedisConnection) throws -> (size: Int64, rewrites: Int64) {
        let values = try fields(connection, section: "persistence")
        func int(_ key: Substring) -> Int64 { values[key].flatMap { Int64($0) } ?? 0 }
        return (int("aof_current_size"), int("aof_rewrites"))
    }

    /// `INFO <section>` as name -> value.
    private static func fields(_ connection: RedisConnection, section: String) throws -> [Substring: Substring] {
        fields(info: try connection.command("INFO", section).string)
    }

    /// The text of an `INFO` reply as name -> value (its `name:value` lines).
    static func fields(info text: String) -> [Substring: Substring] {
        var values: [Substring: Substring] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            values[line[..<colon]] = line[line.index(after: colon)...]
        }
        return values
    }

    /// CPU from `INFO` fields, µs: the main (command) thread's, `used_cpu_sys_main_thread` +
    /// `used_cpu_user_main_thread`; and the whole process's, `used_cpu_sys` + `used_cpu_user`
    /// and their `_children` (background threads, and AOF rewrite children once reaped).
    static func cpuMicros(_ values: [Substring: Substring]) -> (mainThread: Double, process: Double) {
        func double(_ key: Substring) -> Double { values[key].flatMap { Double($0) } ?? 0 }
        return ((double("used_cpu_sys_main_thread") + double("used_cpu_user_main_thread")) * 1e6,
                (double("used_cpu_sys") + double("used_cpu_user") + double("used_cpu_sys_children")
                    + double("used_cpu_user_children")) * 1e6)
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
