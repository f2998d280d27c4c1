public import RedisClient

/// What one redis-server has counted since it started, from `INFO all`: its CPU, how often it
/// ran each command, and the errors it replied. The cluster benchmark reads every node before
/// and after a phase and compares (`-`).
public struct NodeCounters: Sendable, Equatable {
    public var node: String
    public var isReplica: Bool
    /// `used_cpu_sys_main_thread` + `used_cpu_user_main_thread`, µs: the thread that runs the commands.
    public var mainThreadCPUMicros: Double
    /// `used_cpu_sys` + `used_cpu_user` and their `_children`, µs: the whole process (AOF fsync,
    /// lazy free, replication) and its reaped children (AOF rewrites), as `RedisInfo` counts it.
    public var processCPUMicros: Double
    /// `cmdstat_<name>` calls, by Redis's lower-case name (`xadd`, `cluster|slots`).
    public var calls: [String: Int64]
    /// `errorstat_<CODE>` counts (`CROSSSLOT`, `MOVED`).
    public var errors: [String: Int64]

    public init(node: String, isReplica: Bool = false, mainThreadCPUMicros: Double = 0, processCPUMicros: Double = 0,
                calls: [String: Int64] = [:], errors: [String: Int64] = [:]) {
        self.node = node
        self.isReplica = isReplica
        self.mainThreadCPUMicros = mainThreadCPUMicros
        self.processCPUMicros = processCPUMicros
        self.calls = calls
        self.errors = errors
    }

    /// From the text of `INFO all` (lines `name:value`, `cmdstat_x:calls=3,usec=...`,
    /// `errorstat_X:count=2`).
    public init(node: String, info text: String) {
        let values = RedisInfo.fields(info: text)
        var calls: [String: Int64] = [:]
        var errors: [String: Int64] = [:]
        for (name, value) in values {
            if name.hasPrefix("cmdstat_") {
                calls[String(name.dropFirst("cmdstat_".count))] = Self.field("calls", of: value)
            } else if name.hasPrefix("errorstat_") {
                errors[String(name.dropFirst("errorstat_".count))] = Self.field("count", of: value)
            }
        }
        let cpu = RedisInfo.cpuMicros(values)
        self.init(node: node, isReplica: values["role"] == "slave", mainThreadCPUMicros: cpu.mainThread,
                  processCPUMicros: cpu.process, calls: calls, errors: errors)
    }

    public static func read(_ connection: RedisConnection, node: String) throws -> NodeCounters {
        NodeCounters(node: node, info: try connection.command("INFO", "all").string)
    }

    /// `name=<integer>` out of `a=1,b=2`; 0 when absent.
    private static func field(_ name: String, of list: Substring) -> Int64 {
        for pair in list.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return Int64(parts[1]) ?? 0 }
        }
        return 0
    }

    /// What happened between `earlier` and `self` (same node).
    public static func - (later: NodeCounters, earlier: NodeCounters) -> NodeCounters {
        NodeCounters(node: later.node, isReplica: later.isReplica,
                     mainThreadCPUMicros: later.mainThreadCPUMicros - earlier.mainThreadCPUMicros,
                     processCPUMicros: later.processCPUMicros - earlier.processCPUMicros,
                     calls: later.calls.merging(earlier.calls.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 },
                     errors: later.errors.merging(earlier.errors.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 })
    }
}
