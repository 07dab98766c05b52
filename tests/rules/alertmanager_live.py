#!/usr/bin/env python3
"""Grouping and inhibition of alertmanager/alertmanager.yml, on a live
Alertmanager (amtool cannot evaluate inhibit_rules or show groups).

Starts `prometheus-alertmanager` on a free loopback port with a copy of the
config whose secret files point at temp files and whose PagerDuty/Slack URLs
point at a closed local port (nothing leaves the machine), posts alerts
through the v2 API, and checks /api/v2/alerts (inhibitedBy) and
/api/v2/alerts/groups. Usage: alertmanager_live.py ROOT TMPDIR
Prints "PASS/FAIL <case>" lines and "live: N passed, M failed".
"""
import json, os, socket, subprocess, sys, time, urllib.request
import yaml

root, tmp = sys.argv[1], sys.argv[2]
secrets = os.path.join(tmp, "secrets")
os.makedirs(secrets, exist_ok=True)
with open(os.path.join(secrets, "pagerduty-routing-key"), "w") as f:
    f.write("test-routing-key\n")
with open(os.path.join(secrets, "slack-webhook-url"), "w") as f:
    f.write("http://127.0.0.1:9/slack\n")
with open(os.path.join(root, "alertmanager/alertmanager.yml")) as f:
    text = f.read()
text = text.replace("/etc/alertmanager/secrets", secrets)
cfg = yaml.safe_load(text)
cfg.setdefault("global", {})["pagerduty_url"] = "http://127.0.0.1:9/pagerduty"
conf = os.path.join(tmp, "alertmanager-live.yml")
with open(conf, "w") as f:
    yaml.safe_dump(cfg, f)

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
base = f"http://127.0.0.1:{port}"
log = open(os.path.join(tmp, "alertmanager.log"), "w")
proc = subprocess.Popen(
    ["prometheus-alertmanager", f"--config.file={conf}", f"--storage.path={tmp}/am-data",
     f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
    stdout=log, stderr=subprocess.STDOUT)

passed, failed = 0, 0


def case(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS live: {name}")
    else:
        failed += 1
        print(f"FAIL live: {name} {detail}")


def get(path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.load(r)


try:
    ready = False
    for _ in range(100):
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(base + "/-/ready", timeout=1)
            ready = True
            break
        except Exception:
            time.sleep(0.1)
    case(ready, "alertmanager starts with the config (secret files present)")
    if not ready:
        raise SystemExit

    J = {"job": "ai-quality-exporter"}
    alerts = [
        # exporter e1 is down: its model alerts (any severity) are inhibited
        dict(J, alertname="AIQExporterDown", severity="critical", instance="e1:9477"),
        dict(J, alertname="AIQHighErrorRate", severity="warning", instance="e1:9477", model="m1"),
        dict(J, alertname="AIQSafetyViolation", severity="critical", instance="e1:9477", model="m1", category="pii"),
        # exporter e2 is up: its alerts are not touched by e1 being down
        dict(J, alertname="AIQHighErrorRate", severity="warning", instance="e2:9477", model="m2"),
        # critical inhibits warning of the same model ...
        dict(J, alertname="AIQAvailabilityBudgetBurnFast", severity="critical", instance="e2:9477", model="m3", slo="availability"),
        dict(J, alertname="AIQAvailabilityBudgetBurnSlow", severity="warning", instance="e2:9477", model="m3", slo="availability"),
        # ... but not of another model, nor model-less warnings
        dict(J, alertname="AIQLowConfidence", severity="warning", instance="e2:9477", model="m4", version="v1"),
        dict(J, alertname="AIQEventsRejected", severity="warning", instance="e2:9477", kind="prediction"),
        # grouping: two features of m5 -> one group; m6 -> its own group
        dict(J, alertname="AIQFeatureDrift", severity="warning", instance="e2:9477", model="m5", version="v1", feature="age"),
        dict(J, alertname="AIQFeatureDrift", severity="warning", instance="e2:9477", model="m5", version="v1", feature="income"),
        dict(J, alertname="AIQFeatureDrift", severity="warning", instance="e2:9477", model="m6", version="v1", feature="age"),
        dict(J, alertname="AIQConceptDriftWarningLevel", severity="info", instance="e2:9477", model="m5", version="v1", detector="ddm"),
        # durable state: exporter down inhibits its state alerts too
        dict(J, alertname="AIQStateCheckpointFailing", severity="warning", instance="e1:9477"),
        # e3 refuses ingest: its disk-low and write-error warnings are
        # inhibited, its checkpoint warning and e4's disk-low are not
        dict(J, alertname="AIQStateIngestRefused", severity="critical", instance="e3:9477"),
        dict(J, alertname="AIQStateDiskLow", severity="warning", instance="e3:9477"),
        dict(J, alertname="AIQStateWriteErrors", severity="warning", instance="e3:9477"),
        dict(J, alertname="AIQStateCheckpointFailing", severity="warning", instance="e3:9477"),
        dict(J, alertname="AIQStateDiskLow", severity="warning", instance="e4:9477"),
    ]
    body = json.dumps([{"labels": a, "annotations": {"summary": "test"}} for a in alerts]).encode()
    req = urllib.request.Request(base + "/api/v2/alerts", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()
    time.sleep(1)

    got = get("/api/v2/alerts")
    def find(**labels):
        for a in got:
            if all(a["labels"].get(k) == v for k, v in labels.items()):
                return a
        return None
    def inhibited(**labels):
        a = find(**labels)
        return a is not None and bool(a["status"]["inhibitedBy"])
    case(len(got) == len(alerts), "all alerts accepted", f"{len(got)} of {len(alerts)}")
    case(not inhibited(alertname="AIQExporterDown"), "AIQExporterDown itself is not inhibited")
    case(inhibited(alertname="AIQHighErrorRate", instance="e1:9477"), "exporter down inhibits its warning")
    case(inhibited(alertname="AIQSafetyViolation", instance="e1:9477"), "exporter down inhibits its critical")
    case(not inhibited(alertname="AIQHighErrorRate", instance="e2:9477"), "exporter down spares other exporters")
    case(inhibited(alertname="AIQAvailabilityBudgetBurnSlow", model="m3"), "critical inhibits warning of the same model")
    case(not inhibited(alertname="AIQAvailabilityBudgetBurnFast", model="m3"), "the critical itself is not inhibited")
    case(not inhibited(alertname="AIQLowConfidence", model="m4"), "critical spares warnings of other models")
    case(not inhibited(alertname="AIQEventsRejected"), "model-less warning not inhibited by a model's critical")
    case(inhibited(alertname="AIQStateCheckpointFailing", instance="e1:9477"), "exporter down inhibits its state alerts")
    case(not inhibited(alertname="AIQStateIngestRefused", instance="e3:9477"), "ingest refused itself is not inhibited")
    case(inhibited(alertname="AIQStateDiskLow", instance="e3:9477"), "ingest refused inhibits disk low of the same exporter")
    case(inhibited(alertname="AIQStateWriteErrors", instance="e3:9477"), "ingest refused inhibits write errors of the same exporter")
    case(not inhibited(alertname="AIQStateCheckpointFailing", instance="e3:9477"), "ingest refused spares the checkpoint warning")
    case(not inhibited(alertname="AIQStateDiskLow", instance="e4:9477"), "ingest refused spares other exporters")

    groups = get("/api/v2/alerts/groups")
    def group(**labels):
        return [g for g in groups if g["labels"] == labels]
    g5 = group(alertname="AIQFeatureDrift", model="m5")
    case(len(g5) == 1 and len(g5[0]["alerts"]) == 2 and g5[0]["receiver"]["name"] == "slack",
         "two drifted features of one model form one slack group", json.dumps(g5)[:300])
    g6 = group(alertname="AIQFeatureDrift", model="m6")
    case(len(g6) == 1 and len(g6[0]["alerts"]) == 1, "another model is another group")
    gp = group(alertname="AIQAvailabilityBudgetBurnFast", model="m3")
    case(len(gp) == 1 and gp[0]["receiver"]["name"] == "pagerduty", "critical group goes to pagerduty")
    gi = group(alertname="AIQConceptDriftWarningLevel", model="m5")
    case(len(gi) == 1 and gi[0]["receiver"]["name"] == "null", "info group goes to null")
    gx = group(alertname="AIQExporterDown")
    case(len(gx) == 1 and gx[0]["receiver"]["name"] == "pagerduty", "model-less alert grouped by alertname")
finally:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()

print(f"live: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
