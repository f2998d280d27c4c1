import Foundation
import RedisClient
import TestSupport
import Testing

/// The real `dupwatch serve` and `dupwatch worker` processes against a throwaway Redis, read
/// over real sockets: live alerts, resuming with Last-Event-ID, limits, /metrics and /readyz.
@Suite("Live alerts and operations, through the real binaries")
struct LiveAlertTests {
    final class Running: @unchecked Sendable {
        let harness: Harness
        let port: Int
        let workerMetricsPort: Int
        let serve: DupwatchProcess
        let worker: DupwatchProcess
        let directory: URL

        init(extraServeArguments: [String] = []) async throws {
            harness = try Harness()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("dupwatch-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let keys = directory.appendingPathComponent("api-keys")
            try TestKeys.file.write(to: keys, atomically: true, encoding: .utf8)
            port = try RedisTestServer.freeLoopbackPort()
            serve = try harness.start(["serve", "--redis-url", harness.url, "--host", "127.0.0.1", "--port", String(port),
                                       "--api-keys", keys.path] + extraServeArguments)
            workerMetricsPort = try RedisTestServer.freeLoopbackPort()
            // A short lease: the worker reports not ready after 3 TTLs without Redis.
            worker = try harness.start(["worker", "--redis-url", harness.url, "--metrics-port", String(workerMetricsPort),
                                        "--lease-ttl", "2s"])
            let port = self.port
            let workerPort = workerMetricsPort
            let ready = try await eventually(timeout: 30) {
                (try? LoopbackHTTP.request(port: port, "GET", "/readyz"))?.status == 200
                    && (try? LoopbackHTTP.request(port: workerPort, "GET", "/readyz"))?.status == 200
            }
            if !ready {
                throw HarnessError("serve did not become ready: \(serve.stderrSoFar)")
            }
        }

        func stop() async {
            serve.signal(SIGTERM)
            worker.signal(SIGTERM)
            _ = try? await serve.wait(timeout: 20)
            _ = try? await worker.wait(timeout: 20)
            try? FileManager.default.removeItem(at: directory)
        }

        func post(_ path: String, _ body: String, key: String = TestKeys.shop) throws -> LoopbackHTTP.Response {
            try LoopbackHTTP.request(port: port, "POST", path, headers: ["Authorization": "Bearer \(key)"], body: body)
        }

        func order(_ id: String, customer: String, day: Int) throws {
            let response = try post("/v1/orders", """
                {"order_id":"\(id)","customer_id":"\(customer)","items":[{"sku":"MILK-1L","qty":2,"title":"Organic Milk 1L"}],
                 "ts":"2026-11-\(day)T09:00:00Z"}
                """)
            #expect(response.status == 202, "\(response)")
        }

        func live(_ customer: String, headers: [String: String] = [:], key: String = TestKeys.read) throws -> LoopbackHTTP {
            let connection = try LoopbackHTTP(port: port)
            try connection.send("GET", "/v1/customers/\(customer)/alerts/live",
                                headers: ["Authorization": "Bearer \(key)"].merging(headers) { $1 }, keepOpen: true)
            return connection
        }
    }

    @Test func aCustomersAlertsArrivePushedAndResumeAfterLastEventID() async throws {
        let running = try await Running()
        do {
            let stream = try running.live("c42")
            let head = try stream.readHead()
            #expect(head.status == 200 && head.headers["content-type"]?.hasPrefix("text/event-stream") == true, "\(head)")
            let other = try running.live("c7")
            _ = try other.readHead()

            try running.order("O-1", customer: "c42", day: 20)
            try running.order("O-2", customer: "c42", day: 23)
            let first = try #require(try stream.nextEvent(timeout: 20))
            #expect(first.event == "alert")
            let id = try #require(first.id)
            let alert = try #require(try JSONSerialization.jsonObject(with: Data(first.data.utf8)) as? [String: Any])
            #expect(alert["customer_id"] as? String == "c42" && alert["order_id"] as? String == "O-1")
            #expect(alert["order_date"] as? String == "2026-11-20T09:00:00.000Z" && alert["quantity"] as? Int == 2)
            // The id is the alert's entry id in stream:alerts:duplicate.
            let entry = try running.harness.redis.command("XRANGE", Streams.alerts, id, id).array
            #expect(entry.count == 1)

            // Missed while away: a reconnect with Last-Event-ID gets the next alert, and only it.
            try running.order("O-3", customer: "c42", day: 25)
            let second = try #require(try stream.nextEvent(timeout: 20))
            let resumed = try running.live("c42", headers: ["Last-Event-ID": id])
            _ = try resumed.readHead()
            let replayed = try #require(try resumed.nextEvent(timeout: 20))
            #expect(replayed.id == second.id && replayed.data == second.data)

            // Customer c7 got nothing of c42's: its next event is its own alert.
            try running.order("O-7a", customer: "c7", day: 20)
            try running.order("O-7b", customer: "c7", day: 21)
            let own = try #require(try other.nextEvent(timeout: 20))
            #expect(own.data.contains(#""customer_id":"c7""#), "\(own.data)")
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    @Test func streamLimitsPerKeyAnswer429AndMetricsAndReadinessAnswer() async throws {
        let running = try await Running(extraServeArguments: ["--max-streams-per-key", "2"])
        do {
            var open: [LoopbackHTTP] = []
            for _ in 0..<2 {
                let connection = try running.live("c1")
                #expect(try connection.readHead().status == 200)
                open.append(connection)
            }
            let refused = try running.live("c1")
            let head = try refused.readHead()
            #expect(head.status == 429)
            #expect(try refused.readBody(count: Int(head.headers["content-length"] ?? "") ?? 0).contains("too_many_streams"))
            // A client that hangs up frees its slot at once.
            open.removeLast()
            let freed = try await eventually(timeout: 10) {
                let again = try running.live("c1")
                guard try again.readHead().status == 200 else { return false }
                open.append(again)
                return true
            }
            #expect(freed)
            // Another key still may.
            let admin = try running.live("c1", key: TestKeys.admin)
            #expect(try admin.readHead().status == 200)
            // A browser's EventSource sends the key as ?access_token=.
            let token = try LoopbackHTTP(port: running.port)
            try token.send("GET", "/v1/customers/c1/alerts/live?access_token=\(TestKeys.admin)", keepOpen: true)
            #expect(try token.readHead().status == 200)

            // A bad request and a bad key leave the server up.
            #expect(try running.post("/v1/orders", "{", key: TestKeys.shop).status == 400)
            #expect(try running.post("/v1/orders", "{}", key: "nope-nope-nope-nope").status == 401)
            try running.order("O-1", customer: "c9", day: 20)
            try running.order("O-2", customer: "c9", day: 23)
            let metricsSeen = try await eventually(timeout: 20) {
                guard let metrics = try? LoopbackHTTP.request(port: running.port, "GET", "/metrics") else { return false }
                return metrics.body.contains("dupwatch_sse_connections 4") && metrics.body.contains("dupwatch_http_events_accepted_total")
                    && metrics.body.contains(#"http_response_status_code="429""#)
            }
            #expect(metricsSeen)
            // The worker's own /metrics: what it applied, its alerts and its lag.
            let workerMetrics = try await eventually(timeout: 20) {
                guard let metrics = try? LoopbackHTTP.request(port: running.workerMetricsPort, "GET", "/metrics") else { return false }
                return metrics.body.contains(#"dupwatch_alerts_total{trigger="order",match="order"} 1"#)
                    && metrics.body.contains(#"dupwatch_events_applied_total{stream="stream:order:placed"} 2"#)
                    && metrics.body.contains(#"dupwatch_consumer_lag{stream="stream:order:placed",partition="0"} 0"#)
                    && metrics.body.contains(#"dupwatch_lease_owned{partition="0"} 1"#)
            }
            #expect(workerMetrics, "\((try? LoopbackHTTP.request(port: running.workerMetricsPort, "GET", "/metrics").body) ?? "")")
            let ready = try LoopbackHTTP.request(port: running.port, "GET", "/readyz")
            #expect(ready.status == 200 && ready.body.contains(#""status":"ready""#), "\(ready)")
            withExtendedLifetime(open) {}

            // Redis gone: not ready, still alive.
            running.harness.server.stop()
            let notReady = try await eventually(timeout: 30) {
                (try? LoopbackHTTP.request(port: running.port, "GET", "/readyz"))?.status == 503
            }
            #expect(notReady)
            let workerNotReady = try await eventually(timeout: 60) {
                (try? LoopbackHTTP.request(port: running.workerMetricsPort, "GET", "/readyz"))?.status == 503
            }
            #expect(workerNotReady)
            #expect(try LoopbackHTTP.request(port: running.port, "GET", "/healthz").status == 200)
            let unavailable = try running.post("/v1/cart-events", #"{"type":"add","customer_id":"c1","sku":"A"}"#)
            #expect(unavailable.status == 503 && unavailable.body.contains("redis_unavailable"), "\(unavailable)")

            // Redis back: ready again, and the lanes' first reads do not fail on their old
            // connections (each is tried once more on a new one).
            try running.harness.server.restart()
            let readyAgain = try await eventually(timeout: 30) {
                (try? LoopbackHTTP.request(port: running.port, "GET", "/readyz"))?.status == 200
            }
            #expect(readyAgain)
            for _ in 0..<16 {
                let read = try LoopbackHTTP.request(port: running.port, "GET", "/v1/customers/c9/orders",
                                                    headers: ["Authorization": "Bearer \(TestKeys.read)"])
                #expect(read.status == 200, "\(read)")
            }
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }
}
