#!/usr/bin/env python3
"""End to end: `ai_quality_exporter backtest` over a generated 6-hour log of
the demo model with the demo's drift injected at 3 h, evaluated with the
shipped rules and alerts (prometheus/rules, alerts) by Debian's
Prometheus. Asserts the alert timeline (drift alerts after the change,
within 45 minutes; no alert at all before it), the exact --format json
shape, that bad lines are reported with file:line and skipped, and that
the history loads with promtool and holds exactly the replayed counts.
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import datetime

START = datetime.datetime(2026, 11, 2, tzinfo=datetime.timezone.utc)
CHANGE = START + datetime.timedelta(hours=3)
DRIFT_ALERTS = {"AIQFeatureDrift", "AIQDatasetDrift", "AIQPredictionDrift",
                "AIQMultivariateDrift"}


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source", required=True)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="aiq-backtest-")
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    try:
        subprocess.run([sys.executable,
                        os.path.join(a.source, "tools/backtest/churn_log.py"),
                        "--out", work, "--hours", "6", "--rate", "1",
                        "--change-at", "3", "--seed", "7"], check=True)
        plain = os.path.join(work, "predictions.ndjson")
        with open(plain) as f:
            predictions = f.read()
        n_predictions = predictions.count("\n")
        # One bad line in the middle (line 3), the rest gzipped.
        lines = predictions.splitlines(keepends=True)
        lines.insert(2, '{"model":"churn-classifier","prediction":"stay"}\n')
        with gzip.open(plain + ".gz", "wt") as f:
            f.writelines(lines)
        os.remove(plain)
        history = os.path.join(work, "history.om")
        run = subprocess.run(
            [a.binary, "backtest",
             "--predictions", plain + ".gz",
             "--labels", os.path.join(work, "labels.ndjson"),
             "--rules", os.path.join(a.source, "prometheus/rules"),
             os.path.join(a.source, "alerts"),
             "--step", "1m", "--out", history, "--format", "json"],
            capture_output=True, text=True, timeout=600)
        sys.stderr.write(run.stderr)
        check(run.returncode == 0, f"backtest exits 0 (got {run.returncode})")
        check("predictions.ndjson.gz:3: timestamp: required" in run.stderr,
              "the bad line is reported with its file and line")
        check("(1 bad lines skipped)" in run.stderr, "and counted")

        doc = json.loads(run.stdout)
        check(list(doc) == ["alerts"], "the document has exactly `alerts`")
        shapes = {tuple(sorted(x)) for x in doc["alerts"]}
        check(shapes == {("alertname", "end", "labels", "start")},
              f"every alert has exactly alertname, labels, start, end: {shapes}")
        for x in doc["alerts"]:
            print(f"     {x['alertname']:24} {x['start']} -> {x['end']} "
                  f"{x['labels'].get('feature', '')}")
        # Info-level alerts do not page (alertmanager routes them to no
        # receiver); every other one must stay quiet on stationary traffic.
        before = [x for x in doc["alerts"] if parse_time(x["start"]) < CHANGE
                  and x["labels"].get("severity") != "info"]
        check(not before,
              f"no warning or critical alert before the change at {CHANGE}: "
              f"{before}")
        drift = [x for x in doc["alerts"] if x["alertname"] in DRIFT_ALERTS]
        check(bool(drift), "drift alerts fire after the change")
        if drift:
            first = min(parse_time(x["start"]) for x in drift)
            delay = first - CHANGE
            check(delay <= datetime.timedelta(minutes=45),
                  f"the first drift alert comes {delay} after the change "
                  "(within 45 minutes)")
            check(all(x["labels"]["model"] == "churn-classifier" and
                      x["labels"]["job"] == "ai-quality-exporter" and
                      x["labels"]["severity"] for x in drift),
                  "drift alerts carry the model, job and severity labels")
        features = {x["labels"].get("feature") for x in drift
                    if x["alertname"] == "AIQFeatureDrift"}
        check({"age", "income", "score"} <= features,
              f"the shifted numeric features are alerted: {sorted(features)}")

        # The history loads with promtool on its own, and its last
        # aiq_predictions_total is every good prediction.
        blocks = os.path.join(work, "blocks")
        load = subprocess.run(["promtool", "tsdb", "create-blocks-from",
                               "openmetrics", history, blocks],
                              capture_output=True, text=True, timeout=300)
        check(load.returncode == 0,
              f"promtool loads the history: {load.stderr[-500:]}")
        last = None
        with open(history) as f:
            for line in f:
                if line.startswith("aiq_predictions_total{") and \
                        'model="churn-classifier",version="v1"' in line:
                    last = line
        check(last is not None and last.split(" ")[1] == str(n_predictions),
              f"the last aiq_predictions_total is {n_predictions}: {last}")
        with open(history) as f:
            tail = f.read()[-64:]
        check(tail.endswith("# EOF\n"), "the history ends with # EOF")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
