import DupWatchCore
import DupWatchStore
import Foundation
import Hummingbird
import RedisClient

/// `GET /v1/stats?since=&until=&by=`: the analytics the workers keep (the same document as
/// `dupwatch report --json`), for the dashboard page and the shop's own tools.
struct StatsRoutes {
    let lanes: RedisLanes

    func add(to api: RouterGroup<APIRequestContext>) {
        api.get("stats") { request, context -> Response in
            _ = try context.require(.read)
            let query = request.uri.queryParameters
            let (since, until, by) = (query["since"].map(String.init), query["until"].map(String.init), query["by"].map(String.init))
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let range: StatsRange
            do throws(Rejection) {
                range = try StatsRange.parse(since: since, until: until, period: by, now: now)
            } catch {
                throw APIError(rejection: error)
            }
            do {
                let report = try await lanes.run(idempotent: true) { deployment in
                    try deployment.stats(since: range.since, until: range.until, period: range.period)
                }
                return JSONResponse.make(report)
            } catch let error as RedisError {
                throw APIError.redisUnavailable(error)
            }
        }
    }
}
