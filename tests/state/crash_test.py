#!/usr/bin/python3
"""Crash test of the durable state: kill -9 at random moments under load.

  crash_test.py --binary build/ai_quality_exporter [--rounds 6] [--seed N]
                [--keep]

Runs the exporter on a free 127.0.0.1 port with --state-dir in a temporary
directory (checkpoints every second, so kills also land during
checkpoints). Each round:

  1. Four client threads post NDJSON batches of predictions with unique
     ids (churn classifier with features, probabilities and segments) and
     labels and feedback for predictions acknowledged earlier, every
     request with an Idempotency-Key. After a random 0.5-2.5 s the
     exporter is killed with SIGKILL, mid-traffic.
  2. It is restarted on the same state dir; every request that got no
     answer is retried with the same Idempotency-Key, as docs/api.md
     advises.
  3. Every acknowledged event is counted exactly once: aiq_predictions_total,
     aiq_labels_total and the feedback count equal the clients' ledger, and
     no label is unmatched (each label's prediction was acknowledged before
     it, so it must still be joinable).
  4. With traffic stopped, a scrape is taken, the exporter is killed -9
     again and restarted: every aiq_ model sample (counters, drift scores,
     p-values, quality, windows, join table) equals the scrape before the
     kill within 1e-12 (relative).

Prints `N passed, M failed`; exit status 1 on any failure. Every child is
killed and the directory removed on any outcome (--keep keeps it).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = """
review: {path: ""}
# Every prediction stays joinable for the whole test (the default 100k
# would evict the oldest, and their labels would count as unmatched).
limits: {max_join_entries: 10000000}
state: {checkpoint_interval: 1s, min_free_bytes: 0}
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
    label_ttl: 24h
    reference:
      csv: "builtin:churn-demo"
      target: target
      prediction: prediction
      confidence: confidence
    window: {duration: 1h, buckets: 60, min_samples: 50}
"""

BATCH = 50
CLIENTS = 4

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    def __init__(self, binary, config, state_dir, log_path):
        self.binary = binary
        self.config = config
        self.state_dir = state_dir
        self.log_path = log_path
        self.port = free_port()
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config, "--listen",
             "127.0.0.1:%d" % self.port, "--state-dir", self.state_dir],
            stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exporter exited with %d (see %s)" %
                                   (self.proc.returncode, self.log_path))
            try:
                if self.get("/-/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("exporter not ready within 30 s")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()


class Ledger:
    """What the exporter acknowledged (and what is still owed an answer)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.predictions = 0
        self.labels = 0
        self.feedback = 0
        self.acked_ids = []      # predictions acknowledged, not yet labeled
        self.unanswered = []     # (path, key, body, kind, n, ids)


def make_predictions(rng, client, seq):
    ids = ["c%d-%d-%d" % (client, seq, i) for i in range(BATCH)]
    lines = []
    for i, id_ in enumerate(ids):
        p = rng.random()
        lines.append(json.dumps({
            "model": "churn", "version": "v2" if i % 3 == 0 else "v1",
            "id": id_,
            "features": {"income": 20000 + 90000 * rng.random(),
                         "age": 18 + 60 * rng.random(),
                         "score": rng.gauss(0, 1), "rooms": rng.randint(1, 5),
                         "plan": rng.choice(["basic", "plus", "pro"]),
                         "channel": rng.choice(["app", "web"])},
            "prediction": "churn" if p > 0.5 else "stay",
            "probabilities": {"churn": p, "stay": 1 - p},
            "confidence": max(p, 1 - p),
            "latency_ms": 5 + 50 * rng.random(),
            "segment": {"region": rng.choice(["eu", "us", "apac", "latam"])}}))
    return "\n".join(lines) + "\n", ids


def post(port, path, key, body):
    """The status, or None when the connection failed (no answer)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", path, body=body,
                  headers={"Content-Type": "application/x-ndjson",
                           "Idempotency-Key": key})
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def settle(ledger, item, status):
    path, key, body, kind, n, ids = item
    if status != 200:
        raise RuntimeError("%s %s answered %s" % (path, key, status))
    with ledger.lock:
        if kind == "prediction":
            ledger.predictions += n
            ledger.acked_ids.extend(ids)
        elif kind == "label":
            ledger.labels += n
        else:
            ledger.feedback += n


def client(port, ledger, client_id, round_no, stop, rng):
    seq = 0
    while not stop.is_set():
        seq += 1
        key = "r%d-c%d-%d" % (round_no, client_id, seq)
        with ledger.lock:
            take = ledger.acked_ids[:BATCH] if rng.random() < 0.4 else []
            del ledger.acked_ids[:len(take)]
        if take:
            kind = "label" if seq % 2 else "feedback"
            if kind == "label":
                body = "".join(json.dumps(
                    {"model": "churn", "id": i,
                     "label": rng.choice(["churn", "stay"])}) + "\n"
                    for i in take)
                path = "/api/v1/labels"
            else:
                body = "".join(json.dumps(
                    {"model": "churn", "id": i,
                     "score": rng.randint(1, 5)}) + "\n" for i in take)
                path = "/api/v1/feedback"
            item = (path, key, body, kind, len(take), take)
        else:
            body, ids = make_predictions(rng, client_id, seq + 1000 * round_no)
            item = ("/api/v1/predictions", key, body, "prediction", BATCH,
                    ids)
        status = post(port, item[0], key, item[2])
        if status is None:
            with ledger.lock:
                ledger.unanswered.append(item)
            return  # the exporter is gone
        settle(ledger, item, status)


SAMPLE = re.compile(r'^(aiq_[a-z_]+)(\{[^}]*\})? (\S+)$')


def model_samples(text):
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or m.group(1).startswith(("aiq_exporter_", "aiq_state_")):
            continue
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def total(samples, name, **labels):
    s = 0.0
    for k, v in samples.items():
        if not (k == name or k.startswith(name + "{")):
            continue
        if all('%s="%s"' % (lk, lv) in k for lk, lv in labels.items()):
            s += v
    return s


def same(a, b):
    if a == b or (a != a and b != b):  # NaN equals NaN here
        return True
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="aiq_crash_")
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    exporter = Exporter(os.path.abspath(args.binary), config,
                        os.path.join(work, "state"),
                        os.path.join(work, "exporter.log"))
    ledger = Ledger()
    try:
        exporter.start()
        for round_no in range(args.rounds):
            stop = threading.Event()
            threads = [threading.Thread(
                target=client,
                args=(exporter.port, ledger, c, round_no, stop,
                      random.Random(rng.random())))
                for c in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(0.5 + 2 * rng.random())
            exporter.kill9()
            stop.set()
            for t in threads:
                t.join()
            exporter.start()
            # Retry what got no answer, with the same key.
            with ledger.lock:
                owed, ledger.unanswered = ledger.unanswered, []
            for item in owed:
                settle(ledger, item, post(exporter.port, item[0], item[1],
                                          item[2]))
            status, text = exporter.get("/metrics")
            samples = model_samples(text)
            tag = "round %d:" % round_no
            check(total(samples, "aiq_predictions_total", model="churn") ==
                  ledger.predictions,
                  "%s predictions %s, acknowledged %d" % (
                      tag, total(samples, "aiq_predictions_total"),
                      ledger.predictions))
            check(total(samples, "aiq_labels_total", model="churn") ==
                  ledger.labels,
                  "%s labels %s, acknowledged %d" % (
                      tag, total(samples, "aiq_labels_total"), ledger.labels))
            check(total(samples, "aiq_feedback_score_count", model="churn") ==
                  ledger.feedback,
                  "%s feedback %s, acknowledged %d" % (
                      tag, total(samples, "aiq_feedback_score_count"),
                      ledger.feedback))
            check(total(samples, "aiq_labels_unmatched_total") == 0,
                  "%s labels unmatched: %s" % (
                      tag, total(samples, "aiq_labels_unmatched_total")))
            check(total(samples, "aiq_feedback_unmatched_total") == 0,
                  "%s feedback unmatched: %s" % (
                      tag, total(samples, "aiq_feedback_unmatched_total")))
            # Idle kill: everything equals the scrape before it.
            exporter.kill9()
            exporter.start()
            after = model_samples(exporter.get("/metrics")[1])
            diff = [k for k in set(samples) | set(after)
                    if k not in samples or k not in after or
                    not same(samples[k], after[k])]
            check(not diff, "%s %d samples differ after an idle kill -9, "
                  "e.g. %s" % (tag, len(diff), sorted(diff)[:3]))
            has_drift = any(k.startswith("aiq_drift_score{") for k in after)
            has_quality = any(k.startswith("aiq_accuracy{") for k in after)
            check(round_no == 0 or (has_drift and has_quality),
                  "%s drift and accuracy series present" % tag)
            print("%s %d predictions, %d labels, %d feedback acknowledged; "
                  "%d retried" % (tag, ledger.predictions, ledger.labels,
                                  ledger.feedback, len(owed)), flush=True)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, "aborted: %r" % e)
    finally:
        exporter.kill9()
        if failed and os.path.exists(exporter.log_path):
            with open(exporter.log_path) as f:
                print("--- exporter log (tail) ---")
                print("".join(f.readlines()[-30:]))
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
