#!/usr/bin/env python3
"""Writes a synthetic event log of the demo model `churn-classifier` for
`ai_quality_exporter backtest` (docs/backtest.md): predictions and their
delayed labels as NDJSON, every event with its own timestamp.

Traffic is a Poisson process at --rate events/s from --start for --hours.
Before --change-at (hours from the start; absent = never) customers come
from the reference distributions (tools/simulate/demo_distributions.py),
after it from the DRIFTED ones: every feature shifts and the concept
changes, the demo's drift. Labels follow each prediction after
--label-delay seconds (exponential with that mean), for --label-fraction
of predictions. Deterministic for a given --seed.

The events come from tools/backtest/traffic.py (`--change demo`, churn
only), which also writes the assistant's traffic and the other kinds of
change (docs/alert_quality.md); this script keeps the original interface.

  churn_log.py --out /tmp/bt --hours 6 --rate 1 --change-at 3
  -> /tmp/bt/predictions.ndjson, /tmp/bt/labels.ndjson
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import traffic  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--start", default="2026-11-02T00:00:00Z",
                   help="RFC 3339 time of the first event's hour")
    p.add_argument("--hours", type=float, default=6)
    p.add_argument("--rate", type=float, default=1.0, help="predictions/s")
    p.add_argument("--change-at", type=float, default=None,
                   help="hours from --start at which the drift begins")
    p.add_argument("--label-fraction", type=float, default=1.0)
    p.add_argument("--label-delay", type=float, default=120.0,
                   help="mean seconds from prediction to label")
    p.add_argument("--version", default="v1")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def main(argv):
    a = parse_args(argv)
    args = ["--out", a.out, "--start", a.start, "--hours", str(a.hours),
            "--churn-rate", str(a.rate), "--assistant-rate", "0",
            "--label-fraction", str(a.label_fraction),
            "--label-delay", str(a.label_delay), "--version", a.version,
            "--seed", str(a.seed)]
    if a.change_at is not None:
        args += ["--change", "demo", "--change-at", str(a.change_at)]
    counts = traffic.write(traffic.parse_args(args))
    print(f"{counts['prediction']} predictions, {counts['label']} labels in "
          f"{a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
