import DupWatchBench
import DupWatchCLI
import Foundation

/// `dupwatch-bench cluster`'s report as tables and its one summary line.
enum ClusterReportTable {
    static func print(_ r: ClusterBenchReport) {
        Swift.print("DupWatch cluster bench — \(r.partitions) partitions, \(r.workers) workers, \(r.masters) masters + \(r.replicas) replicas, \(r.events) events")
        var table = TextTable("MEASURE", "CLUSTER", "SINGLE NODE", "RATIO")
        let single = r.single
        table.add("events/s (drain)", f(r.events_per_s, 0), opt(single?.events_per_s, 0), "")
        table.add("redis CPU µs/event (command threads, masters summed)", f(r.redis_us_per_event, 2), opt(single?.redis_us_per_event, 2), ratio(r.redis_ratio))
        table.add("redis CPU µs/event (whole processes, masters)", f(r.redis_process_us_per_event, 2), opt(single?.redis_process_us_per_event, 2), ratio(r.redis_process_ratio))
        table.add("replicas CPU µs/event (whole processes)", f(r.replica_us_per_event, 2), "no replica", "")
        table.add("worker CPU µs/event (workers summed)", f(r.worker_us_per_event, 2), opt(single?.worker_us_per_event, 2), ratio(r.worker_ratio))
        table.add("worker's Redis commands per event (masters)", f(r.commands_per_event, 2), opt(single?.commands_per_event, 2), "")
        table.add("commits (EXEC) per 1,000 events", f(r.commits_per_1000, 2), opt(single?.commits_per_1000, 2), "")
        table.add("alerts / dead letters", "\(r.alerts) / \(r.deadletters)", single.map { "\($0.alerts) / \($0.deadletters)" } ?? "-", "")
        Swift.print(table.rendered)

        var nodes = TextTable("NODE", "ROLE", "PARTITIONS", "EVENTS", "CPU MAIN ms", "CPU PROC ms", "PROC µs/EVENT (of all)", "COMMANDS", "COORD/1000 (drain)", "COORD/1000 (steady)", "FENCING/1000", "CROSSSLOT")
        for n in r.node_stats {
            nodes.add(n.node, n.role, n.partitions.map(String.init).joined(separator: ","), "\(n.events)", f(n.main_thread_cpu_ms, 0),
                      f(n.process_cpu_ms, 0), f(n.process_us_per_event, 2), "\(n.commands)", opt(n.coordination_per_1000, 3), opt(n.steady_coordination_per_1000, 3),
                      opt(n.fencing_per_1000, 1), "\(n.crossslot_errors)")
        }
        Swift.print(nodes.rendered)

        var partitions = TextTable("PARTITION", "SLOT", "NODE", "EVENTS", "DRAINED AFTER s", "EVENTS/s")
        for p in r.partition_stats {
            partitions.add("\(p.partition)", "\(p.slot)", p.node, "\(p.events)", f(p.drained_s, 2), f(p.events_per_s, 0))
        }
        Swift.print(partitions.rendered)

        var workers = TextTable("WORKER", "EXITED AFTER s", "CPU s", "µs/EVENT (of all events)", "PEAK RSS MB")
        for w in r.worker_stats { workers.add(w.consumer, f(w.wall_s, 2), f(w.cpu_s, 2), f(w.us_per_event, 2), f(w.peak_rss_mb, 1)) }
        Swift.print(workers.rendered)

        var checks = TextTable("CHECK", "VALUE")
        checks.add("keys outside the partitions' slots (and the two deployment keys)", "\(r.keys_outside_partition_slots)")
        checks.add("CROSSSLOT errors, all nodes", "\(r.crossslot_errors)")
        if let latency = r.latency {
            checks.add("latency @ \(latency.rate)/s for \(f(latency.seconds, 1)) s: alerts", "\(latency.alerts)")
            checks.add("latency p50 / p99 / p99.9 / max", "\(f(latency.p50_ms, 2)) / \(f(latency.p99_ms, 2)) / \(f(latency.p999_ms, 2)) / \(f(latency.max_ms, 2)) ms")
        }
        if let rebalance = r.rebalance {
            let each = zip(rebalance.partitions, rebalance.ms).map { "p\($0)=\($1.map { f($0, 0) } ?? "none")" }.joined(separator: " ")
            checks.add("rebalance after SIGKILL of \(rebalance.killed): ms to commit again", each)
            checks.add("rebalance max / lease TTL + 2 s", "\(opt(rebalance.max_ms, 0)) / \(rebalance.limit_ms) ms")
        }
        Swift.print(checks.rendered)

        var capacity = TextTable("MASTERS", "WORKERS", "CORES", "CAPACITY events/s (model, \(r.capacity_bottleneck) saturates first)")
        for c in r.capacity { capacity.add("\(c.masters)", "\(c.workers)", "\(c.cores)", f(c.events_per_s, 0)) }
        Swift.print(capacity.rendered)
    }

    static func summaryLine(_ r: ClusterBenchReport) -> String {
        "cluster-bench partitions=\(r.partitions) workers=\(r.workers) masters=\(r.masters) events=\(r.events)"
            + " events_per_s=\(f(r.events_per_s, 0))"
            + " redis_us_per_event=\(f(r.redis_us_per_event, 2)) (single \(opt(r.single?.redis_us_per_event, 2)), ratio \(opt(r.redis_ratio, 2)))"
            + " worker_us_per_event=\(f(r.worker_us_per_event, 2)) (single \(opt(r.single?.worker_us_per_event, 2)), ratio \(opt(r.worker_ratio, 2)))"
            + " coordination_per_1000=\(opt(r.steady_coordination_per_1000_max, 3)) (drain \(opt(r.coordination_per_1000_max, 3)))"
            + " crossslot=\(r.crossslot_errors) rebalance_ms=\(opt(r.rebalance?.max_ms, 0)) lease_ttl_ms=\(r.rebalance?.lease_ttl_ms.description ?? "n/a")"
            + " p99_ms=\(opt(r.latency?.p99_ms, 2))"
    }

    private static func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    private static func ratio(_ value: Double?) -> String { value.map { f($0, 2) + "×" } ?? "" }
    private static func opt(_ value: Double?, _ digits: Int) -> String { value.map { f($0, digits) } ?? "n/a" }
}
