#!/usr/bin/env python3
"""tools/alert_quality/run.py, the script behind docs/alert_quality.md:
its analysis on hand-made alert timelines with exact expected figures
(notifications per alert and model, detection delays, budgets), the config
it sizes to the traffic, and one real scenario end to end (a safety
violation at 0.5 events/s through `backtest` and Debian's Prometheus:
AIQSafetyViolation must fire within its target, nothing before the change).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import shutil

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def alert(name, model, start, end, **labels):
    labels = dict(labels, alertname=name, model=model)
    return {"alertname": name, "labels": labels, "start": start, "end": end}


def unit_tests(run):
    t = run.parse_time
    # One notification per (alertname, model): overlapping label sets merge,
    # a gap makes a second one, an open end lasts to the end of the run.
    alerts = [
        alert("AIQFeatureDrift", "m", "2026-11-02T01:00:00Z",
              "2026-11-02T02:00:00Z", feature="a"),
        alert("AIQFeatureDrift", "m", "2026-11-02T01:30:00Z",
              "2026-11-02T02:30:00Z", feature="b"),
        alert("AIQFeatureDrift", "m", "2026-11-02T02:31:00Z", None,
              feature="a"),
        alert("AIQFeatureDrift", "other", "2026-11-02T01:00:00Z",
              "2026-11-02T01:10:00Z", feature="a"),
    ]
    end = t("2026-11-02T03:00:00Z")
    ep = run.episodes(alerts, end, "AIQFeatureDrift", "m")
    check(ep == [(t("2026-11-02T01:00:00Z"), t("2026-11-02T02:30:00Z")),
                 (t("2026-11-02T02:31:00Z"), end)],
          "episodes: overlapping features merge, a 1 min gap splits, open "
          "end = end of run: %r" % ep)

    # Stationary figures: notifications and firing hours per rate, summed
    # over a rate's chunks, per week.
    results = [
        {"change": None, "rate": 0.5, "hours": 24, "end":
         "2026-11-03T00:00:00Z", "seconds": {"generate": 1, "backtest": 2},
         "alerts": alerts},
        {"change": None, "rate": 0.5, "hours": 24, "end":
         "2026-11-04T00:00:00Z", "seconds": {"generate": 1, "backtest": 2},
         "alerts": [alert("AIQHighErrorRate", "m", "2026-11-03T05:00:00Z",
                          "2026-11-03T05:15:00Z")]},
    ]
    stat = run.stationary_table(results)[0.5]
    check(stat["days"] == 2.0, "stationary: 2 days of 0.5/s")
    # 01:00-02:30, then 02:31 to that run's end (24:00): 1.5 h + 21 h 29 min.
    n, hours = stat["counts"][("AIQFeatureDrift", "m")]
    check(n == 2 and abs(hours - (1.5 + 21 + 29 / 60)) < 1e-9,
          "stationary: AIQFeatureDrift (m) = 2 notifications, 22.98 h: %r"
          % stat["counts"][("AIQFeatureDrift", "m")])
    check(stat["counts"][("AIQFeatureDrift", "other")][0] == 1 and
          stat["counts"][("AIQHighErrorRate", "m")] == [1, 0.25],
          "stationary: other model and alert counted apart")
    check(run.fmt_fa(2, 2.0) == "7" and run.fmt_fa(0, 7.0) == "0" and
          run.fmt_fa(1, 7.0) == "1",
          "false alarms per week: 2 in 2 days = 7, none = 0, 1 in 7 days = 1")

    # Detection: the first firing that starts at or after the change; one
    # already firing at the change is not a detection. Median over seeds.
    change_at = 6
    t0 = run.START_TS + change_at * 3600
    check(run.START == "2026-11-02T00:00:00Z", "runs start at 2026-11-02")

    def at(minutes):
        s = int(t0 + minutes * 60)
        return run.datetime.datetime.fromtimestamp(
            s, run.datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    runs = []
    for seed, minutes in ((1, 7), (2, 9), (3, None)):
        al = [alert("AIQSafetyViolation", run.ASSISTANT, at(-30), at(-20),
                    category="pii")]
        if minutes is not None:
            al.append(alert("AIQSafetyViolation", run.ASSISTANT, at(minutes),
                            None, category="toxicity"))
        al.append(alert("AIQHighErrorRate", run.ASSISTANT, at(3), None))
        runs.append({"change": "safety_violation", "rate": 0.5, "seed": seed,
                     "hours": 8, "change_at": change_at,
                     "seconds": {"generate": 1, "backtest": 2},
                     "end": at(120), "alerts": al})
    cell = run.delays(runs)[("safety_violation", 0.5)]
    ds = cell["delays"][(run.ASSISTANT, ("AIQSafetyViolation",), 10)]
    check(ds == [7.0, 9.0, None], "delays per seed 7, 9, missed: %r" % ds)
    check(run.fmt_delay(ds) == "8 min (max 9 min), missed 1/3",
          "delay text: median of the detected, max, missed count: %r"
          % run.fmt_delay(ds))
    check(run.fmt_delay([95.0]) == "95 min" and
          run.fmt_delay([130.0]) == "2.2 h" and run.fmt_delay([None]) ==
          "missed", "delay text: one seed, hours from 2 h, missed")
    check(cell["before"] == {("AIQSafetyViolation", run.ASSISTANT)},
          "an alert in the stationary part is reported as before the change")
    check(cell["also"] == {("AIQHighErrorRate", run.ASSISTANT): 3.0},
          "an unexpected alert after the change is listed with its delay")

    # The config: the embedded demo config with budgets at twice the day's
    # expected usage and a join table for every prediction twice over.
    text = run.config_text(2.0, 168)
    tokens = 2 * 2.0 * 86400 * (run.traffic.ASSISTANT_MEAN_PROMPT +
                                run.traffic.ASSISTANT_MEAN_COMPLETION)
    m = re.search(r"tokens_per_day:\s*(\d+)", text)
    check(m and int(m.group(1)) == int(tokens),
          "config: tokens_per_day = 2 x 2/s x 86400 x mean tokens")
    m = re.search(r"max_join_entries:\s*(\d+)", text)
    check(m and int(m.group(1)) == 2 * 2 * 3600 * 168,
          "config: max_join_entries = twice a week's predictions")
    check("review:" not in text, "config: no review sampling")

    # Every change's expected alerts exist among the shipped ones.
    shipped = {n for n, _, _ in run.shipped_alerts()}
    for ch, spec in run.CHANGES.items():
        for model, expected in spec[5].items():
            for names, target in expected:
                check(set(names) <= shipped and target > 0,
                      f"{ch}: expected {names} are shipped alerts")


def end_to_end(source, binary):
    work = tempfile.mkdtemp(prefix="aiq-alert-quality-test-")
    try:
        out = subprocess.run(
            [sys.executable, os.path.join(source, "tools/alert_quality/run.py"),
             "--binary", binary, "--work", work, "--quick",
             "--only", "safety_violation-0_5-s1"],
            capture_output=True, text=True, timeout=900)
        check(out.returncode == 0, "run.py --quick --only "
              "safety_violation-0_5-s1 exits 0: " + out.stderr[-2000:])
        row = [line for line in out.stdout.splitlines()
               if line.startswith("| safety_violation | 0.5 |")]
        check(len(row) == 1, "the detection table has the scenario's row")
        if row:
            cells = [c.strip() for c in row[0].split("|")]
            # | change | rate | alert (model) | delay | target | met | ...
            check(cells[3] == "AIQSafetyViolation (support-assistant)",
                  "row is AIQSafetyViolation's: " + row[0])
            m = re.match(r"(\d+) min$", cells[4])
            check(m is not None and 0 <= int(m.group(1)) <= 10 and
                  cells[6] == "yes",
                  "AIQSafetyViolation fired within 10 min of the change: "
                  + row[0])
        check("No warning or critical alert fired before the change" in
              out.stdout, "nothing fired before the change")
        check(not os.listdir(os.path.join(work, "run")),
              "the run's event logs and TSDB were deleted")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source", required=True)
    a = p.parse_args()
    sys.path.insert(0, os.path.join(a.source, "tools", "alert_quality"))
    import run  # noqa: E402
    unit_tests(run)
    end_to_end(a.source, os.path.abspath(a.binary))
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
