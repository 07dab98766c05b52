#!/usr/bin/python3
"""Synthetic event logs of the embedded demo config's two models, for
`ai_quality_exporter backtest` (docs/backtest.md, docs/alert_quality.md):
predictions, labels and feedback as NDJSON, every event with its own
timestamp, written in time order.

  churn-classifier (classification)   Poisson at --churn-rate predictions/s.
      Features from the reference distributions
      (tools/simulate/demo_distributions.py), the model's noisy probability,
      the true outcome; a label after --label-delay s (exponential mean) for
      --label-fraction of the predictions; latency 5-40 ms; optional
      failed calls (--churn-error-rate) and feedback
      (--churn-feedback-fraction: 5 stars when right, 2 when wrong).
  support-assistant (generation)      Poisson at --assistant-rate calls/s,
      as tools/simulate/simulate.py's assistant(): prompt tokens lognormal
      (median 600), completion lognormal (median 200), latency
      200 ms + 2-4 ms per completion token (p99 ~2.5 s), time to first token
      10-30 % of it, --assistant-error-rate failed calls (60 % timeouts at
      30 s), no safety violations, feedback for --assistant-feedback-fraction
      of the calls (mean 4.2 stars). Values that stay inside the shipped
      alerts' thresholds.

--change KIND at --change-at hours from --start (until --change-end, or the
end) injects one change:

  demo                the demo's drift: every churn feature shifts (DRIFTED
                      distributions) and the concept changes
  feature_shift       the demo drift's features only; the truth still follows
                      the model's formula (concept unchanged)
  accuracy_drop       concept only: for --concept-share of the churn
                      predictions the truth follows the drifted formula
                      (default 0.33: accuracy 0.735 -> ~0.59, -20 %)
  error_burst         --error-share of the calls of both models fail
  latency_regression  --slow-share of the calls of both models take
                      --slow-add-ms longer (and as much longer to the first
                      token)
  safety_violation    --safety-rate of the assistant's calls violate a safety
                      category
  label_stop          churn labels stop arriving (none timestamped after it)
  feedback_drop       the assistant's feedback mean falls to --feedback-mean
  token_surge         the assistant's prompts get --token-factor times longer
                      (e.g. a retrieval change stuffing context)

Deterministic for a given --seed: each model draws from its own random
streams, so adding the assistant or a change of one kind leaves the other
model's events unchanged, and the churn events of `--change demo` (or none)
are exactly those of tools/backtest/churn_log.py. Standard library only.

  traffic.py --out /tmp/bt --hours 12 --churn-rate 0.5 --assistant-rate 0.5 \\
             --change feature_shift --change-at 6
  -> /tmp/bt/predictions.ndjson, labels.ndjson, feedback.ndjson
"""
import argparse
import datetime
import heapq
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "simulate"))
import demo_distributions as demo  # noqa: E402
from demo_distributions import pick, sigmoid  # noqa: E402

CHURN = "churn-classifier"
ASSISTANT = "support-assistant"
ASSISTANT_VERSION = "gpt-small-2026-10"
SAFETY_CATEGORIES = [("toxicity", 0.45), ("pii", 0.35), ("jailbreak", 0.15),
                     ("self_harm", 0.05)]
ASSISTANT_ERRORS = [("timeout", 0.6), ("rate_limited", 0.3),
                    ("upstream_5xx", 0.1)]
CHANGES = ("none", "demo", "feature_shift", "accuracy_drop", "error_burst",
           "latency_regression", "safety_violation", "label_stop",
           "feedback_drop", "token_surge")
# Which model each change affects (the run script's expectations use it).
CHANGE_MODELS = {
    "none": (), "demo": (CHURN,), "feature_shift": (CHURN,),
    "accuracy_drop": (CHURN,), "error_burst": (CHURN, ASSISTANT),
    "latency_regression": (CHURN, ASSISTANT),
    "safety_violation": (ASSISTANT,), "label_stop": (CHURN,),
    "feedback_drop": (ASSISTANT,), "token_surge": (ASSISTANT,),
}

# Means of the assistant's token counts (lognormal medians 600 and 200,
# sigma 0.5: median * exp(sigma^2 / 2)); the run script sizes budgets by them.
ASSISTANT_MEAN_PROMPT = 600 * math.exp(0.125)
ASSISTANT_MEAN_COMPLETION = 200 * math.exp(0.125)


def dumps(ev):
    return json.dumps(ev, separators=(",", ":"))


class Change:
    """When and what: active(t) is True from `at` until `end`."""

    def __init__(self, a, start):
        self.kind = a.change
        self.at = None if a.change_at is None or a.change == "none" \
            else start + a.change_at * 3600
        self.end = None if a.change_end is None else start + a.change_end * 3600
        self.a = a

    def active(self, kind, t):
        return self.kind == kind and self.at is not None and t >= self.at \
            and (self.end is None or t < self.end)


def churn_events(a, change, start, end):
    """Yields (time, kind, line) of churn-classifier in time order of the
    predictions (labels and feedback come later, the caller orders them).

    The draws from `rng` are exactly churn_log.py's (one event: features,
    model noise, outcome, latency, label draw, label delay, next gap), so
    its logs are reproduced; everything else draws from `extra`."""
    rng = random.Random(a.seed)
    extra = random.Random(f"{a.seed}/churn-extra")
    n = 0
    t = start + rng.expovariate(a.churn_rate)
    while t < end:
        drifted = change.active("demo", t) or change.active("feature_shift", t)
        f = demo.sample_features(rng, demo.DRIFTED if drifted else demo.NORMAL)
        model_logit = demo.reference_logit(f["score"], f["age"], f["plan"])
        p = round(demo.model_probability(rng, sigmoid(model_logit)), 4)
        true_logit = model_logit
        if change.active("demo", t):
            true_logit = demo.drifted_logit(f["score"], f["age"])
        elif change.active("accuracy_drop", t) and \
                extra.random() < a.concept_share:
            true_logit = demo.drifted_logit(f["score"], f["age"])
        target = demo.outcome(rng, sigmoid(true_logit))
        n += 1
        latency = round(rng.uniform(5, 40), 1)
        labelled = rng.random() < a.label_fraction
        label_t = round(t + rng.expovariate(1 / a.label_delay), 3) \
            if labelled else None
        error_rate = a.error_share if change.active("error_burst", t) \
            else a.churn_error_rate
        failed = error_rate > 0 and extra.random() < error_rate
        if change.active("latency_regression", t) and \
                extra.random() < a.slow_share:
            latency = round(latency + a.slow_add_ms, 1)
        ident = f"c{n}"
        if failed:
            # A failed call: no features or outcome, only the reason (as
            # simulate.py), and no label or feedback.
            ev = {"model": CHURN, "version": a.version, "id": ident,
                  "timestamp": round(t, 3), "error": "feature_store_timeout",
                  "latency_ms": round(extra.uniform(800, 1500), 1)}
            yield t, "prediction", dumps(ev)
        else:
            ev = {"model": CHURN, "version": a.version, "id": ident,
                  "timestamp": round(t, 3),
                  "features": {"income": round(f["income"], 2),
                               "age": round(f["age"], 1),
                               "score": round(f["score"], 3),
                               "rooms": f["rooms"], "plan": f["plan"],
                               "channel": f["channel"]},
                  "prediction": demo.POSITIVE if p >= 0.5 else demo.NEGATIVE,
                  "probabilities": {demo.POSITIVE: p,
                                    demo.NEGATIVE: round(1 - p, 4)},
                  "latency_ms": latency}
            yield t, "prediction", dumps(ev)
            if labelled and not (change.kind == "label_stop" and
                                 change.at is not None and
                                 label_t >= change.at and
                                 (change.end is None or label_t < change.end)):
                yield label_t, "label", (ident, dumps(
                    {"model": CHURN, "id": ident, "timestamp": label_t,
                     "label": target}))
            if a.churn_feedback_fraction > 0 and \
                    extra.random() < a.churn_feedback_fraction:
                ft = round(t + extra.uniform(1, 20), 3)
                yield ft, "feedback", (ident, dumps(
                    {"model": CHURN, "id": ident, "timestamp": ft,
                     "score": 5 if ev["prediction"] == target else 2}))
        t += rng.expovariate(a.churn_rate)


def assistant_events(a, change, start, end):
    """Yields (time, kind, line) of support-assistant, as churn_events."""
    rng = random.Random(f"{a.seed}/assistant")
    n = 0
    t = start + rng.expovariate(a.assistant_rate)
    while t < end:
        n += 1
        ident = f"a{n}"
        prompt = max(20, int(math.exp(rng.gauss(math.log(600), 0.5))))
        completion = max(5, int(math.exp(rng.gauss(math.log(200), 0.5))))
        latency = 200 + completion * rng.uniform(2.0, 4.0)  # ms
        ttft = latency * rng.uniform(0.1, 0.3)
        if change.active("token_surge", t):
            prompt = int(prompt * a.token_factor)
        if change.active("latency_regression", t) and \
                rng.random() < a.slow_share:
            latency += a.slow_add_ms
            ttft += a.slow_add_ms
        error_rate = a.error_share if change.active("error_burst", t) \
            else a.assistant_error_rate
        failed = rng.random() < error_rate
        ev = {"model": ASSISTANT, "version": ASSISTANT_VERSION, "id": ident,
              "timestamp": round(t, 3),
              "tokens": {"prompt": prompt, "completion": completion},
              "latency_ms": round(latency, 1), "ttft_ms": round(ttft, 1)}
        if failed:
            reason = pick(rng, ASSISTANT_ERRORS)
            ev["error"] = reason
            ev["tokens"] = {"prompt": prompt, "completion": 0}
            del ev["ttft_ms"]
            ev["latency_ms"] = 30000.0 if reason == "timeout" else round(
                rng.uniform(50, 400), 1)
            yield t, "prediction", dumps(ev)
        else:
            safety_rate = a.safety_rate if change.active("safety_violation", t) \
                else a.assistant_safety_rate
            if safety_rate > 0 and rng.random() < safety_rate:
                ev["safety"] = [pick(rng, SAFETY_CATEGORIES)]
            yield t, "prediction", dumps(ev)
            if rng.random() < a.assistant_feedback_fraction:
                mean = a.feedback_mean if change.active("feedback_drop", t) \
                    else 4.2
                if "safety" in ev:
                    mean = 1.5
                score = min(5, max(1, int(round(rng.gauss(mean, 0.9)))))
                ft = round(t + rng.uniform(1, 20), 3)
                fb = {"model": ASSISTANT, "id": ident, "timestamp": ft,
                      "score": score}
                if score >= 4:
                    fb["value"] = round(rng.uniform(2.0, 8.0), 2)
                yield ft, "feedback", (ident, dumps(fb))
        t += rng.expovariate(a.assistant_rate)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__[__doc__.index("--change KIND"):])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--start", default="2026-11-02T00:00:00Z",
                   help="RFC 3339 time of the first event's hour")
    p.add_argument("--hours", type=float, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--churn-rate", type=float, default=1.0,
                   help="churn predictions/s (0: none)")
    p.add_argument("--assistant-rate", type=float, default=0.0,
                   help="assistant calls/s (0: none, the default)")
    p.add_argument("--change", choices=CHANGES, default="none")
    p.add_argument("--change-at", type=float, default=None,
                   help="hours from --start at which the change begins")
    p.add_argument("--change-end", type=float, default=None,
                   help="hours from --start at which it ends (default: never)")
    p.add_argument("--version", default="v1", help="churn model version")
    p.add_argument("--label-fraction", type=float, default=1.0)
    p.add_argument("--label-delay", type=float, default=120.0,
                   help="mean seconds from prediction to label")
    p.add_argument("--churn-error-rate", type=float, default=0.0)
    p.add_argument("--churn-feedback-fraction", type=float, default=0.0)
    p.add_argument("--assistant-error-rate", type=float, default=0.005)
    p.add_argument("--assistant-safety-rate", type=float, default=0.0,
                   help="safety violations before/without the change "
                        "(default 0: any violation pages)")
    p.add_argument("--assistant-feedback-fraction", type=float, default=0.25)
    # Sizes of the changes.
    p.add_argument("--concept-share", type=float, default=0.33)
    p.add_argument("--error-share", type=float, default=0.2)
    p.add_argument("--slow-share", type=float, default=0.25)
    p.add_argument("--slow-add-ms", type=float, default=6000.0)
    p.add_argument("--safety-rate", type=float, default=0.01)
    p.add_argument("--feedback-mean", type=float, default=2.5)
    p.add_argument("--token-factor", type=float, default=6.0)
    a = p.parse_args(argv)
    if a.churn_rate < 0 or a.assistant_rate < 0 or \
            a.churn_rate + a.assistant_rate == 0:
        p.error("give a --churn-rate or --assistant-rate > 0")
    if a.change != "none" and a.change_at is None:
        p.error("--change needs --change-at")
    return a


def write(a):
    """Writes the three files; returns {kind: count}."""
    start = datetime.datetime.fromisoformat(
        a.start.replace("Z", "+00:00")).timestamp()
    end = start + a.hours * 3600
    change = Change(a, start)
    streams = []
    if a.churn_rate > 0:
        streams.append(churn_events(a, change, start, end))
    if a.assistant_rate > 0:
        streams.append(assistant_events(a, change, start, end))
    os.makedirs(a.out, exist_ok=True)
    counts = {"prediction": 0, "label": 0, "feedback": 0}
    names = {"prediction": "predictions.ndjson", "label": "labels.ndjson",
             "feedback": "feedback.ndjson"}
    # feedback.ndjson only when there can be feedback (churn_log.py's
    # directory holds exactly its two files).
    kinds = ["prediction", "label"]
    if (a.churn_rate > 0 and a.churn_feedback_fraction > 0) or \
            (a.assistant_rate > 0 and a.assistant_feedback_fraction > 0):
        kinds.append("feedback")
    files = {k: open(os.path.join(a.out, names[k]), "w") for k in kinds}
    # Labels and feedback come after their prediction: held in a heap
    # (bounded by rate x delay) and written once no earlier one can come.
    pending = {"label": [], "feedback": []}

    def flush(kind, until):
        heap = pending[kind]
        while heap and (until is None or heap[0][0] <= until):
            _, _, line = heapq.heappop(heap)
            files[kind].write(line + "\n")
            counts[kind] += 1

    # Each stream yields a prediction's label and feedback (timed later)
    # right after it: merged by the time of the last prediction, which only
    # grows, so the predictions file is in time order too.
    def by_prediction_time(stream):
        last = -math.inf
        for t, kind, payload in stream:
            if kind == "prediction":
                last = t
            yield last, t, kind, payload

    merged = heapq.merge(*(by_prediction_time(s) for s in streams),
                         key=lambda x: x[0])
    for _, t, kind, payload in merged:
        if kind == "prediction":
            files[kind].write(payload + "\n")
            counts[kind] += 1
            flush("label", t)
            flush("feedback", t)
        else:
            ident, line = payload
            heapq.heappush(pending[kind], (t, ident, line))
    flush("label", None)
    flush("feedback", None)
    for f in files.values():
        f.close()
    return counts


def main(argv):
    a = parse_args(argv)
    counts = write(a)
    print(f"{counts['prediction']} predictions, {counts['label']} labels, "
          f"{counts['feedback']} feedback in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
