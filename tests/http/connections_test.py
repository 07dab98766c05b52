#!/usr/bin/python3
"""The exporter's figures under many connections and under overload (#14).

  connections_test.py --binary build/ai_quality_exporter [--part a|b|all]
                      [--a-seconds 20] [--b-seconds 25] [--keep]

Standard library only. Every exporter listens on 127.0.0.1 (port 0, read
back from its start-up line) with a config written by the test; every child
(the exporter, the attacker and load processes) is stopped on any outcome,
and dies with the test if the test itself is killed (PR_SET_PDEATHSIG).
Prints one line per figure and a summary table (markdown, for
docs/benchmarks.md); exit status 0 when every figure holds, 1 when one does
not (each `FAIL:` line names the figure, its measured value and its bound),
77 (skipped) only when the environment cannot hold the connections (the
file-descriptor limit cannot be raised enough).

Part (a), connections: 1,000 idle TCP connections and 200 slowloris
connections (each sends its request line, then one header line every 1-3 s,
and never finishes its headers) are held open by an attacker process. The
exporter runs with its default server.request_timeout (5 s) and
server.keep_alive_timeout (2 s) and drops those connections; the attacker
reopens each one as soon as it is dropped (that is the realistic attack: a
timeout alone does not stop it; the first 1,200 open at --ramp-rate, 400/s,
so that they do not all time out and reopen together, see attacker()). How
many were open is sampled every 0.25 s, and the mean over the measurement
must be >= 95 % of each target. During the
measurement (--a-seconds, default 20 s) three well-behaved clients run, each
one request at a time, at most 10 per second:
  - /metrics and /-/healthy, each request on a new connection (Prometheus
    with a 15 s scrape interval against a 2 s keep-alive timeout
    reconnects for every scrape; kubelet probes always do): p99 < 100 ms;
  - single-event ingest (POST /api/v1/predictions, one event) on one
    keep-alive connection, opened once the attack is in place (and reopened
    only if the server closes it; a reconnect's time is in its sample):
    p99 < 10 ms;
  - none of them may see a refused, reset or timed-out connection or a
    non-200 answer (a timeout is 5 s and counts as a sample of >= 5 s).
A short measurement before the attack (--baseline-seconds) is printed for
comparison, not asserted.

Part (b), overload: limits.max_body_bytes 16 MiB, limits.max_inflight_bytes
64 MiB. One NDJSON body of valid prediction events (the churn model, six
features, probabilities, a segment; no ids) is generated once, as close to
16 MiB as fits. Two warm-up posts of it, alone, fill the model's windows
and give the baseline RSS. Then 8 clients (a separate process) post it back
to back for --b-seconds (default 25 s); half of them send
`Expect: 100-continue` (as curl does for large bodies), half do not; all
watch for an early answer while sending. After a 429/503 a client waits
0.2 s (impatient: Retry-After says 1 s) so the pressure stays on. Figures:
  - peak RSS (VmHWM, and VmRSS sampled every 50 ms) <= baseline +
    RSS_FACTOR x max_inflight_bytes. RSS_FACTOR = 10: a body being read
    is held once (1x) and decoding it costs about 6x its size
    (docs/configuration.md, measured for these events by the warm-up and
    printed as "one body alone"); the rest is room for the allocator's
    fragmentation between concurrent requests and the 64 MiB of freed heap
    glibc keeps (mallopt(M_TOP_PAD)). Without the in-flight bound, 8 bodies
    at once would need 8 x 7 x 16 MiB = 896 MiB > 640 MiB;
  - every non-200 answer is 429 or 503 with Retry-After, and its p99
    (request start, including the connect, to the answer read) < 200 ms;
  - no request goes unanswered once its body was sent in full, and no
    connect fails;
  - at most 1 % of the refusals are lost to a reset: a connection reset
    while the body is still being sent cannot have applied anything (the
    body was never complete), but the client saw no 429 and no Retry-After
    (a server that closes at once after refusing, without reading on for a
    moment, loses its answer to the RST);
  - /-/healthy, polled every 100 ms on new connections: all 200, p99 <
    100 ms;
  - every accepted event is counted: each 200 accepts all events of the
    body, and the sum over 200s (warm-up included) == the sum of
    aiq_predictions_total{model="churn"} over versions after the load.
"""
import argparse
import ctypes
import errno
import heapq
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# --- figures and bounds ----------------------------------------------------

IDLE_CONNECTIONS = 1000
SLOW_CONNECTIONS = 200
OPEN_FRACTION = 0.95          # mean open connections / target, at least
SCRAPE_P99_MS = 100.0         # /metrics and /-/healthy under attack
INGEST_P99_MS = 10.0          # single-event keep-alive ingest under attack
PROBE_PERIOD = 0.1            # at most 10 requests/s per probe
PROBE_TIMEOUT = 5.0           # a probe request slower than this failed

BODY_BYTES = 16 << 20         # limits.max_body_bytes
INFLIGHT_BYTES = 64 << 20     # limits.max_inflight_bytes
LOAD_CLIENTS = 8
RSS_FACTOR = 10               # see the docstring
REJECT_P99_MS = 200.0         # 429/503 answers under overload
HEALTHY_P99_MS = 100.0        # /-/healthy under overload
BACKOFF = 0.2                 # seconds a load client waits after a 429/503
LOAD_TIMEOUT = 30.0           # one 16 MiB request, at most

MODEL = """
models:
  - name: churn
    task: classification
    versions: ["v1", "v2"]
    classes: ["churn", "stay"]
    features:
      - {name: income, type: numeric}
      - {name: age, type: numeric}
      - {name: score, type: numeric}
      - {name: rooms, type: numeric}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    segments:
      - {attribute: region, values: ["eu", "us", "apac"]}
    reference:
      csv: "builtin:churn-demo"
      target: target
      prediction: prediction
      confidence: confidence
    window: {duration: 1h, buckets: 12, min_samples: 100}
"""

# Part (a): the server's defaults (request_timeout 5s, keep_alive_timeout 2s).
CONFIG_A = 'review: {path: ""}\n' + MODEL

CONFIG_B = ('review: {path: ""}\n'
            'limits: {max_body_bytes: %d, max_inflight_bytes: %d, '
            'max_events_per_request: 1000000}\n' % (BODY_BYTES,
                                                    INFLIGHT_BYTES) + MODEL)

# --- checks ----------------------------------------------------------------

results = []   # (name, ok, message)


def check(name, ok, message):
    results.append((name, ok, message))
    print("%s: %s: %s" % ("ok" if ok else "FAIL", name, message), flush=True)


def own_cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100.0 * len(s)) - 1)]


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.1f" % v if v >= 10 else "%.2f" % v


table = []     # rows of the summary table


def text_row(part, name, n, text, bound):
    """A summary-table row whose figure is text, not latencies."""
    table.append((part, name, n, text, None, None, "-", bound))


def die_with_parent():
    """The calling process gets SIGKILL when its parent dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# --- the exporter -----------------------------------------------------------

class Exporter:
    def __init__(self, binary, work, name, config):
        self.binary = binary
        self.config = os.path.join(work, name + ".yaml")
        self.log_path = os.path.join(work, name + ".log")
        with open(self.config, "w") as f:
            f.write(config)
        self.proc = None
        self.port = None

    def start(self):
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config,
             "--listen", "127.0.0.1:0"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exporter exited with %d: %s" %
                                   (self.proc.returncode, self.log()))
            m = re.search(r"\(port (\d+)\)", self.log())
            if m:
                self.port = int(m.group(1))
                try:
                    if get(self.port, "/-/ready")[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("exporter not ready within 30 s: " + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def cpu(self):
        """utime + stime in seconds."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self):
        """VmRSS, VmHWM in bytes."""
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) * 1024
        return out["VmRSS"], out["VmHWM"]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def predictions_counted(port):
    """The sum of aiq_predictions_total{model="churn"} over its versions."""
    total = 0.0
    for line in get(port, "/metrics", timeout=30)[1].splitlines():
        if line.startswith("aiq_predictions_total{") and \
                'model="churn"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- events ----------------------------------------------------------------

def make_event(rng):
    p = rng.random()
    return json.dumps({
        "model": "churn", "version": "v2" if rng.random() < 0.3 else "v1",
        "features": {"income": round(20000 + 90000 * rng.random(), 2),
                     "age": rng.randint(18, 80),
                     "score": round(rng.gauss(0, 1), 4),
                     "rooms": rng.randint(1, 5),
                     "plan": rng.choice(["basic", "plus", "pro"]),
                     "channel": rng.choice(["app", "web"])},
        "prediction": "churn" if p > 0.5 else "stay",
        "probabilities": {"churn": round(p, 4), "stay": round(1 - p, 4)},
        "confidence": round(max(p, 1 - p), 4),
        "latency_ms": round(5 + 50 * rng.random(), 2),
        "segment": {"region": rng.choice(["eu", "us", "apac", "latam"])}},
        separators=(",", ":"))


def make_body(limit):
    """NDJSON of as many events as fit in `limit` bytes; (body, events)."""
    rng = random.Random(14)
    lines = []
    size = 0
    while True:
        line = make_event(rng) + "\n"
        if size + len(line) > limit:
            break
        lines.append(line)
        size += len(line)
    body = "".join(lines).encode()
    assert len(body) == size and body.count(b"\n") == len(lines)
    return body, len(lines)


# --- probes (well-behaved clients) ------------------------------------------

def classify(exc):
    if isinstance(exc, socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError,
                        http.client.RemoteDisconnected)):
        return "reset"
    return type(exc).__name__


class Probe(threading.Thread):
    """Requests one at a time, at most one per PROBE_PERIOD, until stop.

    Each sample is (latency_ms, outcome), outcome "ok" or why it failed;
    a failed request's latency is the time until it failed."""

    def __init__(self, name, port, stop, path, body=None, keep_alive=False):
        super().__init__(daemon=True)
        self.name = name
        self.port = port
        self.stop = stop
        self.path = path
        self.body = body
        self.keep_alive = keep_alive
        self.samples = []
        self.connects = 0

    def _connection(self):
        self.connects += 1
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=PROBE_TIMEOUT)

    def one(self, conn):
        if self.body is None:
            conn.request("GET", self.path)
        else:
            conn.request("POST", self.path, body=self.body,
                         headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            return "status %d" % r.status, r.will_close
        if self.body is not None and json.loads(data).get("accepted") != 1:
            return "not accepted: " + data.decode()[:100], r.will_close
        return "ok", r.will_close

    def run(self):
        conn = None
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = self._connection()
                    conn.connect()
                outcome, will_close = self.one(conn)
                if will_close or not self.keep_alive:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = classify(e)
                if conn is not None:
                    conn.close()
                conn = None
            elapsed = time.monotonic() - t0
            self.samples.append((elapsed * 1000.0, outcome))
            self.stop.wait(max(0.0, PROBE_PERIOD - elapsed))
        if conn is not None:
            conn.close()


def summarize(part, name, samples, bound_ms=None, extra=""):
    """Checks and tabulates one probe's samples against p99 < bound_ms."""
    lat = [ms for ms, _ in samples]
    errors = {}
    for _, outcome in samples:
        if outcome != "ok":
            errors[outcome] = errors.get(outcome, 0) + 1
    p50 = percentile(lat, 50) if lat else None
    p99 = percentile(lat, 99) if lat else None
    mx = max(lat) if lat else None
    err_text = ", ".join("%d %s" % (n, k) for k, n in sorted(errors.items()))
    table.append((part, name, len(samples), p50, p99, mx,
                  err_text or "0",
                  "p99 < %g ms, 0 errors" % bound_ms if bound_ms else "-"))
    if bound_ms is None:
        return
    check("(%s) %s p99" % (part, name), bool(lat) and p99 < bound_ms,
          "p99 %s ms (bound < %g ms; p50 %s, max %s ms; %d samples%s)" %
          (fmt_ms(p99), bound_ms, fmt_ms(p50), fmt_ms(mx), len(samples),
           extra))
    check("(%s) %s errors" % (part, name), bool(samples) and not errors,
          "%d of %d requests failed%s" %
          (sum(errors.values()), len(samples),
           " (%s)" % err_text if errors else "") if samples else
          "no request completed")


# --- part (a): the attacker --------------------------------------------------

def attacker(port, n_idle, n_slow, ramp_rate, stop, ready, out):
    """Holds n_idle idle and n_slow slowloris connections, reopening each
    as soon as it is dropped, until `stop`. Sends its samples to `out`.

    The first connections open at ramp_rate per second: opened all at once,
    they would all time out together and be reopened together every
    request_timeout, and those bursts of a thousand connects and closes on
    two cores would measure the attacker's burst, not the steady attack.
    Reopens are immediate."""
    die_with_parent()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    sel = selectors.DefaultSelector()
    addr = ("127.0.0.1", port)
    rng = random.Random(3)
    conns = {}        # fd -> dict(kind, sock, state, since, next_send)
    sends = []        # heap of (time, fd, generation)
    stats = {"opened": 0, "established": 0, "dropped": 0,
             "connect_failed": 0, "connect_timeouts": 0, "answered": 0,
             "errors": {}}
    generation = [0]
    CONNECT_TIMEOUT = 10.0

    def open_one(kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            stats["connect_failed"] += 1
            s.close()
            return False
        generation[0] += 1
        c = {"kind": kind, "sock": s, "state": "connecting",
             "since": time.monotonic(), "gen": generation[0]}
        conns[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE, c)
        stats["opened"] += 1
        return True

    def close_one(c, reason):
        s = c["sock"]
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        conns.pop(s.fileno(), None)
        s.close()
        stats["errors"][reason] = stats["errors"].get(reason, 0) + 1

    def established(c, now):
        c["state"] = "open"
        stats["established"] += 1
        sel.modify(c["sock"], selectors.EVENT_READ, c)
        if c["kind"] == "slow":
            # The request line and a first header; never the blank line.
            try:
                c["sock"].send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                pass
            heapq.heappush(sends, (now + rng.uniform(1, 3),
                                   c["sock"].fileno(), c["gen"]))

    want = {"idle": n_idle, "slow": n_slow}
    want_all = ["idle"] * n_idle + ["slow"] * n_slow
    samples = []
    next_sample = time.monotonic()
    ramp = []           # kinds to open first, at ramp_rate
    for kind in ("idle", "slow"):
        ramp += [kind] * want[kind]
    rng.shuffle(ramp)
    pending_open = []   # kinds to reopen at once
    t_start = time.monotonic()
    last_refused = 0.0
    signalled = False
    while not stop.is_set():
        now = time.monotonic()
        due = int((now - t_start) * ramp_rate) - (len(want_all) - len(ramp))
        while ramp and due > 0:
            pending_open.append(ramp.pop())
            due -= 1
        if pending_open and now - last_refused > 0.1 and \
                len(conns) < soft - 64:
            for _ in range(len(pending_open)):
                kind = pending_open.pop()
                if not open_one(kind):
                    pending_open.append(kind)
                    last_refused = now
                    break
        timeout = 0.05
        if sends:
            timeout = max(0.0, min(timeout, sends[0][0] - now))
        for key, mask in sel.select(timeout):
            c = key.data
            if c["state"] == "connecting":
                err = c["sock"].getsockopt(socket.SOL_SOCKET,
                                           socket.SO_ERROR)
                if err == 0:
                    established(c, time.monotonic())
                else:
                    close_one(c, "connect: " + errno.errorcode.get(err,
                                                                 str(err)))
                    stats["connect_failed"] += 1
                    pending_open.append(c["kind"])
                    last_refused = time.monotonic()
                continue
            try:
                data = c["sock"].recv(65536)
            except OSError as e:
                data = None
                reason = "recv: " + errno.errorcode.get(e.errno, str(e))
            if data:
                stats["answered"] += 1   # e.g. 408: keep reading to EOF
                continue
            close_one(c, "closed by server" if data == b"" else reason)
            stats["dropped"] += 1
            pending_open.append(c["kind"])
        now = time.monotonic()
        while sends and sends[0][0] <= now:
            _, fd, gen = heapq.heappop(sends)
            c = conns.get(fd)
            if c is None or c["gen"] != gen or c["state"] != "open":
                continue
            try:
                c["sock"].send(b"X-a%d: b\r\n" % rng.randint(0, 9999))
            except OSError:
                pass   # the recv side will see the close
            heapq.heappush(sends, (now + rng.uniform(1, 3), fd, gen))
        # Connects the server never completes (SYN dropped: the listen
        # backlog is full) are retried after CONNECT_TIMEOUT.
        if now >= next_sample:
            counts = {"idle": 0, "slow": 0, "connecting": 0}
            for fd, c in list(conns.items()):
                if c["state"] == "open":
                    counts[c["kind"]] += 1
                else:
                    counts["connecting"] += 1
                    if now - c["since"] > CONNECT_TIMEOUT:
                        close_one(c, "connect timeout")
                        stats["connect_timeouts"] += 1
                        pending_open.append(c["kind"])
            samples.append((now, counts["idle"], counts["slow"],
                            counts["connecting"]))
            next_sample = now + 0.25
            if not signalled and counts["idle"] >= OPEN_FRACTION * n_idle \
                    and counts["slow"] >= OPEN_FRACTION * n_slow:
                ready.set()
                signalled = True
    for c in list(conns.values()):
        c["sock"].close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    stats["cpu"] = ru.ru_utime + ru.ru_stime
    stats["seconds"] = time.monotonic() - t_start
    out.send({"samples": samples, "stats": stats})
    out.close()


def part_a(args, work):
    print("== (a) %d idle + %d slowloris connections" %
          (IDLE_CONNECTIONS, SLOW_CONNECTIONS), flush=True)
    exporter = Exporter(args.binary, work, "a", CONFIG_A)
    exporter.start()
    port = exporter.port
    event = make_event(random.Random(1)).encode()
    ctx = multiprocessing.get_context("spawn")
    proc = None
    try:
        def measure(seconds):
            stop = threading.Event()
            probes = [Probe("/metrics", port, stop, "/metrics"),
                      Probe("/-/healthy", port, stop, "/-/healthy"),
                      Probe("ingest 1 event", port, stop,
                            "/api/v1/predictions", body=event,
                            keep_alive=True)]
            for p in probes:
                p.start()
            t0 = time.monotonic()
            stop.wait(seconds)
            stop.set()
            t1 = time.monotonic()
            for p in probes:
                p.join(PROBE_TIMEOUT + 5)
            return probes, t0, t1

        if args.baseline_seconds > 0:
            probes, _, _ = measure(args.baseline_seconds)
            for p in probes:
                summarize("a, no attack", p.name, p.samples)

        stop = ctx.Event()
        ready = ctx.Event()
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=attacker,
                           args=(port, IDLE_CONNECTIONS, SLOW_CONNECTIONS,
                                 args.ramp_rate, stop, ready, child_end),
                           daemon=True)
        proc.start()
        child_end.close()
        t_ramp = time.monotonic()
        ramped = ready.wait(args.ramp_seconds)
        ramp = time.monotonic() - t_ramp
        print("attack %s after %.1f s" %
              ("in place" if ramped else "NOT in place", ramp), flush=True)
        cpu0 = exporter.cpu(), own_cpu()
        probes, t0, t1 = measure(args.a_seconds)
        cpu1 = exporter.cpu(), own_cpu()
        stop.set()
        report = parent_end.recv() if parent_end.poll(30) else None
        proc.join(10)
        alive = exporter.alive()
        rss, hwm = exporter.status() if alive else (0, 0)
    finally:
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join()
        exporter.stop()

    check("(a) exporter alive", alive, "exporter %s after the attack" %
          ("running" if alive else "exited (%s)" % exporter.proc.returncode))
    for p, bound in zip(probes, (SCRAPE_P99_MS, SCRAPE_P99_MS,
                                 INGEST_P99_MS)):
        extra = ""
        if p.keep_alive:
            extra = "; %d connections opened" % p.connects
        summarize("a", p.name, p.samples, bound, extra)
    if report is None:
        check("(a) attack", False, "the attacker sent no report")
        return
    window = [s for s in report["samples"] if t0 <= s[0] <= t1]
    st = report["stats"]
    for i, (kind, target) in enumerate((("idle", IDLE_CONNECTIONS),
                                        ("slowloris", SLOW_CONNECTIONS))):
        opened = [s[1 + i] for s in window]
        mean = sum(opened) / len(opened) if opened else 0
        low = min(opened) if opened else 0
        text_row("a", "%s connections open" % kind, len(opened),
                 "mean %.0f, min %d of %d" % (mean, low, target),
                 "mean >= %d" % math.ceil(OPEN_FRACTION * target))
        check("(a) %s connections open" % kind,
              mean >= OPEN_FRACTION * target,
              "mean %.0f, min %d of %d open over %.0f s (bound: mean >= "
              "%.0f %%; %.0f connects pending on average)" %
              (mean, low, target, t1 - t0, 100 * OPEN_FRACTION,
               sum(s[3] for s in window) / max(1, len(window))))
    seconds = max(1e-9, window[-1][0] - report["samples"][0][0]) \
        if window else 1
    print("attacker: %d connections opened, %d established, %d dropped by "
          "the server (%.0f/s), %d connect timeouts, %d failed connects, "
          "%d answers; closes: %s" %
          (st["opened"], st["established"], st["dropped"],
           st["dropped"] / seconds, st["connect_timeouts"],
           st["connect_failed"], st["answered"],
           json.dumps(st["errors"], sort_keys=True)), flush=True)
    print("exporter after the attack: VmRSS %.1f MiB, VmHWM %.1f MiB" %
          (rss / 2**20, hwm / 2**20), flush=True)
    print("CPU during the %.0f s measured: exporter %.2f s, probes (this "
          "process) %.2f s; attacker %.2f s in its %.0f s; load average "
          "%.2f" % (t1 - t0, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
                    st["cpu"], st["seconds"], os.getloadavg()[0]),
          flush=True)


# --- part (b): overload ------------------------------------------------------

class RawClient:
    """One HTTP/1.1 connection with control over when the body is sent."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""
        self.sent = 0
        self.stage = None

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    def _recv(self, deadline):
        self.sock.settimeout(max(0.001, deadline - time.monotonic()))
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionResetError("closed by the server")
        self.buf += data

    def read_head(self, deadline):
        while b"\r\n\r\n" not in self.buf:
            self._recv(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def read_response(self, deadline):
        status, headers = self.read_head(deadline)
        while status == 100:
            status, headers = self.read_head(deadline)
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._recv(deadline)
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def send_body(self, body, deadline):
        """Sends body while watching for an early answer; the bytes sent."""
        view = memoryview(body)
        off = 0
        self.sock.setblocking(False)
        try:
            while off < len(body):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("sending the body")
                r, w, _ = select.select([self.sock], [self.sock], [], left)
                if r:
                    return off     # an answer before the body is all sent
                if w:
                    try:
                        off += self.sock.send(view[off:off + (1 << 20)])
                        self.sent = off
                    except BlockingIOError:
                        pass
        finally:
            self.sock.setblocking(True)
        return off

    def post(self, body, expect):
        """(status, headers, answer body, bytes of the body sent).

        On an exception, self.stage says how far it got (connect, head,
        body, answer) and self.sent how much of the body was sent."""
        deadline = time.monotonic() + LOAD_TIMEOUT
        self.sent = 0
        self.stage = "connect"
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port),
                                                 timeout=LOAD_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stage = "head"
        head = ("POST /api/v1/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-ndjson\r\n"
                "Content-Length: %d\r\n%s\r\n" %
                (len(body), "Expect: 100-continue\r\n" if expect else ""))
        self.sock.sendall(head.encode())
        sent = 0
        if expect:
            # As curl: wait up to 1 s for 100 Continue or a final answer.
            r, _, _ = select.select([self.sock], [], [], 1.0)
            if r:
                status, headers = self.read_head(deadline)
                if status != 100:
                    n = int(headers.get("content-length", "0"))
                    while len(self.buf) < n:
                        self._recv(deadline)
                    answer, self.buf = self.buf[:n], self.buf[n:]
                    return status, headers, answer, 0
        self.stage = "body"
        sent = self.send_body(body, deadline)
        self.stage = "answer"
        status, headers, answer = self.read_response(deadline)
        return status, headers, answer, sent


def load_client(i, port, body, seconds, out, lock):
    expect = i % 2 == 0
    client = RawClient(port)
    rng = random.Random(i)
    time.sleep(rng.uniform(0, 0.1))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        rec = {"client": i, "expect": expect}
        try:
            status, headers, answer, sent = client.post(body, expect)
            rec.update(status=status, sent=sent,
                       retry_after=headers.get("retry-after"))
            if status == 200:
                doc = json.loads(answer)
                rec["accepted"] = doc.get("accepted")
                rec["rejected"] = doc.get("rejected")
            else:
                rec["error"] = answer[:200].decode(errors="replace")
            if headers.get("connection", "").lower() == "close":
                client.close()
        except (OSError, ValueError) as e:
            rec.update(status=None, sent=client.sent, stage=client.stage,
                       error="%s (%s)" % (classify(e), str(e)[:100]))
            client.close()
        rec["ms"] = (time.monotonic() - t0) * 1000.0
        rec["t"] = t0
        with lock:
            out.append(rec)
        if rec["status"] != 200:
            time.sleep(BACKOFF)
    client.close()


def load_process(port, body_path, seconds, conn):
    die_with_parent()
    with open(body_path, "rb") as f:
        body = f.read()
    records = []
    lock = threading.Lock()
    threads = [threading.Thread(target=load_client,
                                args=(i, port, body, seconds, records,
                                      lock))
               for i in range(LOAD_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.send(records)
    conn.close()


class RssSampler(threading.Thread):
    def __init__(self, exporter, stop):
        super().__init__(daemon=True)
        self.exporter = exporter
        self.stop = stop
        self.samples = []

    def run(self):
        while not self.stop.is_set():
            try:
                self.samples.append(self.exporter.status()[0])
            except (OSError, KeyError):
                return
            self.stop.wait(0.05)


def part_b(args, work):
    body, events = make_body(BODY_BYTES)
    print("== (b) overload: %d clients posting %d-byte NDJSON bodies of %d "
          "events for %d s; max_inflight_bytes %d" %
          (LOAD_CLIENTS, len(body), events, args.b_seconds,
           INFLIGHT_BYTES), flush=True)
    body_path = os.path.join(work, "body.ndjson")
    with open(body_path, "wb") as f:
        f.write(body)
    exporter = Exporter(args.binary, work, "b", CONFIG_B)
    exporter.start()
    port = exporter.port
    ctx = multiprocessing.get_context("spawn")
    proc = None
    ledger = 0
    warm = []
    try:
        idle_rss, _ = exporter.status()
        for _ in range(2):
            c = RawClient(port)
            t0 = time.monotonic()
            status, _, answer, _ = c.post(body, expect=False)
            warm.append((time.monotonic() - t0) * 1000.0)
            c.close()
            if status != 200:
                raise RuntimeError("warm-up post answered %d: %s" %
                                   (status, answer[:300]))
            doc = json.loads(answer)
            if doc.get("accepted") != events:
                raise RuntimeError("warm-up post accepted %s of %d: %s" %
                                   (doc.get("accepted"), events,
                                    answer[:300]))
            ledger += events
        baseline, warm_hwm = exporter.status()
        one_body = warm_hwm - idle_rss
        print("idle RSS %.1f MiB; after 2 bodies alone: RSS %.1f MiB, HWM "
              "%.1f MiB: one body alone peaked %.1f MiB above idle = %.1fx "
              "its size (windows filled included); %.0f / %.0f ms each" %
              (idle_rss / 2**20, baseline / 2**20, warm_hwm / 2**20,
               one_body / 2**20, one_body / len(body), warm[0], warm[1]),
              flush=True)

        stop = threading.Event()
        healthy = Probe("/-/healthy", port, stop, "/-/healthy")
        rss = RssSampler(exporter, stop)
        rss.start()
        healthy.start()
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=load_process,
                           args=(port, body_path, args.b_seconds,
                                 child_end), daemon=True)
        t0 = time.monotonic()
        cpu0 = exporter.cpu()
        proc.start()
        child_end.close()
        records = parent_end.recv() if parent_end.poll(
            args.b_seconds + LOAD_TIMEOUT + 30) else None
        t1 = time.monotonic()
        cpu = exporter.cpu() - cpu0 if exporter.alive() else 0.0
        proc.join(10)
        stop.set()
        healthy.join(PROBE_TIMEOUT + 5)
        rss.join(5)
        alive = exporter.alive()
        if alive:
            _, hwm = exporter.status()
            counted = predictions_counted(port)
            time.sleep(1)
            after_rss = exporter.status()[0]
        else:
            hwm, counted, after_rss = 0, None, 0
    finally:
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join()
        exporter.stop()

    check("(b) exporter alive", alive, "exporter %s after the load" %
          ("running" if alive else "exited (%s)" % exporter.proc.returncode))
    if records is None:
        check("(b) load", False, "the load process sent no results")
        return
    ok = [r for r in records if r["status"] == 200]
    refused = [r for r in records if r["status"] in (429, 503)]
    other = [r for r in records if r["status"] not in (200, 429, 503, None)]
    failed = [r for r in records if r["status"] is None]
    # A connection refused (or timed out) before a byte was sent.
    no_connect = [r for r in failed if r["stage"] == "connect"]
    # Reset while the body was still being sent (the server refused it and
    # closed without reading on): the body was never complete, so nothing
    # of it can have been applied, but its 429 was lost.
    mid_body = [r for r in failed if r["stage"] in ("head", "body")]
    # No answer once the body was sent in full: applied or not, unknown.
    unanswered = [r for r in failed if r["stage"] == "answer"]
    accepted = sum(r.get("accepted") or 0 for r in ok)
    ledger += accepted
    seconds = t1 - t0

    # Memory.
    bound = baseline + RSS_FACTOR * INFLIGHT_BYTES
    peak = max(hwm, max(rss.samples) if rss.samples else 0)
    text_row("b", "exporter RSS", len(rss.samples),
             "idle %.0f, baseline %.0f, max sampled %.0f, VmHWM %.0f MiB" %
             (idle_rss / 2**20, baseline / 2**20,
              max(rss.samples) / 2**20 if rss.samples else 0, hwm / 2**20),
             "<= %.0f MiB" % (bound / 2**20))
    print("RSS 1 s after the load: %.1f MiB" % (after_rss / 2**20))
    check("(b) peak RSS", peak <= bound,
          "VmHWM %.1f MiB, max sampled VmRSS %.1f MiB (bound %.1f MiB = "
          "baseline %.1f + %d x max_inflight_bytes %d MiB)" %
          (hwm / 2**20, max(rss.samples) / 2**20 if rss.samples else 0,
           bound / 2**20, baseline / 2**20, RSS_FACTOR,
           INFLIGHT_BYTES >> 20))

    # Rejections.
    def lat_row(name, recs, bound_text):
        lat = [r["ms"] for r in recs]
        table.append(("b", name, len(lat),
                      percentile(lat, 50) if lat else None,
                      percentile(lat, 99) if lat else None,
                      max(lat) if lat else None, "-", bound_text))
        return lat

    lat_row("200 (16 MiB accepted)", ok, "-")
    for expect in (True, False):
        lat_row("429/503, %s Expect" % ("with" if expect else "without"),
                [r for r in refused if r["expect"] == expect], "-")
    lat = lat_row("429/503, all", refused, "p99 < %g ms" % REJECT_P99_MS)
    check("(b) overload refused", len(refused) > 0,
          "%d requests answered 429/503 (overload must refuse some: 8 "
          "clients x 16 MiB > max_inflight_bytes)" % len(refused))
    if lat:
        check("(b) 429/503 p99", percentile(lat, 99) < REJECT_P99_MS,
              "p99 %s ms (bound < %g ms; p50 %s, max %s ms; %d answers)" %
              (fmt_ms(percentile(lat, 99)), REJECT_P99_MS,
               fmt_ms(percentile(lat, 50)), fmt_ms(max(lat)), len(lat)))
    no_retry = [r for r in refused if not r.get("retry_after")]
    check("(b) Retry-After", not no_retry,
          "%d of %d 429/503 answers without Retry-After" %
          (len(no_retry), len(refused)))
    check("(b) other answers", not other,
          "%d answers neither 200 nor 429/503%s" %
          (len(other), ": %s" % sorted({(r["status"], r.get("error", "")[:80])
                                        for r in other})[:3]
           if other else ""))
    check("(b) unanswered", not unanswered,
          "%d requests got no answer after their body was sent in full%s" %
          (len(unanswered),
           ": %s" % sorted({r["error"] for r in unanswered})[:3]
           if unanswered else ""))
    check("(b) connections refused", not no_connect,
          "%d connects failed under overload%s" %
          (len(no_connect), ": %s" % sorted({r["error"] for r in
                                             no_connect})[:3]
           if no_connect else ""))
    check("(b) refusals lost to a reset", len(mid_body) <= 0.01 * max(
        1, len(refused) + len(mid_body)),
          "%d requests reset before their body was complete, %d refusals "
          "answered (bound: resets <= 1 %%: a server that closes at once "
          "after a 429, without reading on for a moment, loses the 429 to "
          "the RST and the client sees a reset, not Retry-After)%s" %
          (len(mid_body), len(refused),
           ": %s" % sorted({r["error"] for r in mid_body})[:3]
           if mid_body else ""))

    # Accounting.
    partial = [r for r in ok if r.get("accepted") != events or
               r.get("rejected")]
    check("(b) each 200 accepts the whole body", not partial,
          "%d of %d 200 answers accepted other than %d events" %
          (len(partial), len(ok), events))
    check("(b) every accepted event counted", counted == ledger,
          "aiq_predictions_total{model=\"churn\"} = %s, accepted in 200 "
          "answers (warm-up included) = %d%s" %
          (None if counted is None else "%.0f" % counted, ledger,
           "; %d unanswered requests of %d events each may or may not have "
           "been applied" % (len(unanswered), events) if unanswered else ""))

    summarize("b", "/-/healthy", healthy.samples, HEALTHY_P99_MS)
    print("overload: %d requests in %.1f s: %d x 200 (%d events, %.0f "
          "events/s, exporter CPU %.2f s = %.1f us/event), %d x 429/503, "
          "%d reset mid-body, %d unanswered, %d failed connects, %d other; "
          "requests by client (even: Expect): %s" %
          (len(records), seconds, len(ok), accepted, accepted / seconds,
           cpu, 1e6 * cpu / max(1, accepted), len(refused), len(mid_body),
           len(unanswered), len(no_connect), len(other),
           [sum(1 for r in records if r["client"] == i)
            for i in range(LOAD_CLIENTS)]), flush=True)
    text_row("b", "events", len(ok),
             "%d per body, %d bytes; %d accepted under load (%.0f/s); "
             "counter %s" % (events, len(body), accepted, accepted / seconds,
                             "-" if counted is None else "%.0f" % counted),
             "counter == accepted")


# --- main --------------------------------------------------------------------

def raise_nofile(needed):
    """Raises RLIMIT_NOFILE to `needed`; False when impossible."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return True
    try:
        new_hard = hard if hard == resource.RLIM_INFINITY or \
            hard >= needed else needed
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, new_hard))
    except (ValueError, OSError):
        return False
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed


def print_table():
    print("\n| part | figure | n | p50 ms | p99 ms | max ms | errors | "
          "bound |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for part, name, n, p50, p99, mx, errors, bound in table:
        if isinstance(p50, str):   # a row with a text figure
            print("| %s | %s | %s | %s | | | %s | %s |" %
                  (part, name, n, p50, errors, bound))
        else:
            print("| %s | %s | %d | %s | %s | %s | %s | %s |" %
                  (part, name, n, fmt_ms(p50), fmt_ms(p99), fmt_ms(mx),
                   errors, bound))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--part", choices=("a", "b", "all"), default="all",
                    help="a: idle + slowloris connections; b: overload")
    ap.add_argument("--a-seconds", type=float, default=20)
    ap.add_argument("--baseline-seconds", type=float, default=3,
                    help="(a) probes before the attack, not asserted")
    ap.add_argument("--ramp-seconds", type=float, default=10,
                    help="(a) at most this long for the attack to be open")
    ap.add_argument("--ramp-rate", type=float, default=400,
                    help="(a) the attack's first connections per second")
    ap.add_argument("--b-seconds", type=float, default=25)
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configs, logs)")
    args = ap.parse_args()

    needed = IDLE_CONNECTIONS + SLOW_CONNECTIONS + 1024
    if args.part in ("a", "all") and not raise_nofile(needed):
        print("SKIP: cannot raise RLIMIT_NOFILE to %d (limits %s)" %
              (needed, resource.getrlimit(resource.RLIMIT_NOFILE)))
        return 77
    # Bounded in time whatever happens: the exporter and the helpers are
    # stopped by the finally blocks.
    budget = 60 + (args.a_seconds + args.baseline_seconds + args.ramp_seconds
                   if args.part in ("a", "all") else 0) + \
        (args.b_seconds + LOAD_TIMEOUT if args.part in ("b", "all") else 0)

    def on_alarm(signum, frame):
        raise TimeoutError("the test ran past its %d s budget" % budget)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(budget))

    work = tempfile.mkdtemp(prefix="aiq_connections_")
    started = time.monotonic()
    try:
        if args.part in ("a", "all"):
            part_a(args, work)
        if args.part in ("b", "all"):
            part_b(args, work)
    except (RuntimeError, TimeoutError, OSError) as e:
        check("test", False, "%s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table()
    failed = [name for name, ok, _ in results if not ok]
    print("\n%d passed, %d failed in %.0f s%s" %
          (len(results) - len(failed), len(failed),
           time.monotonic() - started,
           (": " + "; ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
