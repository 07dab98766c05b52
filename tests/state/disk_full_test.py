#!/usr/bin/python3
"""The durable state on a disk that really fills up (docs/state.md, Faults).

  disk_full_test.py --binary build/ai_quality_exporter [--keep]

Mounts a 64 MiB tmpfs (needs root: exits 77, which CTest counts as
skipped, otherwise) and runs the exporter with its state directory there,
`state.min_free_bytes: 0` so that nothing refuses early and the writes
themselves meet ENOSPC, and checkpoints every second:

  1. Predictions with ids are posted and acknowledged.
  2. A file fills the rest of the tmpfs. Every ingest request is now
     answered 503 naming the full disk, and nothing of it is applied (the
     counters do not move); the periodic checkpoint fails and is counted.
  3. The file is removed: ingest resumes by itself (no restart), and
     checkpoints succeed again.
  4. kill -9 and a restart on the same directory: every acknowledged
     prediction is counted exactly once, and a label for each of them joins
     (none unmatched).

Prints `N passed, M failed`; exit status 1 on any failure. The exporter is
killed and the tmpfs unmounted on any outcome (--keep leaves it mounted).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_test  # noqa: E402
from crash_test import (CONFIG, Exporter, check,  # noqa: E402
                        make_predictions, model_samples, total)


def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", path, body=body,
                  headers={"Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


STATE_SAMPLE = re.compile(r'^(aiq_state_[a-z_]+)(\{[^}]*\})? (\S+)$')


def state_metric(exporter, name):
    for line in exporter.get("/metrics")[1].splitlines():
        m = STATE_SAMPLE.match(line)
        if m and m.group(1) == name:
            return float(m.group(3))
    return None


def counts(exporter):
    s = model_samples(exporter.get("/metrics")[1])
    return (total(s, "aiq_predictions_total", model="churn"),
            total(s, "aiq_labels_total", model="churn"),
            total(s, "aiq_labels_unmatched_total"))


def fill(directory):
    """Writes a file until the file system is full; its path."""
    path = os.path.join(directory, "filler")
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        # The last bytes too, a page at a time.
        try:
            while True:
                f.write(chunk[:4096])
        except OSError:
            pass
    return path


def wait_for(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root")
        return 77

    work = tempfile.mkdtemp(prefix="aiq_disk_full_")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt],
                   check=True)
    exporter = None
    try:
        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.replace(
                "state: {checkpoint_interval: 1s, min_free_bytes: 0}",
                "state: {checkpoint_interval: 1s, min_free_bytes: 0, "
                "join_memory_bytes: 16777216}"))
        exporter = Exporter(args.binary, config, os.path.join(mnt, "state"),
                            os.path.join(work, "exporter.log"))
        exporter.start()
        rng = random.Random(7)
        acked_ids = []

        def post_batch(seq):
            body, ids = make_predictions(rng, 0, seq)
            status, text = post(exporter.port, "/api/v1/predictions", body)
            if status == 200:
                acked_ids.extend(ids)
            return status, text

        for seq in range(40):
            status, text = post_batch(seq)
            check(status == 200, "before: batch %d answered %d %s" %
                  (seq, status, text))
        before = counts(exporter)
        check(before[0] == len(acked_ids),
              "before: %s predictions counted, %d acknowledged" %
              (before[0], len(acked_ids)))

        # The disk fills up.
        filler = fill(mnt)
        refused = 0
        bodies = set()
        for seq in range(40, 60):
            status, text = post_batch(seq)
            if status == 503:
                refused += 1
                bodies.add(json.loads(text)["error"])
        check(refused == 20, "full: %d of 20 batches refused" % refused)
        check(any("No space left on device" in b for b in bodies),
              "full: no 503 names the full disk: %s" % sorted(bodies))
        check(counts(exporter) == before,
              "full: counters moved: %s, before %s" % (counts(exporter),
                                                       before))
        check(wait_for(lambda: (state_metric(
            exporter, "aiq_state_checkpoint_failures_total") or 0) > 0, 10),
              "full: no checkpoint failure counted")
        check((state_metric(exporter, "aiq_state_write_errors_total") or 0)
              > 0, "full: no write error counted")
        check(exporter.get("/-/healthy")[0] == 200,
              "full: /-/healthy not 200")

        # Space returns: ingest resumes by itself.
        os.unlink(filler)
        resumed = None
        deadline = time.time() + 30
        seq = 60
        while time.time() < deadline:
            status, text = post_batch(seq)
            seq += 1
            if status == 200:
                resumed = seq
                break
            time.sleep(0.2)
        check(resumed is not None, "after: ingest did not resume in 30 s")
        for _ in range(10):
            status, text = post_batch(seq)
            seq += 1
            check(status == 200, "after: answered %d %s" % (status, text))
        checkpoints = state_metric(exporter, "aiq_state_checkpoints_total")
        check(wait_for(lambda: state_metric(
            exporter, "aiq_state_checkpoints_total") > checkpoints, 10),
              "after: checkpoints did not resume")
        check(counts(exporter)[0] == len(acked_ids),
              "after: %s predictions counted, %d acknowledged" %
              (counts(exporter)[0], len(acked_ids)))

        # A crash, and every acknowledged prediction is there, joinable.
        exporter.kill9()
        exporter.start()
        check(counts(exporter)[0] == len(acked_ids),
              "restart: %s predictions counted, %d acknowledged" %
              (counts(exporter)[0], len(acked_ids)))
        for i in range(0, len(acked_ids), 500):
            body = "".join(json.dumps({"model": "churn", "id": id_,
                                       "label": "churn"}) + "\n"
                           for id_ in acked_ids[i:i + 500])
            status, text = post(exporter.port, "/api/v1/labels", body)
            check(status == 200, "restart: labels answered %d %s" %
                  (status, text))
        _, labels, unmatched = counts(exporter)
        check(labels == len(acked_ids) and unmatched == 0,
              "restart: %s labels joined, %s unmatched, of %d" %
              (labels, unmatched, len(acked_ids)))
        print("%d predictions acknowledged; %d refused while full" %
              (len(acked_ids), refused))
    finally:
        if exporter:
            exporter.kill9()
        if args.keep:
            print("kept", work, "(still mounted: umount %s)" % mnt)
        else:
            subprocess.run(["umount", mnt], check=False)
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (crash_test.passed, crash_test.failed))
    return 1 if crash_test.failed else 0


if __name__ == "__main__":
    sys.exit(main())
