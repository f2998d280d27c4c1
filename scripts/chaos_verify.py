#!/usr/bin/env python3
"""chaos_verify.py — the helper half of scripts/chaos.sh (python3 standard library only).

Subcommands (chaos.sh calls them; each can also be run by hand):

  export  --url URL --out FILE
      Dumps the three input streams (ids and fields) in the worker's processing order.

  chaos   --url URL --input FILE --binary PATH --redis-argv JSON --state-dir DIR
          [--worker-kills K] [--redis-kills R] [--seed S]
      The chaos run: replays FILE into Redis with the *same* entry ids (explicit XADD ids),
      partly before and partly while a supervisor starts `dupwatch worker`, SIGKILLs it after
      a random 50-700 ms (K times) and SIGKILLs + restarts redis-server (R times, same port and
      directory, so the AOF is reloaded). A monitor samples the consumer group every few ms to
      measure how long each (re)start takes to ack something again. Writes DIR/chaos.json.

  verify  --ref URL --got URL [--chaos-json FILE] [--events N]
      Compares the reference run with the chaos run and prints the summary line
      `events=… worker_kills=… redis_kills=… alerts_expected=… alerts_got=… missing=… doubled=…
      deadletter=… max_recovery_ms=…`; exits 1 on any difference (printed first).

Why replay with explicit ids instead of running `dupwatch generate` twice: a cart event without
`event_id` is identified by its stream entry id, and that id goes into the alert's `alert_id`
(Alert.alertID hashes the trigger id). Two independent `generate` runs get different ids from
two servers' clocks, so their alert ids could never be compared. Same ids => same alert ids,
same processing order, and any difference is the worker's doing.
"""

import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

INPUT_STREAMS = ["stream:cart:events", "stream:order:placed", "stream:order:status"]
ALERT_STREAM = "stream:alerts:duplicate"
DEADLETTER_STREAM = "stream:deadletter"
GROUP = "dupwatch"
STATE_PREFIXES = ("cart:{", "orders:{", "order:{", "history:{", "events:{", "alerts:{", "stats:")


# ----------------------------------------------------------------------------- RESP client

class RedisReplyError(Exception):
    pass


class Redis:
    """A minimal blocking RESP2 client: enough for XADD/XRANGE/XINFO/SCAN and friends."""

    def __init__(self, url, timeout=5.0):
        host, port = parse_url(url)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb", buffering=1 << 16)

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if isinstance(arg, bytes):
                data = arg
            else:
                data = str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def read_reply(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("connection closed by redis")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self.file.read(length + 2)
            if len(data) < length + 2:
                raise ConnectionError("short read")
            return data[:-2].decode("utf-8", "surrogateescape")
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            return [self.read_reply() for _ in range(count)]
        raise ConnectionError("bad RESP line %r" % line)

    def pipeline(self, commands):
        if not commands:
            return []
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self.read_reply() for _ in commands]

    def execute(self, *args):
        reply = self.pipeline([args])[0]
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply


def parse_url(url):
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    host, _, port = rest.rpartition(":")
    return (host or "127.0.0.1"), int(port or 6379)


def connect_retry(url, deadline_s=30.0, timeout=2.0):
    end = time.monotonic() + deadline_s
    while True:
        try:
            r = Redis(url, timeout=timeout)
            pong = r.execute("PING")
            if pong == "PONG":
                return r
            r.close()
        except (OSError, ConnectionError, RedisReplyError):
            pass
        if time.monotonic() > end:
            raise RuntimeError("redis at %s not reachable for %.0f s" % (url, deadline_s))
        time.sleep(0.02)


def id_key(entry_id):
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def processing_key(stream, entry_id):
    """The worker's processing order (ProcessingKey): millisecond, then stream rank (cart, order,
    status), then sequence. Redis numbers sequences per stream, so within one millisecond the
    stream rank, not the sequence, decides. B's input is pushed in exactly this order, so Redis
    always holds a prefix of it and a live worker can see entries in no other order than a
    drain does: any difference is the worker's doing, not the replay's."""
    ms, seq = id_key(entry_id)
    return ms, INPUT_STREAMS.index(stream), seq


def pairs(flat):
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def xrange_all(r, stream, page=10000):
    out = []
    start = "-"
    while True:
        reply = r.execute("XRANGE", stream, start, "+", "COUNT", page)
        if not reply:
            return out
        out.extend((entry_id, fields or []) for entry_id, fields in reply)
        if len(reply) < page:
            return out
        start = "(" + reply[-1][0]


# ----------------------------------------------------------------------------- export

def cmd_export(args):
    r = connect_retry(args.url)
    entries = []
    for index, stream in enumerate(INPUT_STREAMS):
        for entry_id, fields in xrange_all(r, stream):
            entries.append((processing_key(stream, entry_id), entry_id, fields))
    entries.sort(key=lambda e: e[0])
    with open(args.out, "w") as f:
        for key, entry_id, fields in entries:
            f.write(json.dumps([INPUT_STREAMS[key[1]], entry_id, fields]) + "\n")
    print("exported %d input entries" % len(entries), file=sys.stderr)


def load_input(path):
    with open(path) as f:
        return [tuple(json.loads(line)) for line in f if line.strip()]


# ----------------------------------------------------------------------------- chaos

def now_ms():
    return time.monotonic() * 1000.0


class GroupProbe:
    """Reads how far the group got: acked = entries-read - pending, summed over the inputs."""

    def __init__(self, url):
        self.url = url
        self.conn = None

    def sample(self):
        """(acked, outstanding) or None when Redis is not answering."""
        try:
            if self.conn is None:
                self.conn = Redis(self.url, timeout=0.5)
            replies = self.conn.pipeline([("XINFO", "GROUPS", s) for s in INPUT_STREAMS]
                                         + [("XLEN", s) for s in INPUT_STREAMS])
        except (OSError, ConnectionError):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return None
        acked = 0
        outstanding = 0
        for index, reply in enumerate(replies[:3]):
            length = replies[3 + index] if isinstance(replies[3 + index], int) else 0
            group = None
            if isinstance(reply, list):
                for g in reply:
                    d = dict(pairs(g))
                    if d.get("name") == GROUP:
                        group = d
            if group is None:
                outstanding += length  # no group yet: everything is still to do
                continue
            pending = int(group.get("pending") or 0)
            read = group.get("entries-read")
            lag = group.get("lag")
            read = int(read) if read is not None else length - int(lag or 0)
            lag = int(lag) if lag is not None else length - read
            acked += read - pending
            outstanding += pending + lag
        return acked, outstanding


class Monitor(threading.Thread):
    def __init__(self, url, interval=0.005):
        super().__init__(daemon=True)
        self.probe = GroupProbe(url)
        self.interval = interval
        self.samples = []  # (t_ms, acked, outstanding)
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            s = self.probe.sample()
            if s is not None:
                with self.lock:
                    self.samples.append((now_ms(), s[0], s[1]))
            time.sleep(self.interval)

    def latest(self):
        with self.lock:
            return self.samples[-1] if self.samples else None

    def snapshot(self):
        with self.lock:
            return list(self.samples)


class PacedPusher(threading.Thread):
    """Pushes `entries` in order, a chunk at a time, up to a target the supervisor raises
    (`set_target`); `hold()` returns once it is between chunks and keeps it there until
    `release()`. A subclass's `push(end)` sends entries[position:end] and moves `position`."""

    def __init__(self, entries, chunk):
        super().__init__(daemon=True)
        self.entries = entries
        self.chunk = chunk
        self.target = 0
        self.position = 0
        self.cond = threading.Condition()
        self.stopping = False
        self.held = False
        self.idle = threading.Event()
        self.error = None

    def set_target(self, count):
        with self.cond:
            self.target = max(self.target, min(count, len(self.entries)))
            self.cond.notify_all()

    def hold(self):
        with self.cond:
            self.held = True
            self.cond.notify_all()
        self.idle.wait()

    def release(self):
        with self.cond:
            self.held = False
            self.cond.notify_all()

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    def done(self):
        return self.position >= len(self.entries)

    def push(self, end):
        raise NotImplementedError

    def run(self):
        try:
            while True:
                with self.cond:
                    while not self.stopping and (self.held or self.position >= self.target):
                        self.idle.set()
                        self.cond.wait(0.1)
                    if self.stopping:
                        self.idle.set()
                        return
                    self.idle.clear()
                    end = min(self.target, self.position + self.chunk)
                self.push(end)
        except Exception as error:  # reported by the supervisor
            self.error = "%s: %s" % (type(error).__name__, error)
            self.idle.set()


class Pusher(PacedPusher):
    """Replays the input with its original entry ids, in processing order, at a given pace.

    Survives redis-server kills: after a reconnect it asks every stream for its last id and goes
    on from there (an XADD the AOF lost is simply pushed again; ids make it idempotent)."""

    def __init__(self, url, entries, chunk=100, pause=0.02):
        super().__init__(entries, chunk)
        self.url = url
        self.pause = pause
        self.conn = None
        self.reconnects = 0
        self.repushed = 0
        self.first_push_ms = None
        self.last_push_ms = None

    def resync(self, conn):
        """Position = first entry not present in Redis (Redis holds a prefix of the list)."""
        last = {}
        for stream in INPUT_STREAMS:
            reply = conn.execute("XREVRANGE", stream, "+", "-", "COUNT", 1)
            last[stream] = id_key(reply[0][0]) if reply else (0, 0)
        position = 0
        while position < len(self.entries):
            stream, entry_id, _ = self.entries[position]
            if id_key(entry_id) > last[stream]:
                break
            position += 1
        # Anything past `position` that is nevertheless present would be a gap: check.
        if position < self.position:
            self.repushed += self.position - position
        self.position = position

    def push(self, end):
        try:
            if self.conn is None:
                self.conn = connect_retry(self.url, deadline_s=120)
                self.resync(self.conn)
                if self.position >= end:
                    return
            batch = self.entries[self.position:end]
            replies = self.conn.pipeline([["XADD", s, i] + list(f) for s, i, f in batch])
            for (s, i, _), reply in zip(batch, replies):
                if isinstance(reply, RedisReplyError):
                    raise RuntimeError("XADD %s %s refused: %s" % (s, i, reply))
            t = now_ms()
            if self.first_push_ms is None:
                self.first_push_ms = t
            self.last_push_ms = t
            self.position = end
        except (OSError, ConnectionError):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            self.reconnects += 1
            time.sleep(0.02)
            return
        if self.pause:
            time.sleep(self.pause)


def write_pid(path, pid):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % pid)
    os.replace(tmp, path)


def kill9(proc):
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def wait_redis_ready(url, proc, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited with %s while starting" % proc.returncode)
        try:
            r = Redis(url, timeout=0.5)
            try:
                if r.execute("PING") == "PONG" and "loading:0" in r.execute("INFO", "persistence"):
                    return
            finally:
                r.close()
        except (OSError, ConnectionError, RedisReplyError):
            pass
        time.sleep(0.01)
    raise RuntimeError("redis-server did not become ready within %.0f s" % timeout)


def cmd_chaos(args):
    rng = random.Random(args.seed * 7919 + 17)
    entries = load_input(args.input)
    state_dir = args.state_dir
    redis_argv = json.loads(args.redis_argv)
    redis_log = open(os.path.join(state_dir, "redis-b.out"), "ab")
    worker_log_path = os.path.join(state_dir, "workers.log")
    worker_log = open(worker_log_path, "ab")
    redis_proc = None  # only the servers *we* (re)start; the first one belongs to chaos.sh
    redis_pid_file = os.path.join(state_dir, "redis-b.pid")
    worker_pid_file = os.path.join(state_dir, "worker.pid")

    result = {
        "events": len(entries), "worker_kills": 0, "redis_kills": 0, "kills_with_work_outstanding": 0,
        "aimed_kills": 0, "early_kills": 0, "worker_exits": [], "recoveries": [], "stalled": [], "errors": [],
    }

    monitor = Monitor(args.url)
    monitor.start()
    probe = GroupProbe(args.url)

    def probe_now(timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = probe.sample()
            if s is not None:
                return s
            time.sleep(0.01)
        raise RuntimeError("redis not answering")

    # Arrival: 10% before the first worker; then, in every worker's life, one burst of about
    # 0.9 * total / (0.85 * K) entries (all input is in after ~85% of the kills). The kill
    # moments are mixed (see sleep_with_burst): mid-batch, "worst moment" and random.
    total = len(entries)
    pusher = Pusher(args.url, entries, chunk=2000, pause=0)
    pusher.set_target(int(total * 0.10))
    pusher.start()
    while not pusher.done() and pusher.position < int(total * 0.10) and pusher.error is None:
        time.sleep(0.01)
    burst = max(1, -(-int(total * 0.90) // max(1, int(args.worker_kills * 0.85))))
    pushed_target = int(total * 0.10)

    def next_burst():
        nonlocal pushed_target
        pushed_target = min(total, pushed_target + burst)
        pusher.set_target(pushed_target)

    def committed_now():
        """Entries the group has committed so far (None while Redis does not answer)."""
        s = probe.sample()
        return None if s is None else s[0]

    def sleep_with_burst(delay, pid=None):
        """Sleeps `delay` s in all, with this life's burst of input somewhere in it. Kinds of
        kill moment: 'early' (given `pid`, half of the time: as soon as the worker's first commit
        moved the group, while it holds entries read ahead of it), 'aimed' (0-60 ms after the
        burst: mid-batch) and 'random'."""
        kind = rng.random()
        if pid is not None and kind < 0.5:
            before = rng.uniform(0.0, min(0.05, delay))
            start = committed_now()
            time.sleep(before)
            next_burst()
            end = time.monotonic() + max(0.0, delay - before)
            while time.monotonic() < end:
                now = committed_now()
                if start is not None and now is not None and now > start:
                    result["early_kills"] += 1
                    return
                time.sleep(0.002)
            return
        if kind < 0.75:
            before = max(0.0, delay - rng.uniform(0.0, 0.06))
            result["aimed_kills"] += 1
        else:
            before = rng.uniform(0.0, delay)
        time.sleep(before)
        next_burst()
        time.sleep(max(0.0, delay - before))

    redis_kill_points = set()
    for j in range(1, args.redis_kills + 1):
        redis_kill_points.add(max(0, min(args.worker_kills - 1, round(args.worker_kills * j / (args.redis_kills + 1)))))
    # (equal rounding could merge two points; spread any collision to the next index)
    while len(redis_kill_points) < min(args.redis_kills, args.worker_kills):
        for k in range(args.worker_kills):
            if k not in redis_kill_points:
                redis_kill_points.add(k)
                break
    batches = [100, 200, 200, 500, 1000]
    events = []  # (kind, t0_ms, baseline_acked, outstanding_at_t0, end_ms)

    def start_worker(batch):
        worker_log.write(("\n=== worker start --batch %d at %.0f ms\n" % (batch, now_ms())).encode())
        worker_log.flush()
        proc = subprocess.Popen(
            # One static identity, as a supervisor restarting the same worker: each restart
            # takes the lease back at once instead of waiting for the dead one's TTL.
            [args.binary, "worker", "--redis-url", args.url, "--log-level", "warning", "--batch", str(batch),
             "--consumer", "chaos-worker"],
            stdin=subprocess.DEVNULL, stdout=worker_log, stderr=worker_log)
        write_pid(worker_pid_file, proc.pid)
        return proc

    def restart_redis():
        nonlocal redis_proc
        proc = subprocess.Popen(redis_argv, stdin=subprocess.DEVNULL, stdout=redis_log, stderr=redis_log)
        write_pid(redis_pid_file, proc.pid)
        redis_proc = proc
        return proc

    def current_redis_pid():
        with open(redis_pid_file) as f:
            return int(f.read().strip())

    try:
        for i in range(args.worker_kills):
            if pusher.error:
                raise RuntimeError("pusher failed: " + pusher.error)
            acked0, outstanding0 = probe_now()
            # Every other worker gets a small batch after a bigger one: it reads again what its
            # killed predecessor had read ahead, a little at a time.
            batch = 50 if i % 2 == 1 else rng.choice(batches)
            worker = start_worker(batch)
            t0 = now_ms()
            ev = {"kind": "worker_start", "t0": t0, "baseline": acked0, "outstanding": outstanding0, "index": i}
            events.append(ev)

            if i in redis_kill_points:
                sleep_with_burst(rng.uniform(0.05, 0.5))
                pre = probe_now()[0]
                pid = current_redis_pid()
                t_kill = now_ms()
                os.kill(pid, signal.SIGKILL)
                if redis_proc is not None and redis_proc.pid == pid:
                    redis_proc.wait()
                else:
                    # chaos.sh's server: not our child; wait until the pid is gone.
                    while True:
                        try:
                            os.kill(pid, 0)
                        except ProcessLookupError:
                            break
                        time.sleep(0.005)
                ev["end"] = t_kill
                result["redis_kills"] += 1
                time.sleep(rng.uniform(0.2, 1.5))  # down time
                t_restart = now_ms()
                proc = restart_redis()
                wait_redis_ready(args.url, proc)
                t_ready = now_ms()
                after = probe_now()
                rev = {"kind": "redis_restart", "t0": t_restart, "ready_ms": t_ready - t_restart,
                       "baseline": min(pre, after[0]), "outstanding": after[1], "index": i,
                       "acked_lost_by_kill": max(0, pre - after[0])}
                events.append(rev)
                # New input arrives right after the restart, and the surviving worker has to
                # reconnect by itself (its backoff is capped at 5 s) and get through it.
                next_burst()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    latest = monitor.latest()
                    if latest and latest[0] > t_restart and latest[1] > rev["baseline"]:
                        break
                    if latest and latest[0] > t_restart and latest[2] == 0 and pusher.position >= pushed_target:
                        break  # nothing (left) to do: no progress to wait for
                    if worker.poll() is not None:
                        break
                    time.sleep(0.005)
                if worker.poll() is not None:
                    result["errors"].append("worker pid %d exited with %s after the redis restart instead of reconnecting"
                                            % (worker.pid, worker.returncode))
                time.sleep(rng.uniform(0.05, 0.7))
            else:
                sleep_with_burst(rng.uniform(0.05, 0.7), pid=worker.pid if batch > 50 else None)

            t_end = now_ms()
            events[-1]["end"] = t_end
            if worker.poll() is not None:
                result["worker_exits"].append({"index": i, "pid": worker.pid, "status": worker.returncode})
                result["errors"].append("worker pid %d exited by itself with status %s before its SIGKILL"
                                        % (worker.pid, worker.returncode))
            else:
                s = probe.sample()
                kill9(worker)
                result["worker_kills"] += 1
                if s and s[1] > 0:
                    result["kills_with_work_outstanding"] += 1
            worker_log.write(("=== worker pid %d killed at %.0f ms\n" % (worker.pid, now_ms())).encode())
            worker_log.flush()

        # The rest of the input, if the bursts did not get there yet.
        pusher.set_target(total)
        while not pusher.done():
            if pusher.error:
                raise RuntimeError("pusher failed: " + pusher.error)
            time.sleep(0.01)
        pusher.stop()
        result["pusher_reconnects"] = pusher.reconnects
        result["pusher_repushed"] = pusher.repushed
        result["push_window_ms"] = round((pusher.last_push_ms or 0) - (pusher.first_push_ms or 0))

        # Final drain: the last killed worker is a dead local process, so it takes over at once.
        t_drain = now_ms()
        worker_log.write(b"\n=== final drain\n")
        worker_log.flush()
        drain = subprocess.Popen([args.binary, "worker", "--drain", "--redis-url", args.url, "--log-level", "warning",
                                  "--consumer", "chaos-worker"],
                                 stdin=subprocess.DEVNULL, stdout=worker_log, stderr=worker_log)
        write_pid(worker_pid_file, drain.pid)
        try:
            status = drain.wait(timeout=args.drain_timeout)
        except subprocess.TimeoutExpired:
            kill9(drain)
            status = "timeout"
        result["drain_status"] = status
        result["drain_ms"] = round(now_ms() - t_drain)
        if status != 0:
            result["errors"].append("final `dupwatch worker --drain` ended with %s" % status)
    except Exception as error:
        result["errors"].append("supervisor: %s: %s" % (type(error).__name__, error))
    finally:
        pusher.stop()
        monitor.stopping.set()
        monitor.join(2)
        try:
            if "worker" in locals() and worker.poll() is None:
                kill9(worker)
        except Exception:
            pass

    # Recovery per (re)start: from the moment there was work (t0 if entries were pending or
    # unread at t0, else the first sample showing some) to the first sample whose acked count
    # exceeds the baseline, within the lifetime of that (re)start. A lifetime that ends with
    # work waiting and nothing acked counts as a recovery of at least that wait (a lower bound).
    samples = monitor.snapshot()
    times = [s[0] for s in samples]
    import bisect
    for ev in events:
        start = bisect.bisect_left(times, ev["t0"])
        end_t = ev.get("end", float("inf"))
        progress = None
        work_since = ev["t0"] if ev["outstanding"] > 0 else None
        for t, acked, outstanding in samples[start:]:
            if t > end_t:
                break
            if outstanding > 0 and work_since is None:
                work_since = t
            if acked > ev["baseline"]:
                progress = t
                break
        if progress is not None:
            ev["recovery_ms"] = round(progress - (work_since if work_since is not None else ev["t0"]), 1)
            result["recoveries"].append({"kind": ev["kind"], "index": ev["index"], "ms": ev["recovery_ms"]})
        elif work_since is not None and end_t != float("inf"):
            result["stalled"].append({"kind": ev["kind"], "index": ev["index"], "waited_ms": round(end_t - work_since)})
    rec = [r["ms"] for r in result["recoveries"]] + [r["waited_ms"] for r in result["stalled"]]
    result["max_recovery_ms"] = round(max(rec)) if rec else 0
    by_kind = collections.defaultdict(list)
    for r in result["recoveries"]:
        by_kind[r["kind"]].append(r["ms"])
    for r in result["stalled"]:
        by_kind[r["kind"]].append(r["waited_ms"])
    result["max_recovery_by_kind"] = {k: round(max(v)) for k, v in by_kind.items()}
    result["redis_restarts"] = [{k: (round(v) if isinstance(v, float) else v) for k, v in ev.items()}
                                for ev in events if ev["kind"] == "redis_restart"]
    result["samples"] = len(samples)
    with open(os.path.join(state_dir, "chaos.json"), "w") as f:
        json.dump(result, f, indent=1)
    # A worker still running (should not be) is killed above; the current redis stays for verify.
    print("chaos: %d worker kills (%d with work outstanding), %d redis kills, "
          "%d recoveries measured, %d lifetimes without progress, drain %s in %s ms"
          % (result["worker_kills"], result["kills_with_work_outstanding"],
             result["redis_kills"], len(result["recoveries"]), len(result["stalled"]), result.get("drain_status"),
             result.get("drain_ms")), file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- verify

def scan_state(r):
    keys = []
    cursor = "0"
    while True:
        cursor, batch = r.execute("SCAN", cursor, "COUNT", 5000)
        keys.extend(k for k in batch if k.startswith(STATE_PREFIXES))
        if cursor == "0":
            break
    keys = sorted(set(keys))
    state = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        types = r.pipeline([("TYPE", k) for k in chunk])
        commands = []
        for k, t in zip(chunk, types):
            if t == "hash":
                commands.append(("HGETALL", k))
            elif t == "list":
                commands.append(("LRANGE", k, 0, -1))
            elif t == "zset":
                commands.append(("ZRANGE", k, 0, -1, "WITHSCORES"))
            elif t == "set":
                commands.append(("SMEMBERS", k))
            elif t == "string":
                commands.append(("GET", k))
            else:
                commands.append(("TYPE", k))
        for k, t, v in zip(chunk, types, r.pipeline(commands)):
            if t == "zset" and k.startswith("alerts:{"):
                v = alert_index(v)
            elif t == "hash":
                v = dict(pairs(v))
            elif t == "set":
                v = sorted(v)
            elif t == "none":
                continue  # expired between SCAN and TYPE
            state[k] = (t, v)
    return state


def alert_index(members_with_scores):
    """A customer's alert index, comparable between runs: its alerts without `detected_at`
    (the wall clock of the run) and without the scores (the same clock), sorted."""
    alerts = []
    for member, _ in pairs(members_with_scores):
        alert = json.loads(member)
        alert.pop("detected_at", None)
        alerts.append(json.dumps(alert, sort_keys=True))
    return sorted(alerts)


def group_info(r, stream):
    reply = r.pipeline([("XINFO", "GROUPS", stream)])[0]
    if isinstance(reply, RedisReplyError):
        return None
    for g in reply:
        d = dict(pairs(g))
        if d.get("name") == GROUP:
            return d
    return None


def short(value, limit=300):
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "…"


def single_snapshot(r):
    """What one run left behind on one Redis: its input, alerts, dead letters and state, and
    whatever is still unfinished (pending entries, group lag)."""
    unfinished = []
    for stream in INPUT_STREAMS:
        summary = r.execute("XPENDING", stream, GROUP)
        g = group_info(r, stream)
        if summary and summary[0]:
            unfinished.append("%s has %s entries pending (%s)" % (stream, summary[0], summary[3]))
        if g is None:
            unfinished.append("%s has no group %s" % (stream, GROUP))
        elif g.get("lag") != 0:
            unfinished.append("%s group lag is %r (last-delivered-id %s)" % (stream, g.get("lag"), g.get("last-delivered-id")))
    return {
        "inputs": {stream: xrange_all(r, stream) for stream in INPUT_STREAMS},
        "alerts": [dict(pairs(fields)) for _, fields in xrange_all(r, ALERT_STREAM)],
        "dead": [dead_letter_key(dict(pairs(fields))) for _, fields in xrange_all(r, DEADLETTER_STREAM)],
        "state": scan_state(r),
        "unfinished": unfinished,
    }


def dead_letter_key(d):
    """(source stream, source id, reason code): `reason` is "code: explanation", and the code is
    what is compared. A partition's stream name loses its `:{tag}` suffix, so a partitioned
    run's dead letters compare with a single node's."""
    source = d.get("source_stream") or ""
    return (re.sub(r":\{[^{}]*\}$", "", source), d.get("source_id"), (d.get("reason") or "").split(":", 1)[0])


def compare(ref, got, diff):
    """Compares two snapshots (the reference first), reporting each difference through
    `diff(kind, message)`. Returns the counts of the summary line."""
    # 1. The input itself: same entries, same ids, in both.
    events = 0
    for stream in INPUT_STREAMS:
        a = ref["inputs"].get(stream, [])
        b = got["inputs"].get(stream, [])
        events += len(a)
        if a != b:
            a_ids = {i for i, _ in a}
            b_ids = {i for i, _ in b}
            lost = sorted(a_ids - b_ids, key=id_key)
            extra = sorted(b_ids - a_ids, key=id_key)
            changed = [i for (i, f), (j, g) in zip(a, b) if i == j and f != g]
            diff("input", "%s: %d entries in the reference, %d in the chaos run; lost %d (first %s), extra %d (first %s), "
                 "changed %d" % (stream, len(a), len(b), len(lost), lost[:3], len(extra), extra[:3], len(changed)))

    # 2. Alerts: the multiset of alert_ids, and each alert's content (all but detected_at).
    a_alerts = ref["alerts"]
    b_alerts = got["alerts"]
    a_count = collections.Counter(a["alert_id"] for a in a_alerts)
    b_count = collections.Counter(a["alert_id"] for a in b_alerts)
    missing = sorted(set(a_count) - set(b_count))
    extra = sorted(set(b_count) - set(a_count))
    doubled = sorted(k for k, n in b_count.items() if n > 1)
    ref_doubled = sorted(k for k, n in a_count.items() if n > 1)
    a_first = {}
    for a in a_alerts:
        a_first.setdefault(a["alert_id"], a)
    b_first = {}
    for a in b_alerts:
        b_first.setdefault(a["alert_id"], a)
    for k in missing[:5]:
        diff("alert", "missing in the chaos run: %s" % short(a_first[k]))
    if len(missing) > 5:
        diff("alert", "... %d more missing" % (len(missing) - 5))
    for k in extra[:5]:
        diff("alert", "extra in the chaos run (not in the reference): %s" % short(b_first[k]))
    if len(extra) > 5:
        diff("alert", "... %d more extra" % (len(extra) - 5))
    for k in doubled[:5]:
        diff("alert", "published %d times in the chaos run: %s" % (b_count[k], short(b_first[k])))
    if ref_doubled:
        diff("alert", "the reference itself published %d alert_ids more than once (first %s)" % (len(ref_doubled), ref_doubled[0]))
    content = 0
    for k in sorted(set(a_first) & set(b_first)):
        x = {f: v for f, v in a_first[k].items() if f != "detected_at"}
        y = {f: v for f, v in b_first[k].items() if f != "detected_at"}
        if x != y:
            content += 1
            if content <= 3:
                changed = sorted(f for f in set(x) | set(y) if x.get(f) != y.get(f))
                diff("alert", "alert %s differs in %s: reference %s / chaos %s"
                     % (k, changed, short({f: x.get(f) for f in changed}), short({f: y.get(f) for f in changed})))
    if content > 3:
        diff("alert", "... %d alerts differ in content in all" % content)

    # 3. Dead letters: count per reason, and which entries.
    a_dead = ref["dead"]
    b_dead = got["dead"]
    a_reasons = collections.Counter(x[2] for x in a_dead)
    b_reasons = collections.Counter(x[2] for x in b_dead)
    if a_reasons != b_reasons:
        diff("deadletter", "by reason: reference %s / chaos %s" % (dict(sorted(a_reasons.items())), dict(sorted(b_reasons.items()))))
    a_dead_c = collections.Counter(a_dead)
    b_dead_c = collections.Counter(b_dead)
    only_a = list((a_dead_c - b_dead_c).elements())
    only_b = list((b_dead_c - a_dead_c).elements())
    for x in only_a[:3]:
        diff("deadletter", "only in the reference: %s" % (x,))
    for x in only_b[:3]:
        diff("deadletter", "only in the chaos run: %s" % (x,))
    if len(only_a) + len(only_b) > 6:
        diff("deadletter", "... %d + %d dead letters differ in all" % (len(only_a), len(only_b)))

    # 4. Customer state: every key, every field, every member and score (TTLs ignored).
    a_state = ref["state"]
    b_state = got["state"]
    state_diffs = 0
    for k in sorted(set(a_state) | set(b_state)):
        x = a_state.get(k)
        y = b_state.get(k)
        if x != y:
            state_diffs += 1
            if state_diffs <= 5:
                if x is None or y is None:
                    diff("state", "%s only in the %s run: %s" % (k, "reference" if y is None else "chaos", short(x or y)))
                elif x[0] != y[0]:
                    diff("state", "%s is a %s in the reference, a %s in the chaos run" % (k, x[0], y[0]))
                elif x[0] == "hash":
                    changed = sorted(f for f in set(x[1]) | set(y[1]) if x[1].get(f) != y[1].get(f))
                    diff("state", "%s fields %s: reference %s / chaos %s" % (
                        k, changed[:5], short({f: x[1].get(f) for f in changed[:5]}), short({f: y[1].get(f) for f in changed[:5]})))
                else:
                    diff("state", "%s: reference %s / chaos %s" % (k, short(x[1]), short(y[1])))
    if state_diffs > 5:
        diff("state", "... %d state keys differ in all (of %d / %d)" % (state_diffs, len(a_state), len(b_state)))

    # 5. Nothing pending, nothing unread (both runs; the reference is the sanity check).
    for name, snapshot in (("chaos", got), ("reference", ref)):
        for message in snapshot["unfinished"]:
            diff("pending", "%s run: %s" % (name, message))

    return {"events": events, "alerts_expected": len(a_alerts), "alerts_got": len(b_alerts), "missing": len(missing),
            "doubled": len(doubled), "deadletter": len(b_dead), "state_keys": len(b_state), "state_diffs": state_diffs}


def print_diffs(diffs):
    for kind, message in diffs[:40]:
        print("DIFF %-10s %s" % (kind, message))
    if len(diffs) > 40:
        print("DIFF ... %d more" % (len(diffs) - 40))


def cmd_verify(args):
    chaos = {}
    if args.chaos_json and os.path.exists(args.chaos_json):
        with open(args.chaos_json) as f:
            chaos = json.load(f)
    diffs = [("chaos", error) for error in chaos.get("errors", [])]
    counts = compare(single_snapshot(connect_retry(args.ref)), single_snapshot(connect_retry(args.got)),
                     lambda kind, message: diffs.append((kind, message)))
    print_diffs(diffs)
    if chaos:
        rk = chaos.get("max_recovery_by_kind", {})
        print("info: early_kills=%s aimed_kills=%s kills_with_work_outstanding=%s recoveries=%d stalled=%d "
              "max_worker_restart_recovery_ms=%s max_redis_restart_recovery_ms=%s push_window_ms=%s "
              "pusher_reconnects=%s drain_ms=%s state_keys=%d"
              % (chaos.get("early_kills"), chaos.get("aimed_kills"), chaos.get("kills_with_work_outstanding"),
                 len(chaos.get("recoveries", [])), len(chaos.get("stalled", [])), rk.get("worker_start"),
                 rk.get("redis_restart"), chaos.get("push_window_ms"), chaos.get("pusher_reconnects"),
                 chaos.get("drain_ms"), counts["state_keys"]))
    print("events=%d worker_kills=%s redis_kills=%s alerts_expected=%d alerts_got=%d missing=%d doubled=%d "
          "deadletter=%d max_recovery_ms=%s"
          % (counts["events"], chaos.get("worker_kills", 0), chaos.get("redis_kills", 0), counts["alerts_expected"],
             counts["alerts_got"], counts["missing"], counts["doubled"], counts["deadletter"], chaos.get("max_recovery_ms", 0)))
    if args.events is not None and counts["events"] != args.events:
        print("DIFF input      expected %d input entries, found %d" % (args.events, counts["events"]))
        return 1
    return 1 if diffs else 0


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export")
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("chaos")
    p.add_argument("--url", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--redis-argv", required=True, help="JSON list: how to (re)start the chaos redis-server")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--worker-kills", type=int, default=30)
    p.add_argument("--redis-kills", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--drain-timeout", type=float, default=600)

    p = sub.add_parser("verify")
    p.add_argument("--ref", required=True)
    p.add_argument("--got", required=True)
    p.add_argument("--chaos-json")
    p.add_argument("--events", type=int)

    args = parser.parse_args()
    return {"export": cmd_export, "chaos": cmd_chaos, "verify": cmd_verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
