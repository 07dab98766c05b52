#!/usr/bin/env python3
"""Static checks on the rule/alert catalogue that promtool cannot do.

Prints one line per failed check ("FAIL ...") and a summary line
"catalogue: N checks, M failed"; exit status 1 if any failed.

- every alert: name AIQ<CamelCase>, `for:` set, severity critical|warning|info,
  summary/description/runbook_url, description mentions the model (or the
  instance for exporter alerts) and the value, runbook_url ends in
  docs/runbooks/<alert>.md and that file exists;
- every alert has a promtool test with a firing case and a not-firing case
  (an alert_rule_test with empty exp_alerts);
- every recording rule name is asserted by some promql_expr_test and follows
  level:metric:operations;
- the latency SLO threshold rules have value == float(le);
- Alertmanager groups by [alertname, model];
- docs/alerting.md mentions every alert;
- every aiq_* metric an alert or recording rule queries is in docs/metrics.md
  (histograms with their _bucket/_sum/_count series), whose tables the C++
  test CatalogueTest.MatchesDocsMetricsMd checks against the exporter's
  metric catalogue (exporter/metrics/catalogue.h).
"""
import glob, os, re, sys
import yaml

root = sys.argv[1]
failed = []
checks = 0


def check(ok, msg):
    global checks
    checks += 1
    if not ok:
        failed.append(msg)


def load(p):
    with open(p) as f:
        return yaml.safe_load(f)


alerts, records = {}, []
for p in sorted(glob.glob(f"{root}/alerts/*.yml")):
    for g in load(p)["groups"]:
        for r in g["rules"]:
            check("alert" in r, f"{p}: recording rule {r.get('record')} in alerts/")
            if "alert" in r:
                alerts[r["alert"]] = r
rule_docs = {}
for p in sorted(glob.glob(f"{root}/prometheus/rules/*.yml")):
    for g in load(p)["groups"]:
        for r in g["rules"]:
            check("record" in r, f"{p}: alert {r.get('alert')} in prometheus/rules/")
            if "record" in r:
                records.append(r)

# --- alerts ----------------------------------------------------------------
runbook_base = "https://github.com/ai-quality-exporter/ai-quality-exporter/blob/main/docs/runbooks/"
for name, r in alerts.items():
    check(re.fullmatch(r"AIQ([A-Z][a-z0-9]*|SLO)+", name) is not None, f"{name}: not AIQ<CamelCase>")
    check("for" in r, f"{name}: no for:")
    sev = r.get("labels", {}).get("severity")
    check(sev in ("critical", "warning", "info"), f"{name}: severity {sev!r}")
    ann = r.get("annotations", {})
    for k in ("summary", "description", "runbook_url"):
        check(bool(ann.get(k)), f"{name}: annotation {k} missing")
    d = ann.get("description", "")
    check("$labels.model" in d or "$labels.instance" in d or "$labels.job" in d,
          f"{name}: description names neither model nor instance")
    check("$value" in d, f"{name}: description does not show $value")
    check(ann.get("runbook_url") == f"{runbook_base}{name}.md", f"{name}: runbook_url {ann.get('runbook_url')}")
    rb = f"{root}/docs/runbooks/{name}.md"
    check(os.path.isfile(rb), f"{name}: {rb} missing")
    if os.path.isfile(rb):
        text = open(rb).read()
        for section in ("## What it means", "## First checks", "## Likely causes", "## Mitigation", "## Escalation"):
            check(section in text, f"{name}: runbook lacks '{section}'")
        check("/d/aiq-" in text, f"{name}: runbook links no dashboard")

# --- tests -----------------------------------------------------------------
fires, silent, asserted = set(), set(), set()
for p in glob.glob(f"{root}/alerts/tests/*.yml") + glob.glob(f"{root}/prometheus/rules/tests/*.yml"):
    for t in load(p).get("tests", []):
        for a in t.get("alert_rule_test", []) or []:
            (fires if a.get("exp_alerts") else silent).add(a["alertname"])
        for e in t.get("promql_expr_test", []) or []:
            asserted.update(re.findall(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", e["expr"]))
for name in alerts:
    check(name in fires, f"{name}: no test where it fires")
    check(name in silent, f"{name}: no test where it must not fire")
for r in records:
    n = r["record"]
    check(re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", n) is not None, f"{n}: not level:metric:operations")
    check(n in asserted, f"{n}: no promql_expr_test asserts it")
    if n.startswith("aiq:slo_latency_threshold:"):
        m = re.fullmatch(r"vector\(([0-9.eE+-]+)\)", r["expr"].strip())
        le = r.get("labels", {}).get("le")
        check(m is not None and le is not None and float(m.group(1)) == float(le),
              f"{n} {r.get('labels')}: value {r['expr']} != le {le}")

# --- alertmanager & docs -----------------------------------------------------
am = load(f"{root}/alertmanager/alertmanager.yml")
check(am["route"].get("group_by") == ["alertname", "model"], f"alertmanager: group_by {am['route'].get('group_by')}")
doc = open(f"{root}/docs/alerting.md").read() if os.path.isfile(f"{root}/docs/alerting.md") else ""
for name in alerts:
    check(name in doc, f"{name}: not in docs/alerting.md")

# --- rules vs the metric catalogue ---------------------------------------------
documented = set()
metrics_md = f"{root}/docs/metrics.md"
for line in open(metrics_md).read().splitlines() if os.path.isfile(metrics_md) else []:
    if not line.startswith("|"):
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 2:
        continue
    for name in re.findall(r"`(aiq_[a-z0-9_]+)`", cells[0]):
        documented.add(name)
        if cells[1].startswith("histogram"):
            documented.update(name + s for s in ("_bucket", "_sum", "_count"))
check(len(documented) > 0, f"{metrics_md}: no metrics found")
for r in list(alerts.values()) + records:
    rule = r.get("alert") or r.get("record")
    for name in sorted(set(re.findall(r"(?<![\w:])aiq_[a-z0-9_]+", str(r.get("expr", ""))))):
        check(name in documented, f"{rule}: queries {name}, which docs/metrics.md does not list")

for f in failed:
    print("FAIL", f)
print(f"catalogue: {len(alerts)} alerts, {len(records)} recording rules, {checks} checks, {len(failed)} failed")
sys.exit(1 if failed else 0)
