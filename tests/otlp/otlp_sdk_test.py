#!/usr/bin/python3
"""End to end: the real OpenTelemetry JS SDK exports GenAI traces, logs and
metrics to the exporter over OTLP/HTTP, in both encodings, and /metrics
shows exactly what the workload holds.

Starts the exporter binary on loopback with two generation models: one
whose telemetry arrives as protobuf on the OTLP-only listener
(server.otlp_listen), one as JSON on the main listener. For each, runs
tests/otlp_client/send_genai.mjs (the SDK's own OTLP exporters) for traces,
then logs (whose evaluations join the spans by gen_ai.response.id), then
metrics (delta for one, cumulative for the other), and compares the
scrape with the `expected` values the client computes from its workload:
call counts per version, token sums, cost, latency sums, error reasons,
evaluation histograms and counts, ignored spans and records, and the
streaming-latency histograms bucket by bucket.

Exit 1 on failure, including when node or npm is missing (scripts/setup.sh
test installs them).
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "otlp-test-token"
# Per 1k tokens.
PROMPT_COST, COMPLETION_COST = 0.5, 1.5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as r:
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        if m:
            samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples


def labels(**kv):
    return "{" + ",".join(f'{k}="{v}"' for k, v in kv.items()) + "}"


class Checker:
    def __init__(self, samples):
        self.samples = samples
        self.failures = []

    def eq(self, name, lbl, want, tol=1e-9):
        got = self.samples.get((name, lbl))
        if got is None or abs(got - want) > tol * max(1.0, abs(want)):
            self.failures.append(f"{name}{lbl}: want {want}, got {got}")


def send(client, endpoint, protocol, signal, service, temporality="delta"):
    cmd = ["node", client, "--endpoint", endpoint, "--protocol", protocol,
           "--signal", signal, "--service", service, "--token", TOKEN,
           "--temporality", temporality]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n"
                           f"{r.stdout}\n{r.stderr}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if not out.get("ok"):
        raise RuntimeError(f"{signal}/{protocol}: export failed: {out}")
    return out["expected"]


def check_model(c, model, traces, logs, metrics):
    # Calls per version, tokens, cost, latency.
    for version, n in (("gpt-4o", traces["requests"]["chat|openai|gpt-4o"]),
                       ("gpt-4o-mini",
                        traces["requests"]["chat|openai|gpt-4o-mini"])):
        mv = labels(model=model, version=version)
        c.eq("aiq_predictions_total", mv, n)
        pin = traces["input_tokens"][version]
        pout = traces["output_tokens"][version]
        c.eq("aiq_tokens_total", labels(model=model, version=version,
                                        type="prompt"), pin)
        c.eq("aiq_tokens_total", labels(model=model, version=version,
                                        type="completion"), pout)
        c.eq("aiq_cost_total", mv,
             pin / 1000 * PROMPT_COST + pout / 1000 * COMPLETION_COST)
        d = traces["duration_seconds"][version]
        c.eq("aiq_prediction_latency_seconds_count", mv, d["count"])
        c.eq("aiq_prediction_latency_seconds_sum", mv, d["sum"])
    for reason, n in traces["error_reasons"].items():
        c.eq("aiq_prediction_errors_total",
             labels(model=model, version="gpt-4o", reason=reason), n)

    # Evaluations: the span event's and the log records', joined to the
    # calls' version by gen_ai.response.id; an unjoined one goes to the
    # default version.
    evals = traces["evaluations"] + logs["evaluations"]
    by_version = {}
    counts = {}
    for e in evals:
        version = "gpt-4o" if e.get("response_id") else "default"
        if e["score"] is not None:
            s = by_version.setdefault((version, e["name"]), [0, 0.0])
            s[0] += 1
            s[1] += e["score"]
        key = (e["name"], e["label"] or "")
        counts[key] = counts.get(key, 0) + 1
    for (version, name), (n, total) in by_version.items():
        lbl = labels(model=model, version=version, evaluator=name)
        c.eq("aiq_evaluation_score_count", lbl, n)
        c.eq("aiq_evaluation_score_sum", lbl, total)
    for (name, label), n in counts.items():
        c.eq("aiq_evaluations_total",
             labels(model=model, evaluator=name, label=label), n)

    # Streaming latency: the SDK's buckets are the conventions', ours too,
    # so bucket by bucket.
    for metric, family in (("gen_ai.server.time_to_first_token",
                            "aiq_time_to_first_token_seconds"),
                           ("gen_ai.server.time_per_output_token",
                            "aiq_time_per_output_token_seconds")):
        h = metrics["histograms"][metric]
        mv = labels(model=model, version="gpt-4o")
        c.eq(family + "_count", mv, h["count"])
        c.eq(family + "_sum", mv, h["sum"])
        cumulative = 0
        for bound, n in zip(h["explicit_bounds"] + ["+Inf"],
                            h["bucket_counts"]):
            cumulative += n
            le = "+Inf" if bound == "+Inf" else format_le(bound)
            c.eq(family + "_bucket",
                 labels(model=model, version="gpt-4o", le=le), cumulative)


def format_le(bound):
    # prometheus-cpp writes bounds as the shortest round-trip decimal.
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    if not shutil.which("node") or not shutil.which("npm"):
        print("FAIL: node or npm missing; run scripts/setup.sh test")
        return 1
    client_dir = os.path.join(args.source, "tests", "otlp_client")
    subprocess.run(["bash", os.path.join(client_dir, "install.sh")],
                   check=True, timeout=600)
    client = os.path.join(client_dir, "send_genai.mjs")

    port, otlp_port = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="aiq_otlp_sdk_")
    config = os.path.join(tmp, "config.yaml")
    with open(config, "w") as f:
        f.write(f"""
server:
  listen: 127.0.0.1:{port}
  otlp_listen: 127.0.0.1:{otlp_port}
  ingest_tokens: [{TOKEN}]
review: {{path: ""}}
models:
""" + "".join(f"""
  - name: {name}
    task: generation
    cost_per_1k_prompt_tokens: {PROMPT_COST}
    cost_per_1k_completion_tokens: {COMPLETION_COST}
    otlp: {{service_name: {name}-svc}}
""" for name in ("chat_proto", "chat_json")))
    proc = subprocess.Popen([args.binary, "serve", "--config", config],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.time() + 20
        while True:
            try:
                scrape(port)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("exporter did not start")
                time.sleep(0.1)
        # The OTLP-only listener answers OTLP, and 404 for the rest.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{otlp_port}/metrics",
                                   timeout=5)
            raise RuntimeError("the OTLP listener served /metrics")
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise

        runs = (("chat_proto", "proto", f"http://127.0.0.1:{otlp_port}",
                 "delta"),
                ("chat_json", "json", f"http://127.0.0.1:{port}",
                 "cumulative"))
        expected = {}
        started = time.time()
        for model, protocol, endpoint, temporality in runs:
            service = model + "-svc"
            traces = send(client, endpoint, protocol, "traces", service)
            logs = send(client, endpoint, protocol, "logs", service)
            metrics = send(client, endpoint, protocol, "metrics", service,
                           temporality)
            expected[model] = (traces, logs, metrics)
        print(f"6 SDK exports in {time.time() - started:.1f} s")

        c = Checker(scrape(port))
        for model, (traces, logs, metrics) in expected.items():
            check_model(c, model, traces, logs, metrics)
        n_models = len(expected)
        t, lg = expected["chat_proto"][0], expected["chat_proto"][1]
        c.eq("aiq_exporter_otlp_ignored_total", labels(signal="traces"),
             n_models * t["ignored_spans"])
        c.eq("aiq_exporter_otlp_ignored_total", labels(signal="logs"),
             n_models * lg["ignored_records"])
        c.eq("aiq_exporter_events_received_total", labels(kind="prediction"),
             n_models * t["genai_spans"])
        for reason in ("invalid_field", "unknown_model", "out_of_range"):
            for kind in ("prediction", "evaluation", "data_point"):
                c.eq("aiq_exporter_events_rejected_total",
                     labels(kind=kind, reason=reason), 0)
        for handler in ("/v1/traces", "/v1/logs", "/v1/metrics"):
            c.eq("aiq_exporter_http_requests_total",
                 labels(code="200", handler=handler), n_models)
        if c.failures:
            print("FAILED:\n  " + "\n  ".join(c.failures))
            return 1
        print("ok: traces, logs and metrics from the OpenTelemetry JS SDK, "
              "protobuf and JSON, counted exactly")
        return 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
