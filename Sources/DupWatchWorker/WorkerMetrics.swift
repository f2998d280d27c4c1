import Metrics

/// Created once per worker; with no metrics backend bootstrapped these are no-ops.
struct WorkerMetrics {
    let entries = Counter(label: "dupwatch_entries_total")
    let alerts = Counter(label: "dupwatch_alerts_total")
    let deadLetters = Counter(label: "dupwatch_deadletters_total")
    let duplicates = Counter(label: "dupwatch_duplicate_ids_total")
    /// Every Redis error the worker backed off from (connection, OOM, LOADING, ...).
    let redisErrors = Counter(label: "dupwatch_redis_errors_total")
    let batchDuration = Timer(label: "dupwatch_batch_duration")
}
