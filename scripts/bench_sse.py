#!/usr/bin/env python3
"""Live alerts (SSE) under load, for scripts/bench-http.sh; Python 3 standard library only.

    scripts/bench_sse.py --url http://127.0.0.1:PORT --key KEY --redis-port PORT --serve-pid PID \
        [--redis-pid PID] [--worker-pid PID] [--subscribed 1000] [--connections 5000] \
        [--rate 2000] [--seconds 10] [--json]

Needs a running `dupwatch worker` and `dupwatch serve` on the same Redis (no ACL), and a server
whose --max-streams-per-key and --max-streams allow --connections streams.

1. Seeds each subscribed customer (sse-00000 ...) with an order of SKU SSE-X, straight into
   stream:order:placed, and waits until the worker's group has committed past it.
2. Opens --connections live streams, GET /v1/customers/{id}/alerts/live with the Bearer key:
   one per subscribed customer, the rest for idle customers (idle-00000 ...) that never get an
   alert; each must answer 200 and its `: connected` comment. The server's RSS (VmRSS) is read
   before the first connection and with all of them open.
3. XADDs orders of SKU SSE-X for the subscribed customers, round-robin, at --rate per second
   for --seconds, on one raw RESP connection from this process. Sends follow a fixed schedule
   (entry k is due at t0 + k/rate; a late loop sends everything due at once, it never drifts),
   and each order id's send time is the moment its XADD was written to the socket. Every such
   order raises exactly one order alert (it repeats the SKU of the customer's previous order).
4. For each alert received (matched by trigger_id = order id), latency = receive time (when
   its bytes reached this process) - XADD send time, on one clock (time.perf_counter). It is
   split, at millisecond resolution, at the alert's entry id (the Redis clock when the worker
   added the alert to stream:alerts:duplicate): worker = entry id - send, hub = receive - entry
   id (the server's alert reader, fan-out and SSE write, and this client's reading).

It prints two lines (or one JSON object with --json):
    sse p50_ms=… p99_ms=… max_ms=… events_per_s=… connections=… alerts=received/expected …
    sse_idle connections=… server_rss_mb=… server_rss_mb_no_streams=… server_rss_mb_peak_load=…
plus the CPU share of this client, the server, Redis, the worker and everything else on the host
during the load, and the steal time (each a share of one core; 100 = one core busy), so that a
saturated client or a busy host shows instead of hiding in the latency. Exit status 1 with a message on stderr when something does not work.
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import time
from urllib.parse import urlsplit

STREAM = "stream:order:placed"
INPUT_STREAMS = ("stream:cart:events", "stream:order:placed", "stream:order:status")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Redis: a tiny blocking RESP client for setup, and RESP encoding for the producer.

def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class RedisSync:
    def __init__(self, host, port):
        try:
            self.sock = socket.create_connection((host, port), timeout=30)
        except OSError as e:
            raise BenchError(f"cannot connect to Redis at {host}:{port}: {e}")
        self.file = self.sock.makefile("rb")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise BenchError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise BenchError(f"unexpected reply from Redis: {line!r}")

    def pipeline(self, commands):
        self.sock.sendall(b"".join(resp(*c) for c in commands))
        return [self._read() for _ in commands]

    def call(self, *args):
        return self.pipeline([args])[0]


def entry_id(text):
    ms, _, seq = text.partition("-")
    return (int(ms), int(seq or 0))


def wait_caught_up(redis, group, timeout):
    """Until the group's committed position (last-delivered-id: the worker moves it with XGROUP
    SETID in each commit) reaches the last entry of every input stream."""
    deadline = time.monotonic() + timeout
    while True:
        behind = []
        for stream in INPUT_STREAMS:
            info = redis.call("XINFO", "STREAM", stream)
            if isinstance(info, RuntimeError):
                continue  # no such stream: nothing to process
            last = dict(zip(info[::2], info[1::2]))["last-generated-id"]
            groups = redis.call("XINFO", "GROUPS", stream)
            delivered = None
            for g in groups if isinstance(groups, list) else []:
                g = dict(zip(g[::2], g[1::2]))
                if g.get("name") == group:
                    delivered = g.get("last-delivered-id")
            if delivered is None or entry_id(delivered) < entry_id(last):
                behind.append(f"{stream} at {delivered} of {last}")
        if not behind:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"the worker (group {group}) did not catch up within {timeout:.0f} s: "
                             f"{'; '.join(behind)}. Is `dupwatch worker` running on this Redis?")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# /proc readings.

def cpu_ticks(pid):
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None


def host_ticks():
    """Busy (user, nice, system, irq, softirq) and steal ticks of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


# ---------------------------------------------------------------------------------------------
# The SSE client: one asyncio.Protocol per connection, parsing HTTP/1.1 (chunked or not) and
# Server-Sent Events by hand, timestamping each read as it arrives.

class Results:
    def __init__(self):
        self.sent_at = {}       # order id -> perf_counter at its XADD write
        self.sent_wall = {}     # order id -> time.time() at the same moment
        self.latencies = []     # seconds
        self.worker_ms = []     # alert entry id (Redis clock, ms) - XADD send (wall clock, ms)
        self.hub_ms = []        # receive (wall clock, ms) - alert entry id
        self.slowest = (0.0, None)  # (latency, order id)
        self.received = set()
        self.duplicates = 0
        self.unmatched = 0
        self.dropped = 0        # live streams that ended during the run
        self.measuring = False


class LiveStream(asyncio.Protocol):
    def __init__(self, request, results):
        self.request = request
        self.results = results
        self.loop = asyncio.get_running_loop()
        self.connected = self.loop.create_future()
        self.transport = None
        self.head = bytearray()
        self.in_body = False
        self.chunked = False
        self.raw = bytearray()    # chunked body bytes not yet decoded
        self.events = bytearray() # SSE text not yet split into events
        self.ended = False
        self.wall = 0.0

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        self.ended = True
        if not self.connected.done():
            detail = bytes(self.head or self.events)[:300].decode("utf-8", "replace")
            self.connected.set_exception(BenchError(f"the server closed a live stream before `: connected` ({exc or 'EOF'}): {detail!r}"))
        elif self.results.measuring:
            self.results.dropped += 1

    def data_received(self, data):
        now = time.perf_counter()
        self.wall = time.time()
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = bytes(self.head[:end]), bytes(self.head[end + 4:])
            status = head.split(b"\r\n", 1)[0]
            if b" 200 " not in status + b" ":
                if not self.connected.done():
                    self.connected.set_exception(BenchError(
                        f"GET {self.request.split(b' ')[1].decode()} answered {status.decode()}: "
                        f"{rest[:300].decode('utf-8', 'replace')}"))
                self.transport.close()
                return
            self.chunked = b"transfer-encoding: chunked" in head.lower()
            self.in_body = True
            data = rest
        if self.chunked:
            self.raw += data
            while True:
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(bytes(self.raw[:line_end]).split(b";")[0], 16)
                if size == 0:
                    self.transport.close()
                    break
                if len(self.raw) < line_end + 2 + size + 2:
                    break
                self.events += self.raw[line_end + 2:line_end + 2 + size]
                del self.raw[:line_end + 2 + size + 2]
        else:
            self.events += data
        while True:
            end = self.events.find(b"\n\n")
            if end < 0:
                break
            block = bytes(self.events[:end])
            del self.events[:end + 2]
            self.on_event(block, now)

    def on_event(self, block, now):
        if block.startswith(b": connected"):
            if not self.connected.done():
                self.connected.set_result(True)
            return
        if not block.startswith(b"event: alert"):
            return  # keep-alive or retry
        data = entry = None
        for line in block.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
            elif line.startswith(b"id: "):
                entry = line[4:]
        results = self.results
        try:
            trigger = json.loads(data)["trigger_id"]
        except (TypeError, ValueError, KeyError):
            results.unmatched += 1
            return
        sent = results.sent_at.get(trigger)
        if sent is None:
            results.unmatched += 1
        elif trigger in results.received:
            results.duplicates += 1
        else:
            results.received.add(trigger)
            latency = now - sent
            results.latencies.append(latency)
            if latency > results.slowest[0]:
                results.slowest = (latency, trigger)
            try:
                alert_ms = int(entry.split(b"-")[0])
                results.worker_ms.append(alert_ms - results.sent_wall[trigger] * 1e3)
                results.hub_ms.append(self.wall * 1e3 - alert_ms)
            except (AttributeError, ValueError):
                pass


class Producer(asyncio.Protocol):
    """XADDs on one raw RESP connection; counts replies and errors."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.replies = 0
        self.errors = []
        self.lost = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.lost = exc or "EOF"

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            kind = self.buffer[:1]
            if kind == b"$":
                n = int(bytes(self.buffer[1:end]))
                total = end + 2 + (n + 2 if n >= 0 else 0)
                if len(self.buffer) < total:
                    return
                del self.buffer[:total]
            else:
                if kind == b"-" and len(self.errors) < 5:
                    self.errors.append(bytes(self.buffer[1:end]).decode("utf-8", "replace"))
                del self.buffer[:end + 2]
            self.replies += 1


async def open_streams(args, customers, results, host, port):
    semaphore = asyncio.Semaphore(args.connect_concurrency)
    loop = asyncio.get_running_loop()
    streams = []

    async def one(customer):
        request = (f"GET /v1/customers/{customer}/alerts/live HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Authorization: Bearer {args.key}\r\nAccept: text/event-stream\r\n\r\n").encode()
        async with semaphore:
            try:
                _, stream = await loop.create_connection(lambda: LiveStream(request, results), host, port)
            except OSError as e:
                raise BenchError(f"cannot connect to {host}:{port} for a live stream ({len(streams)} open): {e}")
            streams.append(stream)
            try:
                await asyncio.wait_for(stream.connected, 15)
            except asyncio.TimeoutError:
                raise BenchError(f"no `: connected` within 15 s on the live stream of {customer}")

    await asyncio.gather(*(one(c) for c in customers))
    return streams


async def run(args):
    url = urlsplit(args.url)
    host, port = url.hostname, url.port or 80
    nonce = f"{int(time.time() * 1000):x}"
    subscribed = [f"sse-{i:05d}" for i in range(args.subscribed)]
    idle = [f"idle-{i:05d}" for i in range(max(0, args.connections - args.subscribed))]

    redis = RedisSync(args.redis_host, args.redis_port)
    item = json.dumps([{"sku": args.sku, "qty": 1, "title": "Bench item"}], separators=(",", ":"))
    replies = redis.pipeline([("XADD", STREAM, "*", "order_id", f"seed-{nonce}-{i}", "customer_id", c, "items", item)
                              for i, c in enumerate(subscribed)])
    errors = [r for r in replies if isinstance(r, RuntimeError)]
    if errors:
        raise BenchError(f"XADD of the seed orders failed: {errors[0]}")
    wait_caught_up(redis, args.group, args.catch_up_timeout)

    rss_none = rss_mb(args.serve_pid)
    if rss_none is None:
        raise BenchError(f"cannot read /proc/{args.serve_pid}/status: is --serve-pid the pid of `dupwatch serve`?")
    results = Results()
    started = time.perf_counter()
    streams = await open_streams(args, subscribed + idle, results, host, port)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_idle = rss_mb(args.serve_pid)
    if any(s.ended for s in streams):
        raise BenchError(f"{sum(s.ended for s in streams)} live streams ended before the load started")

    loop = asyncio.get_running_loop()
    _, producer = await loop.create_connection(Producer, args.redis_host, args.redis_port)
    total = int(args.rate * args.seconds)
    order_ids = [f"sse-{nonce}-{k}" for k in range(total)]
    commands = [resp("XADD", STREAM, "*", "order_id", order_ids[k], "customer_id", subscribed[k % len(subscribed)],
                     "items", item) for k in range(total)]

    pids = {"server": args.serve_pid, "redis": args.redis_pid, "worker": args.worker_pid}
    rss_samples = []
    sampling = True

    async def sample():
        while sampling:
            value = rss_mb(args.serve_pid)
            if value is not None:
                rss_samples.append(value)
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    ticks_before = {name: cpu_ticks(pid) for name, pid in pids.items()}
    host_before = host_ticks()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.perf_counter()
    results.measuring = True

    lags = []
    sent = 0
    t0 = time.perf_counter() + 0.05
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - t0) * args.rate) + 1) if now >= t0 else 0
        if due > sent:
            for k in range(sent, due):
                lags.append(now - (t0 + k / args.rate))
            stamp, wall = time.perf_counter(), time.time()
            sent_at, sent_wall = results.sent_at, results.sent_wall
            for k in range(sent, due):
                sent_at[order_ids[k]] = stamp
                sent_wall[order_ids[k]] = wall
            producer.transport.write(b"".join(commands[sent:due]))
            sent = due
        delay = t0 + sent / args.rate - time.perf_counter()
        await asyncio.sleep(delay if delay > 0 else 0)
        if producer.lost:
            raise BenchError(f"the Redis connection of the producer closed: {producer.lost}")
    produce_s = time.perf_counter() - t0

    grace_end = time.perf_counter() + args.grace
    while len(results.received) < total and time.perf_counter() < grace_end:
        await asyncio.sleep(0.01)
    wall = time.perf_counter() - wall_before
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    ticks_after = {name: cpu_ticks(pid) for name, pid in pids.items()}
    host_after = host_ticks()
    results.measuring = False
    sampling = False
    await sampler

    for s in streams:
        if s.transport:
            s.transport.close()
    producer.transport.close()

    client_cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
    cpu_pct = {"client": 100 * client_cpu / wall}
    for name in pids:
        if ticks_before[name] is not None and ticks_after[name] is not None:
            cpu_pct[name] = 100 * (ticks_after[name] - ticks_before[name]) / CLK_TCK / wall
    # The rest of the host (other tenants' jobs), and the time the hypervisor gave to other VMs.
    if len(cpu_pct) == 4:
        busy = 100 * (host_after[0] - host_before[0]) / CLK_TCK / wall
        cpu_pct["others"] = max(0.0, busy - sum(cpu_pct.values()))
    cpu_pct["steal"] = 100 * (host_after[1] - host_before[1]) / CLK_TCK / wall
    latencies = sorted(results.latencies)
    worker_ms, hub_ms = sorted(results.worker_ms), sorted(results.hub_ms)
    lags.sort()
    slowest_at = None
    if results.slowest[1] is not None:
        slowest_at = results.sent_at[results.slowest[1]] - t0
    out = {
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "p999_ms": percentile(latencies, 99.9) * 1e3,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1e3,
        "slowest_sent_at_s": slowest_at,
        "worker_p50_ms": percentile(worker_ms, 50), "worker_p99_ms": percentile(worker_ms, 99),
        "hub_p50_ms": percentile(hub_ms, 50), "hub_p99_ms": percentile(hub_ms, 99),
        "events_per_s": args.rate,
        "achieved_events_per_s": total / produce_s,
        "seconds": args.seconds,
        "connections": len(streams),
        "subscribed": len(subscribed),
        "received": len(results.received),
        "expected": total,
        "duplicates": results.duplicates,
        "unmatched": results.unmatched,
        "dropped_streams": results.dropped,
        "xadd_replies": producer.replies,
        "xadd_errors": producer.errors,
        "send_lag_p99_ms": percentile(lags, 99) * 1e3,
        "send_lag_max_ms": (lags[-1] if lags else 0) * 1e3,
        "connect_s": connect_s,
        "server_rss_mb": rss_idle,
        "server_rss_mb_no_streams": rss_none,
        "server_rss_mb_peak_load": max(rss_samples) if rss_samples else None,
        "cpu_pct": cpu_pct,
        "measured_s": wall,
    }
    if producer.errors:
        raise BenchError(f"XADD failed during the load: {producer.errors[0]}")
    return out


def fmt(value, digits=2):
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--key", required=True, help="an API key with the read scope")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--serve-pid", type=int, required=True, help="pid of `dupwatch serve` (RSS and CPU)")
    parser.add_argument("--redis-pid", type=int, help="pid of redis-server (CPU share)")
    parser.add_argument("--worker-pid", type=int, help="pid of `dupwatch worker` (CPU share)")
    parser.add_argument("--group", default="dupwatch", help="the worker's consumer group")
    parser.add_argument("--subscribed", type=int, default=1000, help="customers with a live stream that get alerts")
    parser.add_argument("--connections", type=int, default=5000, help="live streams in all (the rest are idle)")
    parser.add_argument("--rate", type=float, default=2000, help="orders (alerts) per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--grace", type=float, default=5, help="seconds to wait for late alerts after the last send")
    parser.add_argument("--sku", default="SSE-X")
    parser.add_argument("--connect-concurrency", type=int, default=200)
    parser.add_argument("--catch-up-timeout", type=float, default=120)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the two lines")
    args = parser.parse_args()
    if not 1 <= args.subscribed <= args.connections:
        parser.error("need 1 <= --subscribed <= --connections")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.connections + 100:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 1000), hard))
        except (ValueError, OSError):
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < args.connections + 100:
            sys.exit(f"bench_sse.py: error: {args.connections} connections need more open files than the limit "
                     f"{soft} (hard {hard}); raise it (ulimit -n) or pass fewer --connections")
    try:
        out = asyncio.run(run(args))
    except BenchError as e:
        sys.exit(f"bench_sse.py: error: {e}")
    if args.json:
        print(json.dumps(out))
        return
    cpu = out["cpu_pct"]
    print(f"sse p50_ms={fmt(out['p50_ms'])} p99_ms={fmt(out['p99_ms'])} max_ms={fmt(out['max_ms'])} "
          f"events_per_s={out['events_per_s']:.0f} connections={out['connections']} "
          f"alerts={out['received']}/{out['expected']} duplicates={out['duplicates']} "
          f"send_lag_p99_ms={fmt(out['send_lag_p99_ms'])} worker_p99_ms={fmt(out['worker_p99_ms'], 0)} "
          f"hub_p99_ms={fmt(out['hub_p99_ms'], 0)} "
          + " ".join(f"{name}_cpu_pct={fmt(value, 0)}" for name, value in cpu.items()))
    print(f"sse_idle connections={out['connections']} server_rss_mb={fmt(out['server_rss_mb'], 1)} "
          f"server_rss_mb_no_streams={fmt(out['server_rss_mb_no_streams'], 1)} "
          f"server_rss_mb_peak_load={fmt(out['server_rss_mb_peak_load'], 1)}")


if __name__ == "__main__":
    main()
