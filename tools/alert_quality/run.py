#!/usr/bin/python3
"""Alert quality, measured: false alarms of every shipped alert on
stationary synthetic traffic and its detection delay on injected changes,
with `ai_quality_exporter backtest` (the real model code, the shipped rules
and alerts, a real Prometheus). Writes docs/alert_quality.md.

  tools/alert_quality/run.py [--binary build/ai_quality_exporter]
      [--work /tmp/aiq-alert-quality] [--only NAME,...] [--quick]
      [--render-only] [--out docs/alert_quality.md]

Scenarios (tools/backtest/traffic.py generates them, both demo models):
  stationary-R    R events/s per model, 7 simulated days, no change
  <change>-R-sN   R events/s, seed N: 6 h (24 h for slow burns) of
                  stationary traffic, then the change
Each run's alert timeline is kept in WORK/results/<scenario>.json with a
fingerprint of the binary, the generator and the rule files: a later run
reuses it while none of them changed (--force: rerun all). The event logs,
the history and the TSDB are deleted after each run. Standard library only;
runs the backtests one after another under `nice -n 10`.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# Where the evaluated prometheus/rules/ and alerts/ are (--rules-root): the
# tree's own by default; another directory to measure a candidate or the
# previous rule set.
RULES_ROOT = ROOT
sys.path.insert(0, os.path.join(ROOT, "tools", "backtest"))
import traffic  # noqa: E402

CHURN, ASSISTANT = traffic.CHURN, traffic.ASSISTANT
MODELS = (CHURN, ASSISTANT)
START = "2026-11-02T00:00:00Z"
START_TS = datetime.datetime.fromisoformat(
    START.replace("Z", "+00:00")).timestamp()
STATIONARY_RATES = (0.5, 2.0, 10.0)
# One backtest holds every event in memory (~1.5 kB each): at 10 events/s
# per model a week is ~19 M events, so that rate runs as 1-day chunks
# (independent exporters, seeds 101..107); the others run a whole week.
CHUNK_DAYS = {0.5: 7, 2.0: 7, 10.0: 1}
WEEK_DAYS = 7
CHANGE_RATES = (0.5, 2.0)
CHANGE_SEEDS = (1, 2, 3)
# Long scenarios (3 days of history first) run one seed: their delays are
# set by the SLO windows' arithmetic, not by noise.
CHANGE_SEEDS_LONG = (1,)

# Stationary traffic: the values of tools/simulate/simulate.py, inside the
# shipped alerts' thresholds (no safety violation: any one pages).
TRAFFIC = ["--label-fraction", "0.8", "--label-delay", "120",
           "--churn-error-rate", "0.001", "--churn-feedback-fraction", "0.05",
           "--assistant-error-rate", "0.005",
           "--assistant-feedback-fraction", "0.25"]

DRIFT_ALERTS = ("AIQFeatureDrift", "AIQDatasetDrift", "AIQPredictionDrift",
                "AIQMultivariateDrift")

# Injected changes: name -> (traffic.py kind, extra flags, hours before,
# hours after, description, {model: [(alerts (any of), target minutes)]}).
# A target is the delay this document states for the alert(s); "any of"
# means the first of them to fire counts.
CHANGES = {
    "feature_shift": (
        "feature_shift", [], 6, 6,
        "every churn feature shifts as in the demo's drift (income +65 %, "
        "age +15 y, score +1.2, more rooms, pro plans, app); the truth still "
        "follows the model's formula",
        {CHURN: [(DRIFT_ALERTS, 45), (("AIQFeatureDrift",), 60),
                 (("AIQDatasetDrift",), 60)]}),
    "demo": (
        "demo", [], 6, 6,
        "the demo's drift: the feature shift above and the concept change "
        "(tools/simulate/demo_distributions.py), accuracy 0.735 -> 0.34",
        {CHURN: [(DRIFT_ALERTS, 45), (("AIQQualityDegradation",), 60),
                 (("AIQConceptDrift",), 60)]}),
    "accuracy_drop": (
        "accuracy_drop", ["--concept-share", "0.33"], 6, 6,
        "concept only: for 33 % of the churn predictions the truth follows "
        "the drifted formula; accuracy 0.735 -> ~0.59 (-20 %), features "
        "unchanged",
        {CHURN: [(("AIQQualityDegradation",), 60),
                 (("AIQConceptDrift",), 60)]}),
    # SLO burn-rate alerts detect by design after (factor / burn rate) of
    # their long window (Google SRE workbook): 14.4x over 1 h sees a 40x
    # burn after 14.4 / 40 h = 22 min. The targets are that time plus
    # `for:` and a few minutes.
    "error_burst": (
        "error_burst", ["--error-share", "0.2"], 6, 4,
        "20 % of the calls of both models fail (churn: 0.8-1.5 s "
        "feature-store timeouts; assistant: 60 % 30 s timeouts, rate limits, "
        "5xx) = burn rate 40x (churn, objective 99.5 %) and 20x (assistant, "
        "99 %)",
        {CHURN: [(("AIQAvailabilityBudgetBurnFast",), 30),
                 (("AIQHighErrorRate",), 25)],
         ASSISTANT: [(("AIQAvailabilityBudgetBurnFast",), 50),
                     (("AIQHighErrorRate",), 25)]}),
    "outage": (
        "error_burst", ["--error-share", "1"], 6, 2,
        "every call of both models fails: burn rate 200x (churn) and 100x "
        "(assistant)",
        {CHURN: [(("AIQAvailabilityBudgetBurnFast",), 10),
                 (("AIQHighErrorRate",), 20)],
         ASSISTANT: [(("AIQAvailabilityBudgetBurnFast",), 15),
                     (("AIQHighErrorRate",), 20)]}),
    # 2.5 % failing: 5x for churn (under the 6x page), 2.5x for the
    # assistant. The ticket's 1x/3 d branch sees churn after 12 h
    # ((0.1 % x (72 - t) + 2.5 % x t) / 72 h > 0.5 %) and the assistant
    # after 18 h ((0.5 % x (72 - t) + 2.5 % x t) / 72 h > 1 %), plus `for:`.
    "error_rise": (
        "error_burst", ["--error-share", "0.025"], 72, 24,
        "2.5 % of the calls of both models fail from then on: burn rate 5x "
        "(churn) and 2.5x (assistant), a ticket, not a page; after 3 days "
        "of stationary traffic, so the 3 d window is full",
        {CHURN: [(("AIQAvailabilityBudgetBurnSlow",), 13 * 60),
                 (("AIQHighErrorRate",), 45)],
         ASSISTANT: [(("AIQAvailabilityBudgetBurnSlow",), 21 * 60),
                     (("AIQHighErrorRate",), 45)]}),
    "latency_regression": (
        "latency_regression", ["--slow-share", "0.25", "--slow-add-ms", "6000"],
        6, 4,
        "25 % of the calls of both models take 6 s longer (and 6 s longer to "
        "the first token): 25 % above the latency SLO thresholds (1 s churn, "
        "5 s assistant) = burn rate 25x, p99 > 5 s, TTFT p95 > 2 s",
        {CHURN: [(("AIQLatencyBudgetBurnFast",), 40),
                 (("AIQHighLatencyP99",), 20)],
         ASSISTANT: [(("AIQLatencyBudgetBurnFast",), 40),
                     (("AIQHighLatencyP99",), 20),
                     (("AIQTimeToFirstTokenHigh",), 20)]}),
    # 4.5 % slow: 4.5x (the assistant ~4.8x with its 30 s timeouts), under
    # the 6x page. The ticket sees churn after 16 h (3x over 1 d, and 1x
    # over 3 d), the assistant after ~11 h (1x over 3 d), plus `for:`.
    "latency_creep": (
        "latency_regression", ["--slow-share", "0.045", "--slow-add-ms",
                               "6000"], 72, 20,
        "4.5 % of the calls take 6 s longer from then on: burn rate 4.5x, "
        "a ticket, not a page; after 3 days of stationary traffic",
        {CHURN: [(("AIQLatencyBudgetBurnSlow",), 18 * 60)],
         ASSISTANT: [(("AIQLatencyBudgetBurnSlow",), 13 * 60)]}),
    "safety_violation": (
        "safety_violation", ["--safety-rate", "0.01"], 6, 2,
        "1 % of the assistant's answers violate a safety category "
        "(toxicity, pii, jailbreak, self_harm)",
        {ASSISTANT: [(("AIQSafetyViolation",), 10)]}),
    "label_stop": (
        "label_stop", [], 6, 8,
        "the churn labels stop arriving (predictions go on)",
        {CHURN: [(("AIQLabelsNotArriving",), 7 * 60)]}),
    "feedback_drop": (
        "feedback_drop", ["--feedback-mean", "2.5"], 6, 4,
        "the assistant's user feedback falls from 4.2 to 2.5 stars on average",
        {ASSISTANT: [(("AIQLowFeedbackScore",), 90)]}),
    "token_surge": (
        "token_surge", ["--token-factor", "6"], 24, 14,
        "the assistant's prompts get 6x longer (tokens 4.7x, cost 3.5x per "
        "call) against budgets of twice the normal day: the rolling 24 h "
        "reaches the token budget after ~6.4 h and the cost budget after "
        "~9.6 h",
        {ASSISTANT: [(("AIQTokenBudgetExhausted",), 7 * 60),
                     (("AIQCostBudgetExhausted",), 10 * 60 + 30)]}),
}

# Alerts synthetic model traffic cannot exercise, and how they are tested.
NOT_EXERCISED = {
    "AIQExporterDown": "the backtest's history always has `up` = 1",
    "AIQExporterAbsent": "the backtest's history always has an `up` series",
    "AIQExporterScrapeFailing": "the backtest's history always has `up` = 1",
    "AIQExporterMetricsAbsent": "the history always has `aiq_exporter_build_info`",
    "AIQExporterScrapeSlow": "a replayed scrape takes no time "
                             "(`aiq_exporter_scrape_duration_seconds` = 0)",
    "AIQEventsRejected": "the backtest skips bad lines before the models "
                         "(reported on stderr), so nothing is rejected",
    "AIQStateIngestRefused": "durable state (`state.dir`) is not part of a "
                             "backtest",
    "AIQStateWriteErrors": "durable state is not part of a backtest",
    "AIQStateDiskLow": "durable state is not part of a backtest",
    "AIQStateCheckpointFailing": "durable state is not part of a backtest",
    "AIQStateCorruptOnRestart": "durable state is not part of a backtest",
    "AIQSLOLatencyThresholdNotABucket": "a configuration error (SLO threshold "
                                        "not a histogram bucket), not traffic",
    "AIQEvaluationScoreDrop": "the backtest replays predictions, labels and "
                              "feedback, not evaluations (and the baseline "
                              "needs 8 days)",
    "AIQLowConfidence": "the demo classifier is binary: the predicted class's "
                        "probability is >= 0.5, never below the default "
                        "`low_confidence_threshold` 0.5",
    "AIQLabelBacklogHigh": "a join table sized to the traffic (as the runs "
                           "size it) does not fill; the alert is about "
                           "capacity, not about model traffic",
    "AIQLabelJoinEvictions": "evictions of predictions whose labels still "
                             "come need labels later than `label_ttl` or a "
                             "full table, a capacity problem",
    "AIQConceptDriftWarningLevel": "severity info: never notifies",
}


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def rate_name(r):
    return ("%g" % r).replace(".", "_")


# ---------------------------------------------------------------------------
# Scenarios.

class Scenario:
    def __init__(self, name, rate, seed, hours, change=None, change_at=None,
                 flags=(), kind="none"):
        self.name, self.rate, self.seed, self.hours = name, rate, seed, hours
        self.change, self.change_at, self.kind = change, change_at, kind
        self.flags = list(flags)

    def traffic_args(self, out):
        args = ["--out", out, "--start", START, "--hours", str(self.hours),
                "--seed", str(self.seed), "--churn-rate", str(self.rate),
                "--assistant-rate", str(self.rate)] + TRAFFIC
        if self.kind != "none":
            args += ["--change", self.kind, "--change-at", str(self.change_at)]
        return args + self.flags


def scenarios(quick):
    out = []
    for r in STATIONARY_RATES:
        chunk = CHUNK_DAYS[r]
        days = 1 if quick else WEEK_DAYS
        for c in range(max(1, days // chunk)):
            seed = 100 + c + 1 if chunk < WEEK_DAYS else 100
            name = f"stationary-{rate_name(r)}" + \
                (f"-d{c + 1}" if chunk < WEEK_DAYS else "")
            out.append(Scenario(name, r, seed, 24 * min(chunk, days)))
    for ch, (kind, flags, before, after, _, _) in CHANGES.items():
        seeds = CHANGE_SEEDS_LONG if before + after > 48 else CHANGE_SEEDS
        for r in CHANGE_RATES:
            for s in (seeds[:1] if quick else seeds):
                out.append(Scenario(f"{ch}-{rate_name(r)}-s{s}", r, s,
                                    before + after, change=ch,
                                    change_at=before, flags=flags, kind=kind))
    return out


# ---------------------------------------------------------------------------
# Running.

def config_text(rate, hours):
    """The embedded demo config, with budgets and the join table sized to
    `rate` (an operator sizes them to the traffic; the shipped demo values
    fit ~0.25 calls/s) and without review sampling (no file writes)."""
    with open(os.path.join(ROOT, "exporter", "config",
                           "default_config.yaml")) as f:
        text = f.read()
    text = re.sub(r"^review:\n(?:[ #].*\n|\n)*?(?=^\S)", "", text, flags=re.M)
    tokens = traffic.ASSISTANT_MEAN_PROMPT + traffic.ASSISTANT_MEAN_COMPLETION
    cost = (traffic.ASSISTANT_MEAN_PROMPT * 0.0005 +
            traffic.ASSISTANT_MEAN_COMPLETION * 0.0015) / 1000
    day = rate * 86400
    text, n1 = re.subn(r"(\n\s+tokens_per_day:\s*)\d+",
                       lambda m: m.group(1) + str(int(2 * day * tokens)), text)
    text, n2 = re.subn(r"(\n\s+cost_per_day:\s*)[\d.]+",
                       lambda m: m.group(1) + "%.2f" % (2 * day * cost), text)
    if n1 != 1 or n2 != 1 or "cost_per_1k_prompt_tokens: 0.0005" not in text:
        sys.exit("run.py: exporter/config/default_config.yaml changed shape "
                 "(budgets or token prices); update config_text()")
    # Every prediction of the run (ids kept up to label_ttl, 7 d for the
    # assistant) fits twice over.
    joins = max(100000, int(2 * rate * 3600 * min(hours, 7 * 24)))
    if re.search(r"^limits:", text, re.M):
        text = re.sub(r"^limits:\n", f"limits:\n  max_join_entries: {joins}\n",
                      text, flags=re.M)
    else:
        text += f"limits:\n  max_join_entries: {joins}\n"
    return text


def fingerprint(binary):
    h = hashlib.sha256()
    paths = [binary, os.path.join(ROOT, "tools/backtest/traffic.py"),
             os.path.join(ROOT, "tools/simulate/demo_distributions.py"),
             os.path.join(ROOT, "exporter/config/default_config.yaml")]
    for d in ("prometheus/rules", "alerts"):
        full = os.path.join(RULES_ROOT, d)
        paths += sorted(os.path.join(full, f) for f in os.listdir(full)
                        if f.endswith(".yml"))
    for p in paths:
        with open(p, "rb") as f:
            h.update(p.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def scenario_key(sc, fp):
    h = hashlib.sha256(json.dumps(
        [fp, sc.traffic_args("-"), config_text(sc.rate, sc.hours)]).encode())
    return h.hexdigest()[:16]


def run_one(sc, binary, work, results, force, keep=False):
    # Fingerprinted now, not at the start: rules edited during a long run
    # are what this scenario's backtest reads.
    fp = fingerprint(binary)
    path = os.path.join(results, sc.name + ".json")
    key = scenario_key(sc, fp)
    if not force and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        if old.get("key") == key:
            return old
    d = os.path.join(work, "run", sc.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    try:
        t0 = time.time()
        subprocess.run(["nice", "-n", "10", sys.executable,
                        os.path.join(ROOT, "tools/backtest/traffic.py")] +
                       sc.traffic_args(d), check=True,
                       stderr=subprocess.DEVNULL)
        t1 = time.time()
        cfg = os.path.join(d, "config.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(sc.rate, sc.hours))
        cmd = ["nice", "-n", "10", binary, "backtest", "--config", cfg,
               "--predictions", os.path.join(d, "predictions.ndjson"),
               "--labels", os.path.join(d, "labels.ndjson"),
               "--feedback", os.path.join(d, "feedback.ndjson"),
               "--rules", os.path.join(RULES_ROOT, "prometheus/rules"),
               os.path.join(RULES_ROOT, "alerts"), "--start", START,
               "--step", "1m", "--out", os.path.join(d, "history.om"),
               "--work-dir", os.path.join(d, "tsdb"), "--format", "json"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        t2 = time.time()
        if run.returncode != 0:
            sys.exit(f"run.py: backtest of {sc.name} failed "
                     f"({run.returncode}):\n{run.stderr[-3000:]}")
        m = re.search(r"(\d+) steps from (\S+) to (\S+) written", run.stderr)
        doc = json.loads(run.stdout)
        res = {"key": key, "fingerprint": fp, "scenario": sc.name,
               "rate": sc.rate, "seed": sc.seed, "hours": sc.hours,
               "change": sc.change, "change_at": sc.change_at,
               "start": START, "end": m.group(3) if m else None,
               "steps": int(m.group(1)) if m else None,
               "seconds": {"generate": round(t1 - t0, 1),
                           "backtest": round(t2 - t1, 1)},
               "alerts": doc["alerts"]}
        with open(path + ".tmp", "w") as f:
            json.dump(res, f, indent=1)
        os.replace(path + ".tmp", path)
        return res
    finally:
        if keep:  # the TSDB only (history and recorded series)
            for f in os.listdir(d):
                if f != "tsdb":
                    os.remove(os.path.join(d, f))
        else:
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# Analysis.

def shipped_alerts():
    """[(name, severity, file)] in file order."""
    out = []
    adir = os.path.join(ROOT, "alerts")
    for fn in sorted(os.listdir(adir)):
        if not fn.endswith(".yml"):
            continue
        name = None
        with open(os.path.join(adir, fn)) as f:
            for line in f:
                m = re.match(r"\s*- alert:\s*(\S+)", line)
                if m:
                    name = m.group(1)
                m = re.match(r"\s*severity:\s*(\S+)", line)
                if m and name:
                    out.append((name, m.group(1), "alerts/" + fn))
                    name = None
    return out


def episodes(alerts, end_ts, name=None, model=None, after=None):
    """Merged firing intervals [(start, end)] of alertname `name` (all
    label sets, e.g. every feature) of `model`: what Alertmanager groups
    into one notification (group_by alertname, model)."""
    iv = []
    for a in alerts:
        if name is not None and a["alertname"] != name:
            continue
        if model is not None and a["labels"].get("model", "-") != model:
            continue
        s = parse_time(a["start"])
        e = parse_time(a["end"]) if a["end"] else end_ts
        if after is not None and e <= after:
            continue
        iv.append((s, e))
    iv.sort()
    merged = []
    for s, e in iv:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def stationary_table(results):
    """{rate: {"days": d, "minutes": m, (alert, model): [count, hours]}}"""
    out = {}
    for r in results:
        if r["change"] is not None:
            continue
        end_ts = parse_time(r["end"])
        row = out.setdefault(r["rate"], {"days": 0.0, "seconds": 0.0,
                                         "counts": {}})
        row["days"] += r["hours"] / 24
        row["seconds"] += sum(r["seconds"].values())
        for a in r["alerts"]:
            key = (a["alertname"], a["labels"].get("model", "-"))
            row["counts"].setdefault(key, [0, 0.0])
        for key in row["counts"]:
            ep = episodes(r["alerts"], end_ts, key[0], key[1])
            row["counts"][key][0] += len(ep)
            row["counts"][key][1] += sum(e - s for s, e in ep) / 3600
    return out


def first_after(alerts, names, model, t0):
    """Start of the first firing of one of `names` for `model` that began
    at or after t0 (one already firing at the change is no detection)."""
    best = None
    for a in alerts:
        if a["alertname"] in names and a["labels"].get("model") == model:
            s = parse_time(a["start"])
            if s >= t0:
                best = s if best is None else min(best, s)
    return best


def delays(results):
    """{(change, rate): {(model, alerts): [delay minutes or None per seed]},
    plus pre-change alerts and other alerts after the change."""
    out = {}
    for r in results:
        if r["change"] is None:
            continue
        spec = CHANGES[r["change"]]
        t0 = START_TS + r["change_at"] * 3600
        cell = out.setdefault((r["change"], r["rate"]),
                              {"delays": {}, "before": set(), "also": {},
                               "runs": 0, "seconds": 0.0})
        cell["runs"] += 1
        cell["seconds"] += sum(r["seconds"].values())
        for model, expected in spec[5].items():
            for names, target in expected:
                t = first_after(r["alerts"], names, model, t0)
                cell["delays"].setdefault((model, names, target), []).append(
                    None if t is None else (t - t0) / 60)
        expected_names = {(m, n) for m, ex in spec[5].items()
                          for names, _ in ex for n in names}
        for a in r["alerts"]:
            s = parse_time(a["start"])
            m = a["labels"].get("model", "-")
            sev = a["labels"].get("severity")
            if s < t0 and sev != "info":
                cell["before"].add((a["alertname"], m))
            elif s >= t0 and (m, a["alertname"]) not in expected_names \
                    and sev != "info":
                d = (s - t0) / 60
                k = (a["alertname"], m)
                cell["also"][k] = min(cell["also"].get(k, d), d)
    return out


def fmt_delay(ds):
    got = [d for d in ds if d is not None]
    missed = len(ds) - len(got)
    if not got:
        return "missed"
    got.sort()
    med = got[len(got) // 2] if len(got) % 2 else \
        (got[len(got) // 2 - 1] + got[len(got) // 2]) / 2
    text = fmt_minutes(med) if len(got) == 1 else \
        f"{fmt_minutes(med)} (max {fmt_minutes(got[-1])})"
    if missed:
        text += f", missed {missed}/{len(ds)}"
    return text


def fmt_minutes(m):
    if m >= 120:
        return "%.1f h" % (m / 60)
    return "%d min" % round(m)


def fmt_fa(count, days):
    per_week = count * 7 / days
    return "0" if count == 0 else ("%.2g" % per_week)


# ---------------------------------------------------------------------------
# The document.

# What the measurement changed, and why (shown with the --baseline figures).
TUNING = [
    ("AIQConceptDrift", "alerts/aiq-quality-drift.yml",
     "any detection in 1 h → a detection in 1 h corroborated by an ADWIN "
     "detection in the same hour **and** a quality drop > 5 % (window)",
     "Page-Hinkley with River's defaults alarms about once per 10,000 "
     "labels at a 26 % error rate, DDM a few times a week at high rates; "
     "ADWIN alone still once a week at 10/s, the noisy small window alone "
     "445 times in the week at 0.5/s (quality > 5 % below baseline, "
     "without `for:`); together never"),
    ("AIQHighErrorRate", "alerts/aiq-operations.yml",
     "5 min ratio > 1 % for 10 min → 1 h and 30 min ratios > 1 % for "
     "15 min",
     "at 0.5 calls/s and the assistant's 0.5 % baseline, 2 failures out of "
     "150 calls cross 1 % over 5 min; during a real rise to 2.5 % the 5 min "
     "ratio kept dipping under 1 %, restarting `for:` and re-notifying"),
    ("AIQHighLatencyP99", "alerts/aiq-operations.yml",
     "5 min p99 > 5 s → 1 h p99 > 5 s and 5 min p99 > 5 s (`for: 10m` "
     "kept), `keep_firing_for: 15m`",
     "at 0.5 calls/s two 30 s timeouts among 150 calls are the 5 min p99"),
    ("AIQQualityDegradation", "alerts/aiq-quality-drift.yml",
     "`for: 30m` → `for: 45m`",
     "the 10 min window at 0.5/s (~240 labels) stays > 5 % below baseline "
     "for up to 29 min at a time on stationary traffic: `for: 30m` had no "
     "false alarm in this week by one minute"),
    ("AIQFeatureDrift", "alerts/aiq-quality-drift.yml",
     "`for: 30m` → `for: 45m`",
     "a numeric feature of the 10 min window at 0.5/s is flagged (normed "
     "Wasserstein >= 0.1) for up to 29 min at a time on stationary "
     "traffic: `for: 30m` held by one minute"),
    ("AIQMultivariateDrift", "alerts/aiq-quality-drift.yml",
     "`for: 15m` → `for: 20m`",
     "the reconstruction error at 0.5/s crosses its threshold for up to "
     "12 min at a time, 3 min short of `for: 15m`"),
    ("AIQLabelJoinEvictions", "alerts/aiq-operations.yml",
     "eviction ratio > 5 % → the same while labels or feedback arrive "
     "unmatched",
     "20 % of the churn predictions are never labelled: from the first "
     "`label_ttl` on they expire, 20 % evicted, and the alert fired "
     "permanently; a feedback-only LLM model expires every call after its "
     "7 d TTL"),
]


def summary(results):
    """(stationary table, delays, {(alert, model): [(change, rate, names,
    target, delays)]})."""
    stat = stationary_table(results)
    dl = delays(results)
    per_alert = {}
    for (ch, rate), cell in sorted(
            dl.items(), key=lambda x: (list(CHANGES).index(x[0][0]), x[0][1])):
        for (model, names, target), ds in cell["delays"].items():
            for n in names:
                per_alert.setdefault((n, model), []).append(
                    (ch, rate, names, target, ds))
    return stat, dl, per_alert


def fa_cells(stat, name, model):
    out = []
    for r in sorted(stat):
        cnt = stat[r]["counts"].get((name, model), [0, 0])[0]
        out.append(fmt_fa(cnt, stat[r]["days"]))
    return out


def delay_cells(per_alert, name, model, rate=None):
    out = []
    for ch, r, names, target, ds in per_alert.get((name, model), []):
        if rate is not None and r != rate:
            continue
        label = ch if len(names) == 1 else f"{ch} (first drift alert)"
        out.append(f"{label} @{r:g}: {fmt_delay(ds)}")
    return out


def render(results, baseline, total_seconds):
    alerts = shipped_alerts()
    stat, dl, per_alert = summary(results)
    rates = sorted(stat)
    lines = []
    w = lines.append
    w("# Alert quality, measured")
    w("")
    w("How often every shipped alert fires on stationary traffic (false "
      "alarms), and how soon it fires after a change it exists for "
      "(detection delay), measured by replaying synthetic event logs of the "
      "demo models through the real model code and evaluating the shipped "
      "`prometheus/rules/` and `alerts/` over the history with a real "
      "Prometheus (`ai_quality_exporter backtest`, [backtest.md](backtest.md)). "
      "Generated by `tools/alert_quality/run.py` (section *Re-running*); do "
      "not edit by hand.")
    w("")
    w("## Budget")
    w("")
    w("- **critical** (pages): no false alarm on stationary traffic, at any "
      "rate;")
    w("- **warning** (chat): at most one false alarm a week per model;")
    w("- **info**: no notification, not budgeted (shown for completeness);")
    w("- detection within the *target* delay stated per change below; in "
      "particular a feature shift as large as the demo's drift is alerted "
      "within 45 minutes at 0.5 events/s by a drift alert "
      "(AIQDatasetDrift, AIQPredictionDrift, AIQMultivariateDrift or "
      "AIQFeatureDrift).")
    w("")
    w("A false alarm is one notification: the firing intervals of an alert "
      "for a model are merged across its label sets (features, versions, "
      "detectors, categories), as Alertmanager groups them "
      "(`group_by: [alertname, model]`). False alarms/week = such episodes "
      "× 7 / simulated days.")
    w("")
    w("## Method")
    w("")
    w("- **Traffic** (`tools/backtest/traffic.py`, deterministic by seed; "
      "`tools/backtest/churn_log.py` is its churn-only front end): "
      "`churn-classifier` predictions from the reference distributions "
      "(`tools/simulate/demo_distributions.py`), 80 % labelled after an "
      "exponential delay (mean 2 min), 0.1 % failed calls, 5 % with feedback "
      "(5 stars when right, 2 when wrong); `support-assistant` calls as "
      "`tools/simulate/simulate.py` sends them (prompt/completion tokens "
      "lognormal with medians 600/200, latency 200 ms + 2-4 ms per output "
      "token, time to first token 10-30 % of it, 0.5 % failed calls of which "
      "60 % are 30 s timeouts, 25 % rated with a mean of 4.2 stars), no "
      "safety violation (any one pages). Both models at the same rate, "
      "Poisson arrivals.")
    w("- **Config**: the embedded demo config "
      "(`exporter/config/default_config.yaml`: churn window 10 min in 10 "
      "buckets, `min_samples` 100, default drift tests) with the assistant's "
      "budgets set to twice the expected daily tokens and cost at the run's "
      "rate and `limits.max_join_entries` to twice the run's predictions "
      "(capacity sized to the traffic, as an operator would: the shipped "
      "budgets of 20 M tokens and 50 a day fit ~0.25 calls/s, the default "
      "100,000 join entries ~1 prediction/s with a 24 h `label_ttl`), and "
      "without review sampling.")
    w("- **Backtest**: `ai_quality_exporter backtest --config ... "
      "--predictions ... --labels ... --feedback ... --rules "
      "prometheus/rules alerts --step 1m --format json`: one scrape a "
      "minute, rules and `for:` evaluated every minute by Prometheus.")
    chunked = [r for r in STATIONARY_RATES if CHUNK_DAYS[r] < WEEK_DAYS]
    w(f"- **Stationary**: {WEEK_DAYS} simulated days per rate and model at "
      + ", ".join(f"{r:g}" for r in STATIONARY_RATES) +
      " events/s per model, one continuous week per rate" +
      ("".join(f", except {r:g}/s: {WEEK_DAYS // CHUNK_DAYS[r]} runs of "
               f"{CHUNK_DAYS[r]} day" for r in chunked) +
       " (chosen when a backtest held every event in memory, ~1.5 kB each: "
       "a week at 10/s per model is ~19 M events; it now streams files in "
       "time order; each day starts a fresh exporter, "
       "so windows longer than a day, the 3 d SLO window, see at most a "
       "day)" if chunked else "") + ".")
    w(f"- **Changes**: at {', '.join('%g' % r for r in CHANGE_RATES)} "
      f"events/s per model, seeds {', '.join(map(str, CHANGE_SEEDS))} "
      f"(seed {', '.join(map(str, CHANGE_SEEDS_LONG))} for the runs with 3 "
      "days of history): stationary traffic, then the change (a step that "
      "lasts to the end of the run). Delay = first firing (after `for:`) "
      "that starts after the change, minus the change time; median over the "
      "seeds (max in parentheses). \"missed\" = not firing by the end of "
      "the run.")
    w("- **Targets** are this document's statement of how fast each alert "
      "should be. For the SLO burn-rate alerts they follow from their "
      "design (Google SRE workbook): a window of length W with factor F "
      "sees a burn rate B after F / B × W, e.g. 14.4x over 1 h a 40x burn "
      "after 22 min, so a 20 % error burst pages the 99.5 % churn model "
      "after ~24 min and the 99 % assistant after ~45 min, a total outage "
      "after ~6 and ~11 min; the targets add `for:` and a few minutes.")
    w("")
    w("## Scenarios")
    w("")
    w("| change | what | before / after | expected alerts (target delay) |")
    w("|---|---|---|---|")
    for ch, (kind, flags, before, after, what, exp) in CHANGES.items():
        ex = "; ".join(
            f"{m}: " + ", ".join(
                (" or ".join(names) if len(names) < 4 else "a drift alert")
                + f" ({fmt_minutes(t)})" for names, t in lst)
            for m, lst in exp.items())
        w(f"| `{ch}` | {what} | {before} h / {after} h | {ex} |")
    w("")
    w("## Results per alert")
    w("")
    w("False alarms per week per model on stationary traffic at each rate "
      "(events/s per model), and the detection delay of each change the "
      "alert is expected for (rate: median over seeds). Alerts synthetic "
      "model traffic cannot exercise say why; their promtool unit tests "
      "(`alerts/tests/`, `bash tests/rules/run.sh`) cover them, firing and "
      "not firing around every threshold and `for:`.")
    w("")
    head = "| alert | severity | model | " + " | ".join(
        f"FA/week @{r:g}" for r in rates) + " | detection delay | target |"
    w(head)
    w("|" + "---|" * (head.count("|") - 1))
    over = []
    for name, sev, _ in alerts:
        seen = {m for r in stat.values() for (n, m) in r["counts"] if n == name}
        models = [m for m in MODELS
                  if m in seen or (name, m) in per_alert] or \
            ([m for m in MODELS] if name not in NOT_EXERCISED else ["-"])
        for model in models:
            fas = fa_cells(stat, name, model)
            budget = {"critical": 0, "warning": 1}.get(sev)
            for r in rates:
                cnt = stat[r]["counts"].get((name, model), [0, 0])[0]
                if budget is not None and cnt * 7 / stat[r]["days"] > budget:
                    over.append((name, model, r, cnt * 7 / stat[r]["days"]))
            det = delay_cells(per_alert, name, model)
            tgt = []
            for ch, rate, names, target, ds in per_alert.get((name, model), []):
                t = f"{fmt_minutes(target)} ({ch})"
                if t not in tgt:
                    tgt.append(t)
            if not det:
                det = [("not exercised: " + NOT_EXERCISED[name])
                       if name in NOT_EXERCISED else "-"]
            w(f"| {name} | {sev} | {model} | " + " | ".join(fas) + " | " +
              "<br>".join(det) + " | " + ("<br>".join(tgt) or "-") + " |")
    w("")
    w("### Detection per change")
    w("")
    w("| change | rate | alert (model) | delay | target | met | other "
      "alerts after the change (first, median delay) |")
    w("|---|---|---|---|---|---|---|")
    missed = []
    for (ch, rate), cell in sorted(
            dl.items(), key=lambda x: (list(CHANGES).index(x[0][0]), x[0][1])):
        first = True
        for (model, names, target), ds in cell["delays"].items():
            got = [d for d in ds if d is not None]
            ok = len(got) == len(ds) and max(got) <= target
            if not ok:
                missed.append((ch, rate, names, model, fmt_delay(ds), target))
            nm = " or ".join(names) if len(names) < 4 else "first drift alert"
            also = ", ".join(f"{a} ({m}) {fmt_minutes(d)}" for (a, m), d in
                             sorted(cell["also"].items(), key=lambda x: x[1]))
            w(f"| {ch if first else ''} | {rate:g} | {nm} ({model}) | "
              f"{fmt_delay(ds)} | {fmt_minutes(target)} | "
              f"{'yes' if ok else '**no**'} | "
              f"{(also or 'none') if first else ''} |")
            first = False
    w("")
    before_any = sorted({(a, m, ch) for (ch, rate), c in dl.items()
                         for a, m in c["before"]})
    if before_any:
        w("Warning or critical alerts that fired before a change (in its "
          "stationary part): " + ", ".join(
              f"{a} ({m}, `{ch}`)" for a, m, ch in before_any) + ".")
    else:
        w("No warning or critical alert fired before the change in any "
          "change scenario (their stationary parts add "
          "%.0f simulated days)." % sum(
              CHANGES[ch][2] * c["runs"] / 24 for (ch, _), c in dl.items()))
    w("")
    w("## Verdict")
    w("")
    if over:
        w("Over budget on stationary traffic:")
        w("")
        for name, model, r, fa in over:
            w(f"- {name} ({model}) at {r:g}/s: {fa:.2g} a week")
    else:
        w("On stationary traffic every critical alert had no false alarm at "
          "any rate, every warning alert at most one a week per model.")
    w("")
    if missed:
        w("Detection slower than the target, or missed:")
        w("")
        for ch, rate, names, model, got, target in missed:
            w(f"- `{ch}` at {rate:g}/s: {' or '.join(names)} ({model}): "
              f"{got}, target {fmt_minutes(target)}")
    else:
        w("Every injected change was detected within its target delay at "
          "every rate and seed.")
    drift = [d for d in dl.get(("feature_shift", 0.5), {}).get(
        "delays", {}).items() if len(d[0][1]) == len(DRIFT_ALERTS)]
    if drift:
        (model, names, target), ds = drift[0]
        firsts = {}
        for r in results:
            if r["change"] == "feature_shift" and r["rate"] == 0.5:
                t0 = START_TS + r["change_at"] * 3600
                best = None
                for n in names:
                    t = first_after(r["alerts"], (n,), model, t0)
                    if t is not None and (best is None or t < best[0]):
                        best = (t, n)
                if best:
                    firsts[best[1]] = firsts.get(best[1], 0) + 1
        w("")
        w(f"The demo-sized feature shift at 0.5 events/s is alerted after "
          f"{fmt_delay(ds)} (target 45 min), first by " +
          ", ".join(f"{n} ({k} of {sum(firsts.values())} seeds)"
                    for n, k in sorted(firsts.items())) + ".")
    w("")
    if baseline:
        bstat, bdl, bper = summary(baseline)
        brates = sorted(bstat)
        w("## Tuning: before and after")
        w("")
        w("The same scenarios with the rules before this measurement (git "
          "history of `alerts/`), then with the tuned ones. Alerts not "
          "listed were not changed.")
        w("")
        w("| alert | change | why | FA/week before (" +
          ", ".join(f"@{r:g}" for r in brates) + ") | after (" +
          ", ".join(f"@{r:g}" for r in rates) + ") | detection before | "
          "after |")
        w("|---|---|---|---|---|---|---|")
        for name, fn, change, why in TUNING:
            for model in MODELS:
                fb = fa_cells(bstat, name, model)
                fa = fa_cells(stat, name, model)
                db = delay_cells(bper, name, model)
                da = delay_cells(per_alert, name, model)
                if set(fb) == {"0"} and set(fa) == {"0"} and not db and not da:
                    continue
                w(f"| {name} ({model}) | {change} (`{fn}`) | {why} | " +
                  " / ".join(fb) + " | " + " / ".join(fa) + " | " +
                  ("<br>".join(db) or "-") + " | " +
                  ("<br>".join(da) or "-") + " |")
        w("")
    w("## Re-running")
    w("")
    w("```sh")
    w("cmake --build build --target ai_quality_exporter")
    w("tools/alert_quality/run.py --binary build/ai_quality_exporter")
    w("# with the figures of another rule set as `before`:")
    w("#   tools/alert_quality/run.py --rules-root OLD --work /tmp/aiq-aq-before")
    w("#   tools/alert_quality/run.py --baseline /tmp/aiq-aq-before")
    w("```")
    w("")
    w("Needs `promtool` and `prometheus` (Debian package `prometheus`) and "
      "`/usr/bin/python3`. It runs the scenarios one after another under "
      "`nice -n 10` (work files under `--work`, default "
      "`/tmp/aiq-alert-quality`, deleted after each run; the generated "
      "files are in time order, so the backtest streams them in bounded "
      "memory) and rewrites this file. Each scenario's alert "
      "timeline is cached in `WORK/results/` with a fingerprint of the "
      "binary, the generator, the demo config and every rule file, so an "
      "interrupted run resumes and an unchanged tree re-renders at once; "
      "any change to them reruns everything. `--only NAME,...` runs some "
      "scenarios (prefixes allowed), `--render-only` rewrites this file "
      "from the cache, `--list` lists the scenarios, `--quick` is a 1-day, "
      "1-seed smoke run printed to stdout.")
    w("")
    n_stat = sum(1 for r in results if r["change"] is None)
    t_stat = sum(sum(r["seconds"].values()) for r in results
                 if r["change"] is None)
    w(f"Run time of the figures above: {len(results)} backtests, "
      f"{total_seconds / 60:.0f} min of backtest time in all on the "
      f"shared 2-core development machine (summed: runs may overlap with "
      f"several `--only` invocations; {n_stat} stationary runs, {t_stat / 60:.0f} "
      f"min; {len(results) - n_stat} change runs, "
      f"{(total_seconds - t_stat) / 60:.0f} min). Prometheus dominates "
      "(backfilling the recording rules and the alert queries, ~1.5-2 min "
      "per simulated day whatever the rate); replay is ~15 s per million "
      "events.")
    w("")
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "build",
                                                    "ai_quality_exporter"))
    p.add_argument("--work", default="/tmp/aiq-alert-quality")
    p.add_argument("--out", default=os.path.join(ROOT, "docs",
                                                 "alert_quality.md"))
    p.add_argument("--only", default="",
                   help="comma-separated scenario names or prefixes")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--render-only", action="store_true")
    p.add_argument("--list", action="store_true")
    p.add_argument("--rules-root", default=ROOT,
                   help="directory with the prometheus/rules/ and alerts/ to "
                        "evaluate (default: this tree's)")
    p.add_argument("--baseline", default="",
                   help="WORK directory of a run of the previous rules "
                        "(--rules-root): its figures are shown as `before`")
    p.add_argument("--keep", action="store_true",
                   help="keep each run's TSDB in WORK/run/NAME/tsdb")
    a = p.parse_args(argv)
    global RULES_ROOT
    RULES_ROOT = os.path.abspath(a.rules_root)
    binary = os.path.abspath(a.binary)
    results_dir = os.path.join(a.work, "results-quick" if a.quick
                               else "results")
    os.makedirs(results_dir, exist_ok=True)
    scs = scenarios(a.quick)
    if a.list:
        for sc in scs:
            print(sc.name, sc.hours, "h")
        return 0
    only = [x for x in a.only.split(",") if x]
    results, total = [], 0.0
    for sc in scs:
        if only and not any(sc.name == o or sc.name.startswith(o)
                            for o in only):
            path = os.path.join(results_dir, sc.name + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    results.append(json.load(f))
            continue
        if a.render_only:
            path = os.path.join(results_dir, sc.name + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    results.append(json.load(f))
            continue
        t = time.time()
        res = run_one(sc, binary, a.work, results_dir, a.force, a.keep)
        print(f"{sc.name}: {len(res['alerts'])} alert interval(s), "
              f"{sum(res['seconds'].values()):.0f} s "
              f"({time.time() - t:.0f} s now)", flush=True)
        results.append(res)
    fp = fingerprint(binary)
    total = sum(sum(r["seconds"].values()) for r in results)
    stale = [r["scenario"] for r in results if r["fingerprint"] != fp]
    if stale:
        print("run.py: note: results from other binaries/rules: " +
              ", ".join(stale), file=sys.stderr)
    baseline = []
    if a.baseline:
        bdir = os.path.join(a.baseline, "results")
        for sc in scs:
            path = os.path.join(bdir, sc.name + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    baseline.append(json.load(f))
    text = render(results, baseline, total)
    if a.quick:
        print(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
