/// The throughput a deployment of K masters and K workers would have on K + K cores, from the
/// CPU per event measured on any number of them (docs/DESIGN.md, "Growing to a Redis Cluster"):
///
/// - every event costs `redisMicrosPerEvent` of one master's command thread and
///   `workerMicrosPerEvent` of one worker's thread, whatever K is: nothing on the hot path is
///   shared, and coordination (≤ 1 command per 1,000 events) is left out;
/// - each master and each worker has a core of its own (replicas, AOF fsync and the producers
///   run elsewhere), and a worker's partitions run on one thread;
/// - partitions carry equal load and spread as evenly as whole partitions can: the busiest
///   master and the busiest worker hold ⌈N/K⌉ of the N partitions, and they saturate first.
///
/// So capacity = N / ⌈N/K⌉ × 10⁶ / max(redis µs, worker µs) events/s: K × the one-core rate
/// while K divides N, never more than N × it (a partition is one slot and one thread).
public struct CapacityModel: Sendable, Equatable {
    public var partitions: Int
    public var redisMicrosPerEvent: Double
    public var workerMicrosPerEvent: Double

    public init(partitions: Int, redisMicrosPerEvent: Double, workerMicrosPerEvent: Double) {
        self.partitions = partitions
        self.redisMicrosPerEvent = redisMicrosPerEvent
        self.workerMicrosPerEvent = workerMicrosPerEvent
    }

    /// The process that saturates first.
    public var bottleneck: String { redisMicrosPerEvent >= workerMicrosPerEvent ? "redis" : "worker" }

    /// Events/s with `k` masters and `k` workers, each on its own core.
    public func eventsPerSecond(masters k: Int) -> Double {
        let slowest = max(redisMicrosPerEvent, workerMicrosPerEvent)
        guard k >= 1, partitions >= 1, slowest > 0 else { return 0 }
        let busiestShare = (partitions + k - 1) / k
        return Double(partitions) / Double(busiestShare) * 1e6 / slowest
    }
}
