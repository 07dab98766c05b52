#!/usr/bin/python3
"""End-to-end test of the whole stack, natively (no Docker).

  run_e2e.py --binary build/ai_quality_exporter --source REPO [--keep]

Starts, on free 127.0.0.1 ports and in a temporary directory:
  - the exporter (embedded demo config, --listen 127.0.0.1:0);
  - Prometheus (/usr/bin/prometheus) on a copy of prometheus/ + alerts/
    rendered by prometheus/render-native.sh, with TEST-ONLY changes: scrape
    and evaluation every 1s, every rule group evaluated every 1s, every
    alert's `for:` shortened to FOR_SECONDS;
  - Alertmanager (/usr/bin/prometheus-alertmanager) on a copy of
    alertmanager.yml whose receivers (same names) are webhooks to an HTTP
    receiver in this process, with group_wait 1s / group_interval 2s;
  - tools/simulate/simulate.py: traffic with a drift after DRIFT_AFTER
    seconds and a 2 % safety-violation rate.

Checks:
  1. Prometheus scrapes the exporter: up{job="ai-quality-exporter"} == 1.
  2. Before the drift the demo model shows no dataset drift (the simulator's
     normal traffic matches the embedded reference).
  3. AIQFeatureDrift, AIQDatasetDrift (warning -> receiver slack) and
     AIQSafetyViolation (critical -> receiver pagerduty) reach the webhook
     through Alertmanager with alertname, severity and model labels.
  4. Every PromQL expression of every dashboard panel and variable parses
     and returns data from this Prometheus (list from
     tests/dashboards/check_dashboards.py --list-exprs, or read from
     grafana/dashboards/*.json if that script is missing). Parse errors
     always fail; "no data" fails unless the panel is in NO_DATA_ALLOWED.
  5. Clean shutdown: the simulator exits 0 (no event rejected), the
     exporter, Prometheus and Alertmanager exit 0 on SIGTERM.

Every child is killed and the temporary directory removed on any outcome
(--keep keeps the directory for debugging). Prints `N passed, M failed`;
exit status 1 on any failure, 77 (CTest: skipped) when prometheus,
prometheus-alertmanager or python3-yaml is not installed.
"""
import argparse
import glob
import http.server
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import yaml
except ImportError:  # python3-yaml (scripts/setup.sh test)
    print("e2e: python3-yaml is not installed", file=sys.stderr)
    sys.exit(77)

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PYTHON = "/usr/bin/python3"

FOR_SECONDS = 3          # test-only `for:` of every alert
DRIFT_AFTER = 25         # seconds after the simulator starts
SIM_ARGS = ["--rate", "200", "--batch", "20", "--seed", "20261122",
            "--label-delay", "1:4", "--feedback-delay", "1:3",
            "--safety-rate", "0.02", "--progress", "15", "--wait", "20"]
QUIET_MIN_SAMPLES = 300  # window samples per version before the quiet check
ALERT_TIMEOUT = 120      # seconds after the drift for the alerts to arrive
DASHBOARD_TIMEOUT = 60   # seconds to wait for panels that have no data yet
# Grafana's global variables, as the dashboard checker substitutes them.
GRAFANA_GLOBALS = {"__rate_interval": "1m", "__interval": "15s",
                   "__interval_ms": "15000", "__range": "5m",
                   "__range_s": "300", "__range_ms": "300000"}

EXPECTED_ALERTS = [
    # alertname, severity, model, receiver (route), extra labels that must exist
    ("AIQFeatureDrift", "warning", "churn-classifier", "slack", ["feature"]),
    ("AIQDatasetDrift", "warning", "churn-classifier", "slack", ["version"]),
    ("AIQSafetyViolation", "critical", "support-assistant", "pagerduty",
     ["category"]),
]

# Panels allowed to return no data in this test, by (dashboard title or
# file, panel title). Keep it short; every entry says which condition the
# test does not create. Matching is exact.
_NO_REGRESSION = "the demo config has no regression model"
# The Operations "Durable state" row: aiq_state_* are only exported with
# state.dir set, and the e2e exporter runs without it.
_NO_STATE_DIR = "only exported with state.dir; the e2e exporter has none"
# The LLM dashboard's evaluation panels: the simulator sends no evaluations
# (the OTLP tests cover them, tests/otlp); the baseline ones need a day of
# history besides.
_NO_EVALUATIONS = "the simulator sends no evaluations"
NO_DATA_ALLOWED = {
    ("aiq-llm", "Mean evaluation score (1 h) vs baseline"): _NO_EVALUATIONS,
    ("aiq-llm", "Evaluation score drop vs baseline"): _NO_EVALUATIONS,
    ("aiq-llm", "Scores (1 h)"): _NO_EVALUATIONS,
    ("aiq-llm", "Scores in the baseline (7 d)"): _NO_EVALUATIONS,
    ("aiq-llm", "Evaluations by evaluator"): _NO_EVALUATIONS,
    ("aiq-llm", "Evaluations by label"): _NO_EVALUATIONS,
    ("aiq-llm", "Evaluation score quantiles (p10 / p50 / p90)"): _NO_EVALUATIONS,
    ("aiq-llm", "Mean evaluation score by version"): _NO_EVALUATIONS,
    ("aiq-llm", "Evaluation score heatmap"): _NO_EVALUATIONS,
    ("aiq-model-quality", "MAE vs baseline"): _NO_REGRESSION,
    ("aiq-model-quality", "RMSE vs baseline"): _NO_REGRESSION,
    ("aiq-model-quality", "R² vs baseline"): _NO_REGRESSION,
    ("aiq-model-quality", "MAPE vs baseline"): _NO_REGRESSION,
    ("aiq-operations", "Checkpoint age"): _NO_STATE_DIR,
    ("aiq-operations", "Checkpoint duration"): _NO_STATE_DIR,
    ("aiq-operations", "State disk free and store size"): _NO_STATE_DIR,
    ("aiq-operations", "State log bytes"): _NO_STATE_DIR,
    ("aiq-operations", "State log records"): _NO_STATE_DIR,
    ("aiq-operations", "Records per fsync"): _NO_STATE_DIR,
    ("aiq-operations", "State write errors and refused ingest"): _NO_STATE_DIR,
    ("aiq-operations", "Checkpoints written and failed"): _NO_STATE_DIR,
    ("aiq-operations", "Checkpoint size"): _NO_STATE_DIR,
    ("aiq-operations", "Idempotent replays"): _NO_STATE_DIR,
    ("aiq-operations", "Last restore"): _NO_STATE_DIR,
    ("aiq-operations", "Join tables"): _NO_STATE_DIR,
}


# --- results -------------------------------------------------------------
class Results:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def ok(self, name, detail=""):
        self.passed += 1
        print("PASS %s%s" % (name, (": " + detail) if detail else ""), flush=True)

    def fail(self, name, detail=""):
        self.failed += 1
        print("FAIL %s%s" % (name, (": " + detail) if detail else ""), flush=True)

    def check(self, cond, name, detail=""):
        (self.ok if cond else self.fail)(name, detail)
        return cond


class Fatal(Exception):
    """A failure after which the remaining checks cannot run."""


def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


# --- processes -------------------------------------------------------------
class Children:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = {}  # name -> (Popen, log path)

    def start(self, name, argv, cwd=None):
        path = os.path.join(self.tmp, name + ".log")
        out = open(path, "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=cwd or self.tmp,
                             start_new_session=True)
        out.close()
        self.procs[name] = (p, path)
        log("started %s (pid %d): %s" % (name, p.pid, " ".join(argv)))
        return p

    def log_text(self, name):
        try:
            with open(self.procs[name][1], "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self, name):
        return self.procs[name][0].poll() is None

    def stop(self, name, timeout=20):
        """SIGTERM, wait; returns the exit code (None if it had to be killed)."""
        p = self.procs[name][0]
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
                return None
        return p.returncode

    def kill_all(self):
        for name, (p, _) in self.procs.items():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # its own session
                except OSError:
                    p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass

    def dump_logs(self, lines=25):
        for name in self.procs:
            text = self.log_text(name).rstrip("\n").split("\n")
            print("----- last %d lines of %s.log -----" % (lines, name))
            print("\n".join(text[-lines:]))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e).encode()


def wait_until(what, fn, timeout, interval=0.5, alive=None):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if alive is not None and not alive():
            raise Fatal("%s: the process exited" % what)
        if time.monotonic() >= deadline:
            raise Fatal("%s: not within %gs" % (what, timeout))
        time.sleep(interval)


# --- webhook receiver --------------------------------------------------------
class Webhook:
    def __init__(self):
        self.lock = threading.Lock()
        self.notifications = []  # (receiver path, payload)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                with outer.lock:
                    outer.notifications.append((self.path.strip("/"), payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def alerts(self):
        """[(receiver path, payload receiver, alert)] of firing alerts."""
        out = []
        with self.lock:
            for path, p in self.notifications:
                for a in p.get("alerts", []):
                    if a.get("status") == "firing":
                        out.append((path, p.get("receiver"), a))
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- configuration for the test ------------------------------------------------
def render_prometheus(source, tmp, exporter, prom, am):
    out = os.path.join(tmp, "prom-config")
    r = subprocess.run(["bash", os.path.join(source, "prometheus",
                                             "render-native.sh"),
                        out, exporter, prom, am],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Fatal("render-native.sh failed: %s" % r.stderr)
    cfg_path = r.stdout.strip().split("\n")[-1]
    with open(cfg_path) as f:
        cfg = yaml.safe_load(f)
    # TEST ONLY: 1 s scrapes and evaluations.
    cfg.setdefault("global", {}).update(
        {"scrape_interval": "1s", "scrape_timeout": "1s",
         "evaluation_interval": "1s"})
    with open(cfg_path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    shortened = 0
    rule_files = (glob.glob(os.path.join(out, "prometheus", "rules", "*.yml"))
                  + glob.glob(os.path.join(out, "alerts", "*.yml")))
    for path in rule_files:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
        for group in doc.get("groups", []):
            if "interval" in group:
                group["interval"] = "1s"
            for rule in group.get("rules", []):
                if "alert" in rule and "for" in rule:
                    rule["for"] = "%ds" % FOR_SECONDS
                    shortened += 1
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
    return cfg_path, shortened


def render_alertmanager(source, tmp, webhook_port):
    with open(os.path.join(source, "alertmanager", "alertmanager.yml")) as f:
        cfg = yaml.safe_load(f)

    def fast(route):  # TEST ONLY: notify within seconds
        if "group_wait" in route or route is cfg["route"]:
            route["group_wait"] = "1s"
        if "group_interval" in route or route is cfg["route"]:
            route["group_interval"] = "2s"
        for sub in route.get("routes", []):
            fast(sub)

    fast(cfg["route"])
    receivers = []
    for r in cfg["receivers"]:
        name = r["name"]
        if len(r) == 1:  # a receiver without integrations ("null") stays so
            receivers.append({"name": name})
        else:
            receivers.append({"name": name, "webhook_configs": [{
                "url": "http://127.0.0.1:%d/%s" % (webhook_port, name),
                "send_resolved": True}]})
    cfg["receivers"] = receivers
    path = os.path.join(tmp, "alertmanager.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


# --- Prometheus API -------------------------------------------------------------
def prom_query(base, expr):
    """(status, result list, error string). status: ok | error | down."""
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    code, body = http_get(url, timeout=10)
    if code is None:
        return "down", [], body.decode("utf-8", "replace")
    try:
        j = json.loads(body)
    except ValueError:
        return "error", [], "HTTP %s: %r" % (code, body[:200])
    if j.get("status") != "success":
        return "error", [], "%s: %s" % (j.get("errorType"), j.get("error"))
    data = j["data"]
    res = data.get("result")
    if data.get("resultType") in ("scalar", "string"):
        res = [res]
    return "ok", res or [], ""


def exporter_samples(port):
    code, body = http_get("http://127.0.0.1:%d/metrics" % port)
    if code != 200:
        return {}
    out = {}
    for line in body.decode().split("\n"):
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                pass
    return out


# --- dashboards -----------------------------------------------------------------
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def dashboard_exprs(source):
    """[(dashboard, panel, expr)] from the checker script, else from JSON."""
    script = os.path.join(source, "tests", "dashboards", "check_dashboards.py")
    if os.path.exists(script):
        r = subprocess.run([PYTHON, script, "--list-exprs", source],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise Fatal("check_dashboards.py --list-exprs failed (%d): %s"
                        % (r.returncode, (r.stderr or r.stdout)[-800:]))
        out = []
        for line in r.stdout.split("\n"):
            if line.strip():
                parts = line.split("\t", 2)
                if len(parts) != 3:
                    raise Fatal("check_dashboards.py --list-exprs: bad line %r"
                                % line)
                out.append(tuple(parts))
        return out, "tests/dashboards/check_dashboards.py --list-exprs"
    return read_dashboards(source), "grafana/dashboards/*.json (fallback)"


def read_dashboards(source):
    """Fallback: raw expressions (variables not substituted) of every panel
    target and query variable of grafana/dashboards/**/*.json."""
    out = []
    files = sorted(glob.glob(os.path.join(source, "grafana", "dashboards",
                                          "**", "*.json"), recursive=True))
    for path in files:
        with open(path) as f:
            d = json.load(f)
        d = d.get("dashboard", d)
        title = d.get("title") or os.path.basename(path)

        def panels(ps):
            for p in ps or []:
                yield p
                yield from panels(p.get("panels"))

        for p in panels(d.get("panels")):
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append((title, p.get("title") or "(untitled)",
                                t["expr"]))
        for v in (d.get("templating") or {}).get("list") or []:
            if v.get("type") != "query":
                continue
            q = v.get("query")
            if isinstance(q, dict):
                q = q.get("query")
            if q:
                out.append((title, "variable $%s" % v.get("name"), q))
    return out


def variable_values(base):
    """Real values for the usual dashboard variables, from Prometheus."""
    values = {}
    for label in ("model", "version", "feature", "class", "category",
                  "attribute", "segment", "detector", "instance", "job",
                  "test", "reason", "type", "kind", "average"):
        code, body = http_get(base + "/api/v1/label/%s/values?%s" % (
            label, urllib.parse.urlencode({"match[]": '{__name__=~"aiq_.*"}'})))
        try:
            vals = json.loads(body)["data"] if code == 200 else []
        except (ValueError, KeyError):
            vals = []
        if vals:
            values[label] = vals
    return values


def regex_quote(v):
    """v as a regex literal inside a PromQL double-quoted string."""
    return re.sub(r'([.+*?()\[\]{}|^$\\])', r'\\\\\1', v)


def candidates(expr, values):
    """Expressions to try: variables -> regex of all values, then each value."""
    names = []
    for m in VAR_RE.finditer(expr):
        n = next(g for g in m.groups() if g)
        if n not in GRAFANA_GLOBALS and n not in names:
            names.append(n)

    def subst(assign):
        def rep(m):
            n = next(g for g in m.groups() if g)
            if n in GRAFANA_GLOBALS:
                return GRAFANA_GLOBALS[n]
            return assign.get(n, ".*")
        return VAR_RE.sub(rep, expr)

    options = []
    for n in names:
        key = n.lower().rstrip("s")
        vals = values.get(n) or values.get(key) or []
        opts = ["|".join(regex_quote(v) for v in vals)] if vals else [".*"]
        opts += vals
        options.append(opts)
    seen = []
    for combo in itertools.islice(itertools.product(*options), 60):
        e = subst(dict(zip(names, combo)))
        if e not in seen:
            seen.append(e)
    return seen or [subst({})]


LABEL_VALUES_RE = re.compile(r"^\s*label_values\((.*)\)\s*$", re.S)
QUERY_RESULT_RE = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)


def to_promql(expr):
    """Grafana variable query -> (PromQL or None, label-name or None)."""
    m = LABEL_VALUES_RE.match(expr)
    if m:
        inner = m.group(1)
        metric, sep, label = inner.rpartition(",")
        if not sep:
            return None, inner.strip()
        return "count by (%s) (%s)" % (label.strip(), metric.strip()), None
    m = QUERY_RESULT_RE.match(expr)
    if m:
        return m.group(1), None
    if re.match(r"^\s*(metrics|label_names)\(", expr):
        return None, None
    return expr, None


def check_dashboards(res, base, source):
    try:
        exprs, origin = dashboard_exprs(source)
    except Fatal as e:
        res.fail("dashboards: list expressions", str(e))
        return
    if not exprs:
        res.fail("dashboards: expressions found", "none in %s" % origin)
        return
    log("dashboards: %d expressions from %s" % (len(exprs), origin))
    values = variable_values(base)
    pending = []  # (dashboard, panel, raw expr, [candidate exprs])
    parse_errors = 0
    for dash, panel, raw in exprs:
        q, label_only = to_promql(raw)
        if q is None and label_only is None:
            continue  # metrics()/label_names(): nothing to evaluate
        if q is None:
            code, body = http_get(base + "/api/v1/label/%s/values" % label_only)
            ok = code == 200 and json.loads(body).get("data")
            if not ok:
                res.fail("dashboard %r panel %r" % (dash, panel),
                         "label %r has no values" % label_only)
            continue
        cands = candidates(q, values)
        status, _, err = prom_query(base, cands[0])
        if status != "ok":
            parse_errors += 1
            res.fail("dashboard %r panel %r" % (dash, panel),
                     "query error: %s -- expr: %s" % (err, cands[0]))
            continue
        pending.append((dash, panel, raw, cands))
    deadline = time.monotonic() + DASHBOARD_TIMEOUT
    while True:
        still = []
        for item in pending:
            if not any(prom_query(base, c)[1] for c in item[3]):
                still.append(item)
        pending = still
        if not pending or time.monotonic() >= deadline:
            break
        log("dashboards: %d panel expression(s) without data yet, retrying"
            % len(pending))
        time.sleep(5)
    nodata = {(d, p) for d, p, _, _ in pending}
    for dash, panel, raw, cands in pending:
        if (dash, panel) in NO_DATA_ALLOWED:
            log("dashboards: no data (allowed: %s) in %r / %r"
                % (NO_DATA_ALLOWED[(dash, panel)], dash, panel))
            continue
        res.fail("dashboard %r panel %r" % (dash, panel),
                 "no data -- expr: %s" % cands[0])
    stale = [k for k in NO_DATA_ALLOWED if k not in nodata]
    for k in stale:
        log("dashboards: allowlisted %r has data now (or is gone): "
            "consider removing it from NO_DATA_ALLOWED" % (k,))
    failed_panels = parse_errors + len([1 for d, p, _, _ in pending
                                        if (d, p) not in NO_DATA_ALLOWED])
    res.check(failed_panels == 0, "dashboards: every expression parses and "
              "returns data", "%d expressions, %d failed" % (
                  len(exprs), failed_panels))


# --- the test ----------------------------------------------------------------------
def run(args, res, tmp, kids):
    exporter_bin = os.path.abspath(args.binary)
    source = os.path.abspath(args.source)
    simulate = os.path.join(source, "tools", "simulate", "simulate.py")

    webhook = Webhook()
    try:
        return run_stack(args, res, tmp, kids, exporter_bin, source, simulate,
                         webhook)
    finally:
        webhook.close()


def run_stack(args, res, tmp, kids, exporter_bin, source, simulate, webhook):
    # 1. exporter on a free port (port 0, read back from its first line).
    kids.start("exporter", [exporter_bin, "serve", "--listen", "127.0.0.1:0"])
    m = wait_until("exporter prints its port",
                   lambda: re.search(r"\(port (\d+)\)", kids.log_text("exporter")),
                   15, 0.1, lambda: kids.alive("exporter"))
    eport = int(m.group(1))
    wait_until("exporter /-/healthy",
               lambda: http_get("http://127.0.0.1:%d/-/healthy" % eport)[0] == 200,
               10, 0.2)
    log("exporter listening on 127.0.0.1:%d" % eport)

    # 2. Alertmanager and Prometheus.
    pport, aport = free_port(), free_port()
    while aport == pport:
        aport = free_port()
    am_cfg = render_alertmanager(source, tmp, webhook.port)
    kids.start("alertmanager", [
        ALERTMANAGER, "--config.file=" + am_cfg,
        "--storage.path=" + os.path.join(tmp, "am-data"),
        "--web.listen-address=127.0.0.1:%d" % aport,
        "--cluster.listen-address=", "--log.level=warn"])
    prom_cfg, shortened = render_prometheus(
        source, tmp, "127.0.0.1:%d" % eport, "127.0.0.1:%d" % pport,
        "127.0.0.1:%d" % aport)
    log("prometheus config %s (%d alerts with for: %ds)"
        % (prom_cfg, shortened, FOR_SECONDS))
    kids.start("prometheus", [
        PROMETHEUS, "--config.file=" + prom_cfg,
        "--storage.tsdb.path=" + os.path.join(tmp, "prom-data"),
        "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"])
    base = "http://127.0.0.1:%d" % pport
    wait_until("alertmanager ready",
               lambda: http_get("http://127.0.0.1:%d/-/ready" % aport)[0] == 200,
               30, 0.3, lambda: kids.alive("alertmanager"))
    wait_until("prometheus ready",
               lambda: http_get(base + "/-/ready")[0] == 200,
               60, 0.3, lambda: kids.alive("prometheus"))
    log("prometheus on %s, alertmanager on 127.0.0.1:%d, webhook on "
        "127.0.0.1:%d" % (base, aport, webhook.port))

    # 3. traffic.
    kids.start("simulator", [PYTHON, "-u", simulate, "--target",
                             "http://127.0.0.1:%d" % eport,
                             "--drift-after", str(DRIFT_AFTER)] + SIM_ARGS)
    sim_start = time.monotonic()

    # Check 1: Prometheus scrapes the exporter.
    def up():
        s, r, _ = prom_query(base, 'up{job="ai-quality-exporter"} == 1')
        return s == "ok" and len(r) == 1
    try:
        wait_until("up", up, 30, 0.5)
        res.ok('prometheus scrapes the exporter: up{job="ai-quality-exporter"} == 1')
    except Fatal as e:
        res.fail('prometheus scrapes the exporter', str(e))

    # Check 2: quiet before the drift.
    def enough():
        s = exporter_samples(eport)
        n = [v for k, v in s.items() if k.startswith(
            'aiq_window_samples{model="churn-classifier"') and
            'kind="predictions"' in k]
        return len(n) == 2 and min(n) >= QUIET_MIN_SAMPLES and s
    try:
        s = wait_until("%d window samples per churn version" % QUIET_MIN_SAMPLES,
                       enough, DRIFT_AFTER - 2, 0.5, lambda: kids.alive("simulator"))
        before_drift = time.monotonic() - sim_start < DRIFT_AFTER - 0.5
        drift = {k: v for k, v in s.items()
                 if k.startswith('aiq_dataset_drift{model="churn-classifier"')}
        drifted = sum(v for k, v in s.items()
                      if k.startswith('aiq_feature_drifted{model="churn-classifier"'))
        res.check(before_drift and len(drift) == 2 and not any(drift.values()),
                  "no dataset drift before the scheduled drift",
                  "%s; %d feature(s) flagged by noise; at +%.1fs" % (
                      drift, drifted, time.monotonic() - sim_start))
    except Fatal as e:
        res.fail("no dataset drift before the scheduled drift", str(e))

    # Check 3: alerts through Alertmanager to the webhook.
    deadline = sim_start + DRIFT_AFTER + ALERT_TIMEOUT
    found = {}
    while time.monotonic() < deadline and len(found) < len(EXPECTED_ALERTS):
        for path, receiver, a in webhook.alerts():
            labels = a.get("labels", {})
            for name, sev, model, route, extra in EXPECTED_ALERTS:
                if (name not in found and labels.get("alertname") == name
                        and labels.get("model") == model):
                    found[name] = (path, receiver, a)
                    log("webhook got %s via %s: %s" % (name, receiver, labels))
        if not kids.alive("prometheus") or not kids.alive("alertmanager"):
            break
        time.sleep(1)
    for name, sev, model, route, extra in EXPECTED_ALERTS:
        if name not in found:
            s, r, _ = prom_query(base, 'ALERTS{alertname="%s"}' % name)
            res.fail("alert %s reaches the webhook" % name,
                     "not received within %ds of the drift; in Prometheus: %s"
                     % (ALERT_TIMEOUT, [x["metric"] for x in r][:3]))
            continue
        path, receiver, a = found[name]
        labels, ann = a.get("labels", {}), a.get("annotations", {})
        problems = []
        if labels.get("severity") != sev:
            problems.append("severity %r != %r" % (labels.get("severity"), sev))
        if receiver != route or path != route:
            problems.append("receiver %r (path %r) != %r" % (receiver, path, route))
        problems += ["no label %r" % x for x in extra if not labels.get(x)]
        problems += ["no annotation %r" % x for x in ("summary", "description",
                                                      "runbook_url")
                     if not ann.get(x)]
        res.check(not problems, "alert %s reaches the webhook (%s, model=%s, "
                  "receiver %s)" % (name, sev, model, route), "; ".join(problems))
    others = sorted({a["labels"].get("alertname") + "/" + str(
        a["labels"].get("model")) for _, _, a in webhook.alerts()}
        - {n + "/" + m for n, _, m, _, _ in EXPECTED_ALERTS})
    log("other alerts received: %s" % (", ".join(others) or "none"))

    # Check 4: dashboards.
    # Bad input the simulator never sends, so the data-quality panels have
    # something to show: a mistyped feature (kept, counted as a type error)
    # and an event for an unknown model (rejected). Sent just before the
    # dashboard check so the 1m rates see it, then two scrape intervals.
    bad = "\n".join([
        json.dumps({"model": "churn-classifier",
                    "features": {"age": "forty"}, "prediction": "stay"}),
        json.dumps({"model": "no-such-model"}),
    ]).encode()
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/v1/predictions" % eport, data=bad,
        headers={"Content-Type": "application/x-ndjson"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.loads(r.read())
    res.check(body.get("accepted") == 1 and body.get("rejected") == 1,
              "bad input: mistyped feature kept, unknown model rejected",
              json.dumps(body))
    time.sleep(2.5)
    check_dashboards(res, base, source)

    # Check 5: clean shutdown, simulator first (its summary is a check).
    code = kids.stop("simulator", 20)
    sim_log = kids.log_text("simulator")
    res.check(code == 0 and "OK: every event accepted" in sim_log,
              "simulator: every event accepted, exit 0",
              "exit %s; %s" % (code, sim_log.strip().split("\n")[-1][:300]))
    for line in sim_log.strip().split("\n"):
        if line.startswith("  prediction ") or line.startswith("  label ") \
                or line.startswith("  feedback "):
            log("simulator:" + line)
    for name in ("prometheus", "alertmanager", "exporter"):
        code = kids.stop(name, 30)
        detail = "exit %s" % code
        if name == "exporter":
            text = kids.log_text("exporter")
            ok = code == 0 and "stopped" in text
            res.check(ok, "exporter exits 0 on SIGTERM", detail)
        else:
            res.check(code == 0, "%s exits 0 on SIGTERM" % name, detail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True, help="ai_quality_exporter")
    ap.add_argument("--source", required=True, help="repository root")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (logs, configs)")
    args = ap.parse_args()
    missing = [p for p in (args.binary, PROMETHEUS, ALERTMANAGER, PYTHON)
               if not os.access(p, os.X_OK)]
    if missing:
        print("e2e: missing executables: %s (scripts/setup.sh test installs "
              "prometheus and prometheus-alertmanager)" % ", ".join(missing),
              file=sys.stderr)
        return 77

    res = Results()
    tmp = tempfile.mkdtemp(prefix="aiq-e2e-")
    kids = Children(tmp)
    # SIGTERM (e.g. CTest timeout) -> clean up like a failure.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    try:
        run(args, res, tmp, kids)
    except Fatal as e:
        res.fail("stack", str(e))
    except KeyboardInterrupt:
        res.fail("stack", "interrupted")
    except Exception as e:  # a bug in the test: still clean up and fail
        import traceback
        traceback.print_exc()
        res.fail("stack", "%s: %s" % (type(e).__name__, e))
    finally:
        if res.failed:
            kids.dump_logs()
        kids.kill_all()
        if args.keep:
            print("e2e: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("e2e: finished in %.1fs" % (time.monotonic() - T0))
    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
