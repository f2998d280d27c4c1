import ArgumentParser
import DupWatchCLI
import DupWatchStore
import RedisClient

extension ConnectionOptions {
    /// The deployment at `--redis-url` (one node or several, comma-separated: a cluster's seeds).
    func deployment() throws -> Deployment {
        let seeds: [RedisURL]
        do {
            seeds = try RedisURL.list(parsing: urlText)
        } catch {
            throw ValidationError("\(error)")
        }
        return try Deployment(seeds: seeds)
    }
}
