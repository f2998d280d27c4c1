#!/usr/bin/env python3
"""chaos_cluster.py — the helper half of scripts/chaos-cluster.sh (python3 standard library only).

  run --binary PATH --generator PATH --ref-url URL --state-dir DIR --seed S --events N
      --customers C --partitions P --worker-kills K --master-kills M --router-kills R
      [--lease-ttl 2s]

One cluster chaos run, from start to verdict:
  1. a throwaway 6-node Redis Cluster (3 masters, 3 replicas, AOF everysec, a short
     cluster-node-timeout) on free ports under DIR/cluster/<port>/;
  2. `dupwatch-bench generate` writes the seeded workload into the reference Redis (ref-url),
     which is exported in processing order;
  3. the cluster run: a producer pushes that workload to the three unpartitioned input streams
     with `XADD *` (as `redis-cli XADD` users do; the router's merge order is by id, so the ids
     must be the cluster's own) and `WAIT 1` after each chunk (a producer that must not lose an
     entry waits for a replica); `dupwatch route` moves them into P partitions; 3 workers share
     them. Meanwhile: K worker SIGKILLs (each replaced by a new worker, so its partitions wait
     for the lease TTL and move), workers added and stopped (SIGTERM), R router SIGKILLs and
     M master SIGKILLs (its replica takes over; the old master comes back as a replica);
  4. once the cluster has caught up, its input streams, as the cluster assigned their ids, are
     replayed with those ids into the reference Redis and drained by one uninterrupted
     `dupwatch worker --drain` (one node, one partition: today's names);
  5. the verdict: alerts by alert_id (those a user tails in `stream:alerts:duplicate`, which
     the router copies from the partitions; each partition's must hold the same, once), dead
     letters, every state key (partition key names `cart:{T}:{C}` mapped to `cart:{C}`),
     nothing unread, compared with chaos_verify.compare.

Masters are killed while the producer holds still (after its WAIT): what a killed master loses
is then only what the router and the workers wrote, which is what the run is about. Prints the
differences, then `cluster-chaos events=… worker_kills=… master_kills=… rebalances=…
alerts_expected=… alerts_got=… missing=0 doubled=0 state_ok=yes`; exits 1 on any difference.
"""

import argparse
import collections
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos_verify as cv  # noqa: E402  (the shared RESP client, snapshot and comparison)

SLOTS = 16384
RETRYABLE = ("MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING", "READONLY", "MASTERDOWN")


# ----------------------------------------------------------------------------- slots

def crc16(data):
    """CRC16-CCITT (XMODEM), Redis Cluster's key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    data = key.encode()
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    return crc16(data) % SLOTS


def partition_tag(partition, count):
    """The same tag as Partitioning.tag(of:): the first `p<p>-<i>` in slot p × 16384 / N."""
    target = partition * SLOTS // count
    candidate = 0
    while True:
        tag = "p%d-%d" % (partition, candidate)
        if key_slot(tag) == target:
            return tag
        candidate += 1


def partition_streams(tag):
    return ["%s:{%s}" % (s, tag) for s in cv.INPUT_STREAMS]


PARTITION_KEY = re.compile(r"^(cart|orders|order|history|events|alerts):\{[^{}]*\}:(\{.*)$")


def single_node_name(key):
    """`cart:{T}:{C}` -> `cart:{C}` (and the same for orders, order, history, events, alerts)."""
    return PARTITION_KEY.sub(r"\1:\2", key)


# ----------------------------------------------------------------------------- cluster client

class Cluster:
    """Just enough of a cluster client: the slot map from CLUSTER SLOTS, one connection per
    node, commands sent to the master of their key's slot, the map refreshed and the command
    retried on a redirect, a cluster-down reply or a lost connection."""

    def __init__(self, ports, timeout=10.0):
        self.ports = list(ports)
        self.timeout = timeout
        self.conns = {}
        self.slot_port = [None] * SLOTS
        self.refreshes = 0
        self.refresh()

    def connection(self, port):
        conn = self.conns.get(port)
        if conn is None:
            conn = cv.Redis("redis://127.0.0.1:%d" % port, timeout=self.timeout)
            self.conns[port] = conn
        return conn

    def drop(self, port):
        conn = self.conns.pop(port, None)
        if conn is not None:
            conn.close()

    def refresh(self):
        self.refreshes += 1
        for port in self.ports:
            try:
                reply = self.connection(port).execute("CLUSTER", "SLOTS")
            except (OSError, ConnectionError, cv.RedisReplyError):
                self.drop(port)
                continue
            table = [None] * SLOTS
            for entry in reply:
                start, end, master = entry[0], entry[1], entry[2]
                for slot in range(start, end + 1):
                    table[slot] = int(master[1])
            if all(p is not None for p in table):
                self.slot_port = table
                return True
        return False

    def masters(self):
        return sorted({p for p in self.slot_port if p is not None})

    def pipeline(self, key, commands, deadline_s=120.0):
        """Runs `commands` (all on `key`'s slot) and returns their replies. Commands answered
        with a retryable error are sent again; after a lost connection the whole rest is sent
        again (the caller's commands must tolerate that) and `uncertain` counts them."""
        slot = key_slot(key)
        end = time.monotonic() + deadline_s
        replies = [None] * len(commands)
        todo = list(range(len(commands)))
        self.uncertain = 0
        while todo:
            port = self.slot_port[slot]
            try:
                if port is None:
                    raise ConnectionError("slot %d has no master" % slot)
                got = self.connection(port).pipeline([commands[i] for i in todo])
            except (OSError, ConnectionError):
                if port is not None:
                    self.drop(port)
                self.uncertain += len(todo)
                got = None
            retry = []
            if got is not None:
                for i, reply in zip(todo, got):
                    if isinstance(reply, cv.RedisReplyError) and str(reply).startswith(RETRYABLE):
                        retry.append(i)
                    else:
                        replies[i] = reply
            else:
                retry = todo
            todo = retry
            if todo:
                if time.monotonic() > end:
                    raise RuntimeError("slot %d did not answer within %.0f s" % (slot, deadline_s))
                time.sleep(0.05)
                self.refresh()
        return replies

    def execute(self, key, *args):
        reply = self.pipeline(key, [args])[0]
        if isinstance(reply, cv.RedisReplyError):
            raise reply
        return reply

    def xrange_all(self, stream, page=10000):
        out = []
        start = "-"
        while True:
            reply = self.execute(stream, "XRANGE", stream, start, "+", "COUNT", page)
            if not reply:
                return out
            out.extend((entry_id, fields or []) for entry_id, fields in reply)
            if len(reply) < page:
                return out
            start = "(" + reply[-1][0]


# ----------------------------------------------------------------------------- the cluster's nodes

class Nodes:
    """The six redis-server processes: started, killed and restarted by port (pid files in
    the state dir, so chaos-cluster.sh's cleanup finds them whoever started them)."""

    def __init__(self, root, state_dir, node_timeout_ms):
        self.root = root
        self.state_dir = state_dir
        self.node_timeout_ms = node_timeout_ms
        self.procs = {}
        self.log = open(os.path.join(state_dir, "cluster.out"), "ab")

    def argv(self, port):
        directory = os.path.join(self.state_dir, "cluster", str(port))
        os.makedirs(directory, exist_ok=True)
        argv = ["redis-server"]
        conf = os.path.join(self.root, "redis.conf")
        if os.path.exists(conf):
            argv.append(conf)
        return argv + ["--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--daemonize", "no",
                       "--logfile", os.path.join(directory, "redis.log"), "--cluster-enabled", "yes",
                       "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(self.node_timeout_ms),
                       "--cluster-port", str(port + 10000), "--appendonly", "yes", "--appendfsync", "everysec",
                       "--aof-load-truncated", "yes", "--save", "", "--maxmemory", "0"]

    def start(self, port):
        proc = subprocess.Popen(self.argv(port), stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        cv.write_pid(os.path.join(self.state_dir, "node-%d.pid" % port), proc.pid)
        self.procs[port] = proc
        cv.wait_redis_ready("redis://127.0.0.1:%d" % port, proc)

    def kill(self, port):
        proc = self.procs.pop(port)
        cv.kill9(proc)


def free_ports(count):
    """`count` ports p whose cluster bus port p + 10000 is free too."""
    ports = []
    while len(ports) < count:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port + 10000 > 65535 or port in ports:
            continue
        try:
            b = socket.socket()
            b.bind(("127.0.0.1", port + 10000))
            b.close()
        except OSError:
            continue
        ports.append(port)
    return ports


def cluster_ok(ports, masters=3, replicas=3):
    """Every running node says cluster_state:ok, sees `masters` masters with slots and
    `replicas` connected replicas, and is in sync with its master if it is a replica."""
    for port in ports:
        try:
            r = cv.Redis("redis://127.0.0.1:%d" % port, timeout=0.5)
            try:
                info = r.execute("CLUSTER", "INFO")
                nodes = r.execute("CLUSTER", "NODES")
                replication = r.execute("INFO", "replication")
            finally:
                r.close()
        except (OSError, ConnectionError, cv.RedisReplyError):
            return False
        if "cluster_state:ok" not in info:
            return False
        # A replica that has not finished its first sync is no candidate for a failover.
        if "role:slave" in replication and "master_link_status:up" not in replication:
            return False
        lines = [line.split() for line in nodes.splitlines() if line.strip()]
        live = [f for f in lines if "fail" not in f[2] and "fail?" not in f[2] and f[7] == "connected"]
        if sum(1 for f in live if "master" in f[2] and len(f) > 8) != masters:
            return False
        if sum(1 for f in live if "slave" in f[2]) != replicas:
            return False
    return True


def wait_for(condition, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError("%s within %.0f s" % (what, timeout))


# ----------------------------------------------------------------------------- the producer

class Producer(cv.PacedPusher):
    """Pushes the workload in order with `XADD *`, a chunk at a time: the chunk's entries go
    to their streams' nodes, then `WAIT 1` on each node touched."""

    def __init__(self, cluster_ports, entries, chunk=250):
        super().__init__(entries, chunk)
        self.cluster = Cluster(cluster_ports)
        self.uncertain = 0
        self.unreplicated_chunks = 0

    def push(self, end):
        by_stream = collections.OrderedDict()
        for stream, _, fields in self.entries[self.position:end]:
            by_stream.setdefault(stream, []).append(["XADD", stream, "*"] + list(fields))
        for stream, commands in by_stream.items():
            # WAIT gives up well within the connection's timeout (a master whose replica
            # is down answers 0 after 500 ms): a read timing out would leave it unknown
            # which XADDs were taken, and sending them again could add them twice.
            replies = self.cluster.pipeline(stream, commands + [["WAIT", 1, 500]])
            self.uncertain += self.cluster.uncertain
            for reply in replies[:-1]:
                if isinstance(reply, cv.RedisReplyError):
                    raise RuntimeError("XADD to %s refused: %s" % (stream, reply))
            if replies[-1] == 0:
                self.unreplicated_chunks += 1
        self.position = end


# ----------------------------------------------------------------------------- the run

def progress_of(cluster, partitions):
    """(entries in partition input streams + router dead letters, total group lag, source entries)."""
    routed = 0
    lag = 0
    for tag in partitions:
        for stream in partition_streams(tag):
            routed += cluster.execute(stream, "XLEN", stream)
            reply = cluster.pipeline(stream, [["XINFO", "GROUPS", stream]])[0]
            group = None
            if isinstance(reply, list):
                for g in reply:
                    d = dict(cv.pairs(g))
                    if d.get("name") == cv.GROUP:
                        group = d
            if group is None:
                lag += cluster.execute(stream, "XLEN", stream)
            else:
                lag += int(group.get("lag") or 0)
    routed += cluster.execute(cv.DEADLETTER_STREAM, "XLEN", cv.DEADLETTER_STREAM)
    source = sum(cluster.execute(s, "XLEN", s) for s in cv.INPUT_STREAMS)
    return routed, lag, source


def cluster_snapshot(cluster, partitions):
    """The partitioned run in single-node terms: input streams (the unpartitioned ones, as
    pushed), alerts and dead letters of every partition plus the router's, every state key
    under its single-node name, and what is unfinished (partition group lag, entries not
    routed)."""
    inputs = {s: cluster.xrange_all(s) for s in cv.INPUT_STREAMS}
    partition_alerts = []
    # On a partitioned deployment only the router writes the unpartitioned dead-letter stream.
    dead = [cv.dead_letter_key(dict(cv.pairs(f))) for _, f in cluster.xrange_all(cv.DEADLETTER_STREAM)]
    routed_dead = collections.Counter(d[0] for d in dead)
    unfinished = []
    routed = collections.Counter()
    for tag in partitions:
        partition_alerts += [dict(cv.pairs(f)) for _, f in cluster.xrange_all("stream:alerts:duplicate:{%s}" % tag)]
        dead += [cv.dead_letter_key(dict(cv.pairs(f))) for _, f in cluster.xrange_all("stream:deadletter:{%s}" % tag)]
        for source, stream in zip(cv.INPUT_STREAMS, partition_streams(tag)):
            entries = cluster.xrange_all(stream)
            routed[source] += len(entries)
            reply = cluster.pipeline(stream, [["XINFO", "GROUPS", stream]])[0]
            groups = [dict(cv.pairs(g)) for g in reply] if isinstance(reply, list) else []
            group = next((g for g in groups if g.get("name") == cv.GROUP), None)
            if entries and group is None:
                unfinished.append("%s has no group %s" % (stream, cv.GROUP))
            elif group is not None and group.get("lag") != 0:
                unfinished.append("%s group lag is %r" % (stream, group.get("lag")))
    for source in cv.INPUT_STREAMS:
        if routed[source] + routed_dead[source] < len(inputs[source]):
            unfinished.append("%s: %d entries, %d in partitions" % (source, len(inputs[source]), routed[source]))
    state = {}
    for port in cluster.masters():
        for key, value in cv.scan_state(cluster.connection(port)).items():
            state[single_node_name(key)] = value
    # What users tail is the unpartitioned stream the router copies the partitions' alerts
    # into: compared with the reference. The partitions' own streams must hold the same alerts,
    # each once, too.
    alerts = [dict(cv.pairs(f)) for _, f in cluster.xrange_all(cv.ALERT_STREAM)]
    by_partition = collections.Counter(a["alert_id"] for a in partition_alerts)
    doubled = sorted(k for k, n in by_partition.items() if n > 1)
    if doubled:
        unfinished.append("%d alert ids appear twice in a partition's alert stream (first %s)" % (len(doubled), doubled[0]))
    if set(by_partition) != {a["alert_id"] for a in alerts}:
        unfinished.append("the partitions' alert streams hold %d alert ids, stream:alerts:duplicate %d"
                          % (len(by_partition), len({a["alert_id"] for a in alerts})))
    return {"inputs": inputs, "alerts": alerts, "dead": dead, "state": state, "unfinished": unfinished}


def alerts_copied(cluster, partitions):
    """Whether the unpartitioned alert stream has as many alerts as the partitions' streams."""
    published = sum(cluster.execute(s, "XLEN", s) for s in ("stream:alerts:duplicate:{%s}" % t for t in partitions))
    return cluster.execute(cv.ALERT_STREAM, "XLEN", cv.ALERT_STREAM) >= published


def cmd_run(args):
    rng = random.Random(args.seed * 104729 + 7)
    state_dir = args.state_dir
    log_path = os.path.join(state_dir, "processes.log")
    process_log = open(log_path, "ab")
    errors = []
    counts = collections.Counter()

    def note(message):
        print("chaos-cluster: %s" % message, file=sys.stderr, flush=True)

    def mark(message):
        process_log.write(("\n=== %s at %.0f ms\n" % (message, cv.now_ms())).encode())
        process_log.flush()

    # 1. The cluster.
    nodes = Nodes(args.root, state_dir, args.node_timeout_ms)
    ports = free_ports(6)
    for port in ports:
        nodes.start(port)
    create = subprocess.run(["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % p for p in ports]
                            + ["--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True)
    if create.returncode != 0:
        raise RuntimeError("redis-cli --cluster create failed:\n" + create.stdout[-2000:] + create.stderr[-2000:])
    wait_for(lambda: cluster_ok(ports), 60, "the cluster did not become healthy")
    seeds = ",".join("redis://127.0.0.1:%d" % p for p in ports)
    note("cluster on ports %s" % ",".join(map(str, ports)))

    # 2. The workload, generated into the reference Redis and exported in processing order.
    generated = subprocess.run([args.generator, "generate", "--redis-url", args.ref_url, "--seed", str(args.seed),
                                "--events", str(args.events), "--customers", str(args.customers)],
                               capture_output=True, text=True)
    if generated.returncode != 0:
        raise RuntimeError("dupwatch-bench generate failed: " + generated.stderr[-2000:])
    workload_path = os.path.join(state_dir, "workload.jsonl")
    subprocess.run([sys.executable, os.path.join(args.root, "scripts", "chaos_verify.py"), "export",
                    "--url", args.ref_url, "--out", workload_path], check=True)
    workload = cv.load_input(workload_path)
    cv.connect_retry(args.ref_url).execute("FLUSHALL")
    total = len(workload)
    tags = [partition_tag(p, args.partitions) for p in range(args.partitions)]

    # 3. The chaos run.
    cluster = Cluster(ports)
    producer = Producer(ports, workload)
    producer.set_target(total // 10)
    producer.start()
    wait_for(lambda: producer.position >= total // 10 or producer.error, 120, "the first tenth was not pushed")

    workers = []  # Popen
    router = [None]

    def start_worker():
        batch = rng.choice([50, 100, 200, 500])
        mark("worker start (batch %d)" % batch)
        proc = subprocess.Popen([args.binary, "worker", "--redis-url", seeds, "--partitions", str(args.partitions),
                                 "--lease-ttl", args.lease_ttl, "--batch", str(batch), "--log-level", "warning"],
                                stdin=subprocess.DEVNULL, stdout=process_log, stderr=process_log)
        cv.write_pid(os.path.join(state_dir, "worker-%d.pid" % proc.pid), proc.pid)
        workers.append(proc)
        counts["rebalances"] += 1

    def start_router():
        mark("router start")
        proc = subprocess.Popen([args.binary, "route", "--redis-url", seeds, "--partitions", str(args.partitions),
                                 "--log-level", "warning"],
                                stdin=subprocess.DEVNULL, stdout=process_log, stderr=process_log)
        cv.write_pid(os.path.join(state_dir, "router-%d.pid" % proc.pid), proc.pid)
        router[0] = proc

    def reap():
        """Workers and router must only end when we end them."""
        for proc in list(workers):
            if proc.poll() is not None:
                errors.append("worker pid %d exited by itself with status %s" % (proc.pid, proc.returncode))
                workers.remove(proc)
        if router[0] is not None and router[0].poll() is not None:
            errors.append("the router exited by itself with status %s" % router[0].returncode)
            start_router()

    start_router()
    for _ in range(3):
        start_worker()
    counts["rebalances"] = 0  # the first three form the group; changes count from here

    steps = args.worker_kills + 6  # kills, plus added and stopped workers
    burst = -(-(total - total // 10) // max(1, steps - 2))
    master_steps = {round(steps * (j + 1) / (args.master_kills + 1)) for j in range(args.master_kills)}
    router_steps = set(rng.sample(range(1, steps), min(args.router_kills, steps - 1)))
    kills_left = args.worker_kills
    failover_ms = []
    for step in range(steps):
        producer.set_target(producer.target + burst)
        time.sleep(rng.uniform(0.15, 0.6))
        reap()
        if producer.error:
            raise RuntimeError("the producer failed: " + producer.error)
        if step in master_steps and counts["master_kills"] < args.master_kills:
            producer.hold()
            # Alternate between the master of a partition and the master of an input stream.
            key = (cv.INPUT_STREAMS[counts["master_kills"] % 3] if counts["master_kills"] % 2 == 1
                   else "stream:cart:events:{%s}" % rng.choice(tags))
            cluster.refresh()
            victim = cluster.slot_port[key_slot(key)]
            mark("master %d (slot of %s) killed" % (victim, key))
            t0 = time.monotonic()
            nodes.kill(victim)
            counts["master_kills"] += 1
            producer.release()
            survivors = [p for p in ports if p != victim]

            def failed_over():
                if not cluster.refresh():
                    return False
                return victim not in cluster.masters() and cluster_ok(survivors, masters=3, replicas=2)
            wait_for(failed_over, 60, "no replica took over from master %d" % victim)
            failover_ms.append(round((time.monotonic() - t0) * 1000))
            note("master %d killed; its replica took over in %d ms" % (victim, failover_ms[-1]))
            # It comes back as a replica of the node that replaced it, but for its first moments
            # it still claims its old slots: an XADD it took then would be dropped when it
            # learns better, so the producer waits. (What the router and the workers write to
            # it then is dropped with their positions, and redone: part of what is tested.)
            producer.hold()
            nodes.start(victim)
            wait_for(lambda: cluster_ok(ports), 60, "master %d did not rejoin as a replica" % victim)
            producer.release()
            continue
        if step in router_steps:
            mark("router SIGKILL")
            cv.kill9(router[0])
            counts["router_kills"] += 1
            start_router()
        action = rng.random()
        if kills_left > 0 and (action < 0.8 or steps - step <= kills_left):
            victim = rng.choice(workers)
            mark("worker pid %d SIGKILL" % victim.pid)
            cv.kill9(victim)
            workers.remove(victim)
            counts["worker_kills"] += 1
            counts["rebalances"] += 1
            kills_left -= 1
            start_worker()
        elif len(workers) <= 3:
            start_worker()
            counts["workers_added"] += 1
        else:
            victim = rng.choice(workers)
            mark("worker pid %d SIGTERM" % victim.pid)
            victim.send_signal(signal.SIGTERM)
            try:
                victim.wait(timeout=30)
            except subprocess.TimeoutExpired:
                errors.append("worker pid %d did not stop within 30 s of SIGTERM" % victim.pid)
                cv.kill9(victim)
            workers.remove(victim)
            counts["workers_stopped"] += 1
            counts["rebalances"] += 1
    while len(workers) < 3:
        start_worker()
        counts["workers_added"] += 1

    producer.set_target(total)
    wait_for(lambda: producer.done() or producer.error, 300, "the producer did not finish")
    producer.stop()
    if producer.error:
        raise RuntimeError("the producer failed: " + producer.error)
    note("all %d entries pushed; waiting for the deployment to catch up" % total)

    def caught_up():
        reap()
        routed, lag, source = progress_of(cluster, tags)
        return routed >= source and lag == 0 and alerts_copied(cluster, tags)
    t_drain = time.monotonic()
    try:
        wait_for(caught_up, args.drain_timeout, "the deployment did not catch up")
    except RuntimeError:
        routed, lag, source = progress_of(cluster, tags)
        status = subprocess.run([args.binary, "status", "--redis-url", seeds, "--lease-ttl", args.lease_ttl],
                                capture_output=True, text=True)
        note("stuck: %d source entries, %d routed or dead-lettered, group lag %d; %d workers running; status:\n%s%s"
             % (source, routed, lag, len(workers), status.stdout, status.stderr))
        raise
    time.sleep(2)  # anything still in flight shows as lag or as a change now
    wait_for(caught_up, 30, "the deployment did not stay caught up")
    reap()
    drain_ms = round((time.monotonic() - t_drain) * 1000)
    for proc in workers + [router[0]]:
        proc.send_signal(signal.SIGTERM)
    for proc in workers + [router[0]]:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            errors.append("pid %d did not stop within 30 s of SIGTERM" % proc.pid)
            cv.kill9(proc)

    # 4. The reference: the cluster's input under the cluster's ids, on one node, one drain.
    got = cluster_snapshot(cluster, tags)
    pushed = []
    for stream in cv.INPUT_STREAMS:
        for entry_id, fields in got["inputs"][stream]:
            pushed.append((cv.processing_key(stream, entry_id), stream, entry_id, fields))
    pushed.sort(key=lambda e: e[0])
    replay = cv.Pusher(args.ref_url, [(s, i, f) for _, s, i, f in pushed], chunk=2000, pause=0)
    replay.set_target(len(pushed))
    replay.start()
    while not replay.done() and replay.error is None:
        time.sleep(0.01)
    replay.stop()
    if replay.error:
        raise RuntimeError("replaying the reference failed: " + replay.error)
    drained = subprocess.run([args.binary, "worker", "--drain", "--redis-url", args.ref_url, "--log-level", "warning"],
                             stdin=subprocess.DEVNULL, stdout=process_log, stderr=process_log)
    if drained.returncode != 0:
        errors.append("the reference drain ended with status %d" % drained.returncode)
    ref = cv.single_snapshot(cv.connect_retry(args.ref_url))

    # 5. The verdict.
    diffs = [("chaos", e) for e in errors]
    result = cv.compare(ref, got, lambda kind, message: diffs.append((kind, message)))
    if len(pushed) != total:
        diffs.append(("input", "%d entries generated, %d in the cluster's input streams (uncertain pushes: %d)"
                      % (total, len(pushed), producer.uncertain)))
    cv.print_diffs(diffs)
    print("info: partitions=%d router_kills=%d workers_added=%d workers_stopped=%d failover_ms=%s "
          "unreplicated_push_chunks=%d catch_up_ms=%d deadletter=%d state_keys=%d"
          % (args.partitions, counts["router_kills"], counts["workers_added"], counts["workers_stopped"], failover_ms,
             producer.unreplicated_chunks, drain_ms, result["deadletter"], result["state_keys"]))
    print("cluster-chaos events=%d worker_kills=%d master_kills=%d rebalances=%d alerts_expected=%d alerts_got=%d "
          "missing=%d doubled=%d state_ok=%s"
          % (result["events"], counts["worker_kills"], counts["master_kills"], counts["rebalances"],
             result["alerts_expected"], result["alerts_got"], result["missing"], result["doubled"],
             "yes" if result["state_diffs"] == 0 else "no"))
    return 1 if diffs else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--root", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--generator", required=True)
    p.add_argument("--ref-url", required=True)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--events", type=int, default=50000)
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--worker-kills", type=int, default=24)
    p.add_argument("--master-kills", type=int, default=2)
    p.add_argument("--router-kills", type=int, default=4)
    p.add_argument("--lease-ttl", default="2s")
    p.add_argument("--node-timeout-ms", type=int, default=2000)
    p.add_argument("--drain-timeout", type=float, default=600)
    args = parser.parse_args()
    if args.command == "run":
        try:
            return cmd_run(args)
        except RuntimeError as error:
            print("chaos-cluster: error: %s" % error, file=sys.stderr)
            return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
