#!/usr/bin/python3
"""Traffic generator for ai-quality-exporter's embedded demo config.

Sends realistic events to a running exporter (stdlib only, Python >= 3.9;
needs demo_distributions.py beside it):

  churn-classifier (classification, classes churn/stay, versions v1/v2)
    predictions with features, probabilities, latency and segment region;
    a fraction gets its ground-truth label after a delay; some get feedback
    (score + business value); rare errors.
  support-assistant (generation)
    predictions with token usage and latency; occasional errors and safety
    violations; feedback (stars + business value) for a share of the calls.

"Normal" churn traffic comes from the SAME distributions as the embedded
reference (exporter/config/demo_reference.csv, scripts/make_demo_reference.py):
both draw from demo_distributions.py next to this script, whose docstring
lists them. After --drift-after SECONDS the churn traffic drifts (every
feature's distribution shifts: income +65 %, age +15 years, score +1.2,
more rooms, pro plans and app) and the model gets worse: the true outcome
follows a new formula (concept drift) while the model keeps the old one, so
accuracy drops from the reference baseline ~0.74 to ~0.55, concept-drift
detectors fire and predictions drift. The assistant's feedback also gets
worse (mean ~4.2 -> ~3.0 stars).

With the default rates, a 10-minute drift window holds thousands of samples
per version, so sampling noise stays well below the drift thresholds (normed
Wasserstein and Jensen-Shannon >= 0.1) before the drift, and the ~2000
labelled samples per version keep the window accuracy (expected 0.733 vs
the reference's 0.74) about 3 standard errors above the 5 % quality-drop
threshold. After the drift the numeric features drift within about a
minute, the categorical ones within about three.

Usage:
  simulate.py [--target URL] [--rate N] [--duration S] [--drift-after S]
              [--seed N] [--batch N] [--token T] ...     (--help for all)

Prints a summary at the end (or on SIGTERM/SIGINT). Exit status: 0 when every
event was accepted, 1 when the exporter rejected events the generator
expected to be accepted or requests failed, 2 on bad usage or when the
exporter never became reachable.
"""
import argparse
import heapq
import http.client
import json
import math
import os
import random
import signal
import sys
import time
import urllib.parse

import demo_distributions as demo
from demo_distributions import pick, sigmoid

CHURN = "churn-classifier"
ASSISTANT = "support-assistant"
SAFETY_CATEGORIES = [("toxicity", 0.45), ("pii", 0.35), ("jailbreak", 0.15),
                     ("self_harm", 0.05)]
ASSISTANT_ERRORS = [("timeout", 0.6), ("rate_limited", 0.3),
                    ("upstream_5xx", 0.1)]
REGIONS = [("eu", 0.45), ("us", 0.40), ("apac", 0.15)]


class Generator:
    """Builds events; all randomness from one seeded random.Random."""

    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        # Ids must not collide with a previous run against the same exporter
        # (duplicate_id): a per-run prefix, random even with --seed.
        self.run = "%s%04x" % (format(int(time.time()) % 46656, "x"),
                               int.from_bytes(os.urandom(2), "big"))
        self.n = 0

    def next_id(self, prefix):
        self.n += 1
        return "%s-%s-%d" % (prefix, self.run, self.n)

    # --- churn-classifier -------------------------------------------------
    def churn_features(self, drifted):
        f = demo.sample_features(self.rng,
                                 demo.DRIFTED if drifted else demo.NORMAL)
        return {"income": round(f["income"], 2), "age": round(f["age"], 1),
                "score": round(f["score"], 4), "rooms": f["rooms"],
                "plan": f["plan"], "channel": f["channel"]}

    def churn(self, drifted):
        """(prediction event, label event or None, feedback event or None)."""
        rng, a = self.rng, self.a
        version = "v1" if rng.random() < a.v1_share else "v2"
        latency = round(math.exp(rng.gauss(math.log(25), 0.5)), 2)
        ev = {"model": CHURN, "version": version, "id": self.next_id("c"),
              "latency_ms": latency,
              "segment": {"region": pick(rng, REGIONS)}}
        if rng.random() < a.churn_error_rate:
            # A failed call: no features or outcome, only the reason.
            ev["error"] = "feature_store_timeout"
            ev["latency_ms"] = round(rng.uniform(800, 1500), 1)
            return ev, None, None
        f = self.churn_features(drifted)
        # The model was trained on the reference relationship ...
        model_logit = demo.reference_logit(f["score"], f["age"], f["plan"])
        p_model = demo.model_probability(rng, sigmoid(model_logit))
        # ... which changes after the drift (concept drift).
        if drifted:
            true_logit = demo.drifted_logit(f["score"], f["age"])
        else:
            true_logit = model_logit
        target = demo.outcome(rng, sigmoid(true_logit))
        p = round(p_model, 4)
        ev["features"] = f
        ev["prediction"] = demo.POSITIVE if p >= 0.5 else demo.NEGATIVE
        ev["probabilities"] = {demo.POSITIVE: p, demo.NEGATIVE: round(1 - p, 4)}
        label = None
        if rng.random() < a.label_fraction:
            label = {"model": CHURN, "id": ev["id"], "label": target}
        feedback = None
        if rng.random() < a.churn_feedback_fraction:
            # Business value of a retention call: saved revenue when the
            # customer really was about to churn and was flagged.
            hit = ev["prediction"] == "churn" and target == "churn"
            feedback = {"model": CHURN, "id": ev["id"],
                        "score": 5 if ev["prediction"] == target else 2,
                        "value": round(f["income"] / 100.0, 2) if hit else 0}
        return ev, label, feedback

    # --- support-assistant ------------------------------------------------
    def assistant(self, drifted):
        rng, a = self.rng, self.a
        prompt = max(20, int(math.exp(rng.gauss(math.log(600), 0.5))))
        completion = max(5, int(math.exp(rng.gauss(math.log(200), 0.5))))
        # p99 ~2.5 s: inside the assistant's 5 s latency SLO and p99 alert.
        latency = 200 + completion * rng.uniform(2.0, 4.0)  # ms
        # Streaming: the first token after 10-30 % of the call.
        ev = {"model": ASSISTANT, "id": self.next_id("a"),
              "tokens": {"prompt": prompt, "completion": completion},
              "latency_ms": round(latency, 1),
              "ttft_ms": round(latency * rng.uniform(0.1, 0.3), 1)}
        if rng.random() < a.assistant_error_rate:
            reason = pick(rng, ASSISTANT_ERRORS)
            ev["error"] = reason
            ev["tokens"] = {"prompt": prompt, "completion": 0}
            del ev["ttft_ms"]
            ev["latency_ms"] = 30000.0 if reason == "timeout" else round(
                rng.uniform(50, 400), 1)
            return ev, None
        if rng.random() < a.safety_rate:
            ev["safety"] = [pick(rng, SAFETY_CATEGORIES)]
        feedback = None
        if rng.random() < a.feedback_fraction:
            mean = 3.0 if drifted else 4.2
            if "safety" in ev:
                mean = 1.5
            score = min(5, max(1, int(round(rng.gauss(mean, 0.9)))))
            feedback = {"model": ASSISTANT, "id": ev["id"], "score": score}
            if score >= 4:
                feedback["value"] = round(rng.uniform(2.0, 8.0), 2)  # ticket deflected
        return ev, feedback


class Client:
    """Keep-alive HTTP client with reconnect; counts results per kind."""

    def __init__(self, target, token, timeout):
        u = urllib.parse.urlsplit(target)
        if u.scheme not in ("http", "") or not u.hostname:
            raise ValueError("--target must be http://HOST[:PORT]")
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.token, self.timeout = token, timeout
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port,
                                               timeout=self.timeout)

    def request(self, method, path, body=None, ctype=None):
        headers = {}
        if ctype:
            headers["Content-Type"] = ctype
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        last = None
        for _ in range(2):  # one retry on a dropped keep-alive connection
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, self.base + path, body=body,
                                  headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (OSError, http.client.HTTPException) as e:
                last = e
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        raise ConnectionError(str(last))

    def wait_healthy(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            try:
                status, _ = self.request("GET", "/-/healthy")
                if status == 200:
                    return True
            except ConnectionError:
                pass
            if time.monotonic() >= deadline or STOP:
                return False
            time.sleep(0.5)


class Stats:
    KINDS = ("prediction", "label", "feedback")

    def __init__(self):
        self.sent = {k: 0 for k in self.KINDS}
        self.accepted = {k: 0 for k in self.KINDS}
        self.rejected = {k: 0 for k in self.KINDS}
        self.failed = {k: 0 for k in self.KINDS}  # lost: transport/5xx/bad answer
        self.requests = 0
        self.reasons = {}
        self.examples = []
        self.safety = 0
        self.errors = 0


ENDPOINT = {"prediction": "/api/v1/predictions", "label": "/api/v1/labels",
            "feedback": "/api/v1/feedback"}


def send(client, stats, kind, events, batch, verbose):
    """Sends events in bodies of at most `batch` events."""
    for i in range(0, len(events), batch):
        chunk = events[i:i + batch]
        if len(chunk) == 1 and batch == 1:
            body, ctype = json.dumps(chunk[0]), "application/json"
        else:
            body = "\n".join(json.dumps(e) for e in chunk) + "\n"
            ctype = "application/x-ndjson"
        stats.sent[kind] += len(chunk)
        stats.requests += 1
        try:
            status, data = client.request("POST", ENDPOINT[kind],
                                          body.encode(), ctype)
        except ConnectionError as e:
            stats.failed[kind] += len(chunk)
            note(stats, "%s: request failed: %s" % (kind, e))
            continue
        try:
            answer = json.loads(data)
            acc, rej = int(answer["accepted"]), int(answer["rejected"])
        except (ValueError, KeyError, TypeError):
            stats.failed[kind] += len(chunk)
            note(stats, "%s: HTTP %d: %s" % (kind, status, data[:200]))
            continue
        stats.accepted[kind] += acc
        stats.rejected[kind] += rej
        if acc + rej != len(chunk):
            stats.failed[kind] += len(chunk) - acc - rej
            note(stats, "%s: HTTP %d: %s" % (kind, status,
                                              answer.get("error", data[:200])))
        for err in answer.get("errors", []):
            reason = "%s/%s" % (kind, err.get("reason", "?"))
            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
            note(stats, "%s #%s: %s" % (kind, err.get("index"),
                                        err.get("error")))
        if verbose and rej:
            print("rejected %d %s event(s): %s" % (rej, kind, answer["errors"][:3]),
                  flush=True)


def note(stats, text):
    if len(stats.examples) < 10:
        stats.examples.append(text)


def parse_delay(text):
    try:
        parts = [float(x) for x in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected SECONDS or MIN:MAX")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or parts[0] < 0 or parts[1] < parts[0]:
        raise argparse.ArgumentTypeError("expected SECONDS or MIN:MAX, 0 <= MIN <= MAX")
    return tuple(parts)


def fraction(text):
    v = float(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("must be in [0, 1]")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Drive ai-quality-exporter's demo models with realistic "
                    "traffic (see the module docstring for the distributions).")
    p.add_argument("--target", default="http://localhost:9477",
                   help="exporter base URL (default %(default)s)")
    p.add_argument("--rate", type=float, default=20.0,
                   help="predictions per second, both models together "
                        "(labels and feedback come on top; default %(default)s)")
    p.add_argument("--duration", type=float, default=0.0,
                   help="seconds to run; 0 = until SIGTERM/SIGINT (default)")
    p.add_argument("--drift-after", type=float, default=None, metavar="SECONDS",
                   help="start the drift and quality drop this many seconds "
                        "after the start (default: never)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed (reproducible event contents)")
    p.add_argument("--batch", type=int, default=1,
                   help="events per request; > 1 sends NDJSON (default 1: "
                        "one JSON object per request)")
    p.add_argument("--token", default=os.environ.get("AIQ_INGEST_TOKEN", ""),
                   help="bearer token (default $AIQ_INGEST_TOKEN; none)")
    p.add_argument("--churn-share", type=fraction, default=0.7,
                   help="share of predictions for churn-classifier, the rest "
                        "go to support-assistant (default %(default)s)")
    p.add_argument("--v1-share", type=fraction, default=0.3,
                   help="share of churn predictions for version v1, the rest "
                        "v2 (default %(default)s)")
    p.add_argument("--label-fraction", type=fraction, default=0.8,
                   help="share of churn predictions that get a label "
                        "(default %(default)s)")
    p.add_argument("--label-delay", type=parse_delay, default=(5.0, 60.0),
                   metavar="MIN:MAX",
                   help="label delay in seconds, uniform (default 5:60)")
    p.add_argument("--feedback-fraction", type=fraction, default=0.25,
                   help="share of assistant calls that get feedback "
                        "(default %(default)s)")
    p.add_argument("--churn-feedback-fraction", type=fraction, default=0.05,
                   help="share of churn predictions that get feedback with a "
                        "business value (default %(default)s)")
    p.add_argument("--feedback-delay", type=parse_delay, default=(1.0, 20.0),
                   metavar="MIN:MAX",
                   help="feedback delay in seconds (default 1:20)")
    p.add_argument("--safety-rate", type=fraction, default=0.005,
                   help="share of assistant calls with a safety violation "
                        "(default %(default)s)")
    p.add_argument("--assistant-error-rate", type=fraction, default=0.005,
                   help="share of failed assistant calls (default %(default)s)")
    p.add_argument("--churn-error-rate", type=fraction, default=0.001,
                   help="share of failed churn calls (default %(default)s)")
    p.add_argument("--wait", type=float, default=60.0,
                   help="seconds to wait for GET /-/healthy before starting "
                        "(default %(default)s)")
    p.add_argument("--drain", action="store_true",
                   help="at the end, wait for and send the labels and feedback "
                        "still scheduled instead of dropping them")
    p.add_argument("--progress", type=float, default=30.0,
                   help="seconds between progress lines; 0 = none "
                        "(default %(default)s)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="HTTP timeout in seconds (default %(default)s)")
    p.add_argument("--verbose", action="store_true",
                   help="print every rejection as it happens")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.batch < 1 or a.duration < 0 or (
            a.drift_after is not None and a.drift_after < 0):
        p.error("--rate must be > 0, --batch >= 1, --duration and "
                "--drift-after >= 0")
    return a


STOP = []  # set by SIGTERM/SIGINT: the loop finishes its tick and stops


def main(argv):
    a = parse_args(argv)
    try:
        client = Client(a.target, a.token, a.timeout)
    except ValueError as e:
        print("simulate: %s" % e, file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        STOP.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    gen, stats = Generator(a), Stats()
    if not client.wait_healthy(a.wait):
        print("simulate: %s/-/healthy not reachable within %gs"
              % (a.target, a.wait), file=sys.stderr)
        return 2
    print("simulate: sending to %s at %g predictions/s%s%s, batch %d, run %s"
          % (a.target, a.rate,
             ", for %gs" % a.duration if a.duration else "",
             ", drift after %gs" % a.drift_after if a.drift_after is not None else "",
             a.batch, gen.run), flush=True)

    later = []  # heap of (due, seq, kind, event): delayed labels and feedback
    seq = 0
    start = time.monotonic()
    made = 0
    drift_announced = False
    next_progress = a.progress if a.progress > 0 else float("inf")
    # Send at most every `tick` seconds so small batches still fill up.
    tick = min(0.25, max(0.01, a.batch / a.rate))
    while not STOP:
        now = time.monotonic()
        el = now - start
        if a.duration and el >= a.duration:
            break
        drifted = a.drift_after is not None and el >= a.drift_after
        if drifted and not drift_announced:
            drift_announced = True
            print("simulate: drift started at +%.1fs" % el, flush=True)
        due = int(a.rate * el) - made
        preds = []
        for _ in range(max(0, due)):
            made += 1
            if gen.rng.random() < a.churn_share:
                ev, label, fb = gen.churn(drifted)
                if label is not None:
                    seq += 1
                    heapq.heappush(later, (
                        now + gen.rng.uniform(*a.label_delay), seq,
                        "label", label))
            else:
                ev, fb = gen.assistant(drifted)
                if "safety" in ev:
                    stats.safety += 1
            if "error" in ev:
                stats.errors += 1
            if fb is not None:
                seq += 1
                heapq.heappush(later, (
                    now + gen.rng.uniform(*a.feedback_delay), seq,
                    "feedback", fb))
            preds.append(ev)
        if preds:
            send(client, stats, "prediction", preds, a.batch, a.verbose)
        flush_due(client, stats, later, time.monotonic(), a)
        if el >= next_progress:
            next_progress += a.progress
            progress(stats, el, len(later))
        time.sleep(tick)
    if a.drain:
        while later and not STOP:
            time.sleep(max(0.0, min(0.25, later[0][0] - time.monotonic())))
            flush_due(client, stats, later, time.monotonic(), a)
    stopped_by = STOP[0] if STOP else None
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return summary(stats, time.monotonic() - start, len(later), stopped_by)


def flush_due(client, stats, later, now, a):
    by_kind = {"label": [], "feedback": []}
    while later and later[0][0] <= now:
        _, _, kind, ev = heapq.heappop(later)
        by_kind[kind].append(ev)
    for kind, evs in by_kind.items():
        if evs:
            send(client, stats, kind, evs, a.batch, a.verbose)


def progress(stats, el, pending):
    print("simulate: +%.0fs sent %s, rejected %d, failed %d, pending %d"
          % (el, ", ".join("%d %ss" % (stats.sent[k], k) for k in Stats.KINDS),
             sum(stats.rejected.values()), sum(stats.failed.values()), pending),
          flush=True)


def summary(stats, elapsed, pending, stopped_by):
    print("simulate: summary after %.1fs%s" % (
        elapsed, " (stopped by %s)" % stopped_by if stopped_by else ""))
    print("  %-11s %9s %9s %9s %9s" % ("kind", "sent", "accepted", "rejected",
                                        "failed"))
    for k in Stats.KINDS:
        print("  %-11s %9d %9d %9d %9d" % (k, stats.sent[k], stats.accepted[k],
                                            stats.rejected[k], stats.failed[k]))
    print("  requests %d, predictions with error %d, with safety violations %d, "
          "labels/feedback not yet due %d" % (stats.requests, stats.errors,
                                              stats.safety, pending))
    for reason, n in sorted(stats.reasons.items()):
        print("  rejected %s: %d" % (reason, n))
    for text in stats.examples:
        print("  e.g. %s" % text)
    bad = sum(stats.rejected.values()) + sum(stats.failed.values())
    print("simulate: %s" % ("OK: every event accepted" if bad == 0 else
                            "FAILED: %d event(s) rejected or lost" % bad),
          flush=True)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
