#!/usr/bin/python3
"""Static checks of the Grafana dashboards and their provisioning.

    check_dashboards.py [ROOT]                       run the checks
    check_dashboards.py [ROOT] --list-exprs [--var NAME=VALUE ...]
                                                     print every PromQL expr

ROOT is the repository (default: two levels above this script). Standard
library plus PyYAML (the rule files are read by grafana/rules.py, shared with
grafana/generate.py); run with /usr/bin/python3. CTest: `dashboards_static`.

Checks, per dashboard file unless noted (docs/dashboards.md "Static checks"):
  json            valid JSON
  meta            uid (the expected one, unique), title, schemaVersion >= 36
  generated       equals grafana/generate.py's output (when the script exists)
  panel-ids       unique panel ids (rows and nested panels included)
  grid            gridPos present, inside 24 columns, no two panels overlap
  datasources     every datasource reference is a provisioned uid or a
                  defined datasource variable; every query has one
  variables       model/version/feature: label_values on the provisioned
                  datasource, multi, include All, refresh 2; every $var used
                  (exprs, legends, titles, links) is defined or a builtin
  regex-safe      every $var in an expr is used as label=~"$var" / !~
  units           every panel has fieldConfig.defaults.unit
  descriptions    every panel has a description
  metrics         every metric in an expr is in docs/metrics.md, a recording
                  rule in prometheus/rules/, or standard (up, ALERTS,
                  scrape_*, process_*, prometheus_*)
  labels          label matchers on documented metrics use documented labels
                  (+ job, instance; le on _bucket)
  rate-interval   every rate/irate/increase range is [$__rate_interval]
  heatmap         heatmap panels query with format "heatmap"
  thresholds      a panel that plots an alerted series (alerts/*.yml:
                  `series op number`) directly has that number among its
                  thresholds; (global) every such alert threshold is shown
  annotations     an annotation query ALERTS{alertstate="firing"} on the
                  provisioned Prometheus
  links           dashboard links to the three others; data links point to
                  existing dashboards and variables
  drill-down      (global) Executive -> Model quality with var-model;
                  Model quality -> feature with var-model and var-feature
  content         the panels the product brief asks for (required series)
  docs            (global) docs/dashboards.md names every panel title
  provisioning    (global) datasources.yml and dashboards.yml
  promql-syntax   (global, when promtool is installed) every expr parses
                  (`promtool check rules` on a temporary rules file)

The last line is `N passed, M failed`; the exit status is 1 on a failure.

--list-exprs prints one line per query: uid<TAB>panel title<TAB>expr, with
newlines folded, $__rate_interval / $__interval -> 1m, $__range -> 1h and
template variables -> `.*` (override with --var model=churn-classifier).
Annotation queries are listed with the title "[annotation] <name>".
"""

import importlib.util
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

EXPECTED = {
    "executive.json": "aiq-executive",
    "operations.json": "aiq-operations",
    "model-quality.json": "aiq-model-quality",
    "llm.json": "aiq-llm",
}
REQUIRED_VARS = {
    "aiq-executive": ["model"],
    "aiq-operations": ["model", "version"],
    "aiq-model-quality": ["model", "version", "feature"],
    "aiq-llm": ["model", "version"],
}
# The product brief's panels, as the series each dashboard must query.
REQUIRED_SERIES = {
    "aiq-executive": [
        "model:aiq_health:score", "model:aiq_health:band",
        "model:aiq_health_component:score",
        "model:aiq_slo_availability:error_ratio_rate1h",
        "model:aiq_quality:drop_vs_baseline", "model:aiq_feedback_score:avg_rate1h",
        "model:aiq_cost:increase1d", "model:aiq_cost_per_prediction:ratio_rate1h",
        "aiq_outcome_value_total", "ALERTS"],
    "aiq-operations": [
        "aiq_predictions_total", "model:aiq_prediction_errors:ratio_rate5m",
        "aiq_prediction_errors_total",
        "model:aiq_prediction_latency_seconds:p50_rate5m",
        "model:aiq_prediction_latency_seconds:p95_rate5m",
        "model:aiq_prediction_latency_seconds:p99_rate5m",
        "model:aiq_prediction_latency_seconds_bucket:rate5m",
        "model:aiq_slo_availability:error_ratio_rate1h", "model:aiq_slo_objective:ratio",
        "ALERTS", "up", "aiq_exporter_scrape_duration_seconds",
        "aiq_exporter_events_rejected_total", "aiq_exporter_http_requests_total",
        "process_cpu_seconds_total", "process_resident_memory_bytes",
        "aiq_exporter_build_info"],
    "aiq-model-quality": [
        "aiq_accuracy", "aiq_baseline_accuracy", "aiq_f1", "aiq_baseline_f1",
        "aiq_precision", "aiq_recall", "aiq_class_f1",
        "model_version:aiq_quality:drop_vs_baseline",
        "aiq_mae", "aiq_baseline_mae", "aiq_rmse", "aiq_r2", "aiq_mape",
        "aiq_drift_score", "aiq_drift_p_value", "aiq_feature_drifted",
        "aiq_drifted_features_ratio", "aiq_dataset_drift",
        "aiq_prediction_drift_score", "aiq_prediction_drifted",
        "aiq_reconstruction_error", "aiq_reconstruction_error_upper_threshold",
        "aiq_feature_missing_ratio", "aiq_feature_new_category_ratio",
        "aiq_feature_out_of_range_ratio", "aiq_feature_type_errors_total",
        "aiq_concept_drift_detections_total", "aiq_concept_drift_warning",
        "aiq_segment_accuracy", "aiq_segment_positive_rate", "aiq_segment_tpr",
        "aiq_demographic_parity_difference", "aiq_equal_opportunity_difference",
        "aiq_expected_calibration_error", "aiq_brier_score",
        "aiq_estimated_accuracy", "aiq_confidence_bucket", "aiq_low_confidence_ratio",
        "aiq_labels_total", "aiq_labels_unmatched_total",
        "aiq_label_delay_seconds_bucket", "aiq_join_pending",
        "aiq_join_evicted_total", "aiq_window_samples"],
    "aiq-llm": [
        "aiq_tokens_total", "aiq_token_budget", "aiq_cost_budget",
        "model:aiq_token_budget:usage_ratio1d", "model:aiq_cost_budget:usage_ratio1d",
        "model:aiq_cost_per_prediction:ratio_rate1h", "aiq_feedback_score_bucket",
        "model:aiq_feedback_score:avg_rate1h", "aiq_safety_violations_total",
        "aiq_review_samples_total",
        "model_evaluator:aiq_evaluation_score:avg_rate1h",
        "model_evaluator:aiq_evaluation_score:avg_rate7d_offset1d",
        "model_evaluator:aiq_evaluation_score:drop_vs_baseline",
        "model_evaluator:aiq_evaluation_score_count:increase1h",
        "model_evaluator:aiq_evaluations:rate5m", "aiq_evaluations_total",
        "aiq_evaluation_score_bucket",
        "model:aiq_time_to_first_token_seconds:p50_rate5m",
        "model:aiq_time_to_first_token_seconds:p95_rate5m",
        "model:aiq_time_to_first_token_seconds:p99_rate5m",
        "model:aiq_ttft_p95_threshold:seconds",
        "model:aiq_time_per_output_token_seconds:p50_rate5m",
        "model:aiq_time_per_output_token_seconds:p95_rate5m"],
}
HEALTH_BANDS = ["excellent", "good", "fair", "poor", "critical"]
STANDARD_METRICS = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds",
                    "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                    "scrape_series_added"}
STANDARD_PREFIXES = ("process_", "prometheus_")
ALWAYS_LABELS = {"job", "instance"}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
                   "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"}
AGGREGATIONS = {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar"}

VAR_RE = re.compile(r"\$\{([A-Za-z_][\w]*)(?:[.:][^}]*)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]")


# --- results -------------------------------------------------------------------

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for p in problems[:40]:
                print("     - %s" % p)
            if len(problems) > 40:
                print("     - ... %d more" % (len(problems) - 40))
        else:
            self.passed += 1
            print("ok   %s" % name)


# --- repository inputs -----------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strip_parens(text):
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\([^()]*\)", "", text)
    return text


def documented_metrics(root):
    """{series name: set of labels or None (unknown)} from docs/metrics.md."""
    out = {}
    for line in read(os.path.join(root, "docs", "metrics.md")).splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        names = re.findall(r"`((?:aiq|process)_[a-z0-9_]+)`", cells[0])
        if not names:
            continue
        kind = cells[1]
        labels = set()
        if len(cells) > 2:
            text = strip_parens(cells[2]).split(":", 1)[0]
            for part in re.split(r"[,;+]", text):
                m = re.match(r"\s*([a-z_]+)\b", part)
                if m:
                    labels.add(m.group(1))
        for name in names:
            if name.startswith("process_"):
                out[name] = None
                continue
            out[name] = set(labels)
            if "histogram" in kind:
                out[name + "_bucket"] = set(labels) | {"le"}
                out[name + "_sum"] = set(labels)
                out[name + "_count"] = set(labels)
    return out


def load_rule_reader(root):
    """grafana/rules.py: the one reader of the shipped rule files, shared with
    grafana/generate.py."""
    spec = importlib.util.spec_from_file_location(
        "aiq_grafana_rules", os.path.join(root, "grafana", "rules.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def recording_rules(root):
    return set(load_rule_reader(root).load_rules(
        os.path.join(root, "prometheus", "rules"), "record"))


def alert_thresholds(root):
    """[(alert, series, op, value)] for `series op number` with number != 0."""
    reader = load_rule_reader(root)
    out = []
    for alert, rules in sorted(reader.load_rules(os.path.join(root, "alerts"), "alert").items()):
        for expr, _ in rules:
            for series, op, value in reader.series_comparisons(expr):
                if series in PROMQL_KEYWORDS or value == 0:
                    continue
                out.append((alert, series, op, value))
    return out


def provisioning(root):
    """(datasources [{key: value}], dashboard provider text)."""
    text = read(os.path.join(root, "grafana", "provisioning", "datasources", "datasources.yml"))
    sources = []
    body = text.split("\ndatasources:", 1)[1] if "\ndatasources:" in text else ""
    for chunk in re.split(r"\n\s*-\s+(?=name:)", "\n" + body)[1:]:
        entry = {}
        for line in chunk.splitlines():
            line = line.split("#", 1)[0] if not line.strip().startswith("url") else line
            m = re.match(r"^\s*(?:-\s*)?([A-Za-z_]+):\s*(.+?)\s*$", line)
            if m:
                entry.setdefault(m.group(1), m.group(2).strip("'\""))
        sources.append(entry)
    providers = read(os.path.join(root, "grafana", "provisioning", "dashboards", "dashboards.yml"))
    return sources, providers


# --- dashboard walking -------------------------------------------------------------

def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def data_panels(dash):
    return [p for p in all_panels(dash) if p.get("type") != "row"]


def targets_of(panel):
    return [t for t in panel.get("targets", []) or [] if isinstance(t, dict)]


def variable_queries(dash):
    """[("variable NAME", PromQL selector)] of label_values(...) variable queries."""
    out = []
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        for text in sorted({q or "", v.get("definition") or ""}):
            m = re.match(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", text, re.S)
            if m:
                out.append(("variable " + str(v.get("name")), m.group(1)))
    return out


def exprs_of(dash):
    """[(panel title, expr)] for panel targets and annotations."""
    out = []
    for p in data_panels(dash):
        for t in targets_of(p):
            if t.get("expr"):
                out.append((p.get("title", ""), t["expr"]))
    for a in dash.get("annotations", {}).get("list", []):
        expr = a.get("expr") or (a.get("target") or {}).get("expr")
        if expr:
            out.append(("[annotation] " + a.get("name", ""), expr))
    return out


def walk(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path + "/" + k, k, v
            yield from walk(v, path + "/" + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, "%s[%d]" % (path, i))


def var_names(text):
    for m in VAR_RE.finditer(text):
        yield m.group(1) or m.group(2) or m.group(3)


def defined_vars(dash):
    return {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}


def all_links(dash):
    """Every data link / panel link {title, url} in the dashboard."""
    out = []
    for path, key, value in walk(dash.get("panels", [])):
        if key == "links" and isinstance(value, list):
            out.extend(l for l in value if isinstance(l, dict) and "url" in l)
    return out


# --- PromQL helpers --------------------------------------------------------------

def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def selectors(expr):
    """[(metric, matcher text)] for every `metric{...}`."""
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"(?<![\w:])([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", expr)]


def metric_names(expr):
    e = strip_strings(expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" ", e)
    e = re.sub(r"\boffset\s+\S+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:$])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def direct_series(expr):
    """The series an expr plots unchanged (modulo aggregation), else None."""
    e = strip_strings(expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\b(by|without)\s*\([^)]*\)", "", e).strip()
    changed = True
    while changed:
        changed = False
        m = re.match(r"^(?:(%s)\s*)?\((.*)\)$" % "|".join(AGGREGATIONS), e, re.S)
        if m and balanced(m.group(2)):
            e = m.group(2).strip()
            changed = True
    return e if re.match(r"^[a-zA-Z_:][\w:]*$", e) else None


def balanced(text):
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def range_functions(expr):
    """[(function, range text)] for rate/irate/increase calls."""
    out = []
    e = strip_strings(expr)
    for m in re.finditer(r"\b(rate|irate|increase)\s*\(", e):
        depth, j = 1, m.end()
        while j < len(e) and depth:
            depth += e[j] == "("
            depth -= e[j] == ")"
            j += 1
        ranges = re.findall(r"\[([^\]]*)\]", e[m.end():j - 1]) or [""]
        for r in ranges:
            out.append((m.group(1), r))
    return out


def substitute(expr, values):
    e = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
    e = e.replace("$__interval", "1m").replace("${__interval}", "1m")
    e = e.replace("$__range", "1h").replace("${__range}", "1h")

    def var(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, ".*")
    e = VAR_RE.sub(var, e)
    return " ".join(e.split())


# --- checks ----------------------------------------------------------------------

def check_meta(fn, dash, seen_uids):
    p = []
    uid = dash.get("uid")
    if not uid:
        p.append("no uid")
    elif uid != EXPECTED.get(fn):
        p.append("uid %r, expected %r" % (uid, EXPECTED.get(fn)))
    if uid in seen_uids:
        p.append("uid %r also in %s" % (uid, seen_uids[uid]))
    seen_uids[uid] = fn
    if not dash.get("title"):
        p.append("no title")
    sv = dash.get("schemaVersion")
    if not isinstance(sv, int) or sv < 36:
        p.append("schemaVersion %r (want an int >= 36)" % sv)
    if dash.get("id") not in (None,):
        p.append("dashboard `id` must be null/absent for provisioning")
    return p


def check_panel_ids(dash):
    ids, p = {}, []
    for panel in all_panels(dash):
        i = panel.get("id")
        if not isinstance(i, int):
            p.append("panel %r has no integer id" % panel.get("title"))
        elif i in ids:
            p.append("id %d used by %r and %r" % (i, ids[i], panel.get("title")))
        else:
            ids[i] = panel.get("title")
    return p


def check_grid(dash):
    p, boxes = [], []
    for panel in dash.get("panels", []):
        g = panel.get("gridPos")
        title = panel.get("title")
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in "xywh"):
            p.append("%r: gridPos missing or not integers" % title)
            continue
        if g["x"] < 0 or g["y"] < 0 or g["w"] < 1 or g["h"] < 1 or g["x"] + g["w"] > 24:
            p.append("%r: gridPos %r outside the 24-column grid" % (title, g))
        for other_title, o in boxes:
            if (g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and
                    g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]):
                p.append("%r %r overlaps %r %r" % (title, g, other_title, o))
        boxes.append((title, g))
    return p


def check_datasources(dash, uids):
    p = []
    dvars = {n for n, v in defined_vars(dash).items() if v.get("type") == "datasource"}

    def ok(ref):
        uid = ref.get("uid") if isinstance(ref, dict) else ref
        if not isinstance(uid, str):
            return False
        names = list(var_names(uid))
        if names:
            return all(n in dvars for n in names)
        return uid in uids
    for path, key, value in walk(dash):
        if key == "datasource" and value is not None and not ok(value):
            p.append("%s: %r is not a provisioned uid %s or a datasource variable"
                     % (path, value, sorted(uids)))
    for panel in data_panels(dash):
        for t in targets_of(panel):
            if not (t.get("datasource") or panel.get("datasource")):
                p.append("%r target %s has no datasource" % (panel.get("title"), t.get("refId")))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query" and not v.get("datasource"):
            p.append("variable %s has no datasource" % v.get("name"))
    return p


BUILTIN_VARS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                "__range_ms", "__field", "__data", "__value", "__series",
                "__url_time_range", "__all_variables", "__from", "__to",
                "__dashboard", "__org", "__user", "__timeFilter", "__name",
                "__cell", "__timezone"}


def check_variables(dash, uids):
    p = []
    defined = defined_vars(dash)
    for name in REQUIRED_VARS.get(dash.get("uid"), []):
        v = defined.get(name)
        if not v:
            p.append("variable %s missing" % name)
            continue
        q = v.get("query")
        qtext = q.get("query") if isinstance(q, dict) else q
        if v.get("type") != "query" or not re.match(r"^label_values\(.*,\s*%s\)$" % name, qtext or ""):
            p.append("variable %s: want a label_values(..., %s) query, got %r" % (name, name, qtext))
        ds = v.get("datasource") or {}
        if (ds.get("uid") if isinstance(ds, dict) else ds) not in uids:
            p.append("variable %s: datasource %r is not provisioned" % (name, ds))
        if v.get("refresh") != 2:
            p.append("variable %s: refresh %r (want 2, on time range change)" % (name, v.get("refresh")))
        if v.get("multi") is not True or v.get("includeAll") is not True:
            p.append("variable %s: want multi and includeAll" % name)
    used = []
    for title, expr in exprs_of(dash):
        used += [(n, "expr of %r" % title) for n in var_names(expr)]
    for path, key, value in walk(dash):
        if key in ("legendFormat", "title", "url", "textFormat", "titleFormat", "description") \
                and isinstance(value, str):
            used += [(n, path) for n in var_names(value)]
        if key == "query" and isinstance(value, str) and "/templating" in path:
            used += [(n, path) for n in var_names(value)]
        if key == "definition" and isinstance(value, str):
            used += [(n, path) for n in var_names(value)]
    for name, where in used:
        if name.startswith("__") or name in BUILTIN_VARS:
            continue
        if name not in defined:
            p.append("$%s used in %s is not defined" % (name, where))
    return p


def check_regex_safe(dash):
    p = []
    for title, expr in exprs_of(dash) + variable_queries(dash):
        for m in VAR_RE.finditer(expr):
            name = m.group(1) or m.group(2) or m.group(3)
            if name.startswith("__"):
                continue
            before = expr[:m.start()]
            if not re.search(r'[\w]+\s*(=~|!~)\s*"[^"]*$', before) or \
                    not re.match(r'[^"]*"', expr[m.end():]):
                p.append('%r: $%s is not used as label=~"$%s"' % (title, name, name))
    return p


def check_units_descriptions(dash):
    units, descs = [], []
    for panel in data_panels(dash):
        unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not isinstance(unit, str) or not unit.strip():
            units.append("%r has no fieldConfig.defaults.unit" % panel.get("title"))
        d = panel.get("description")
        if not isinstance(d, str) or len(d.strip()) < 10:
            descs.append("%r has no description" % panel.get("title"))
    return units, descs


def check_metrics_and_labels(dash, documented, rules):
    mp, lp = [], []
    for title, expr in exprs_of(dash) + variable_queries(dash):
        for name in sorted(metric_names(expr)):
            if name in documented or name in rules or name in STANDARD_METRICS \
                    or name.startswith(STANDARD_PREFIXES):
                continue
            mp.append("%r: metric %s is not in docs/metrics.md, prometheus/rules or standard"
                      % (title, name))
        for metric, matchers in selectors(strip_strings_keep_matchers(expr)):
            labels = documented.get(metric)
            if labels is None:
                continue
            for lm in re.finditer(r"([a-zA-Z_]\w*)\s*(=~|!~|!=|=)", matchers):
                label = lm.group(1)
                if label not in labels and label not in ALWAYS_LABELS:
                    lp.append("%r: %s has no label %r (docs/metrics.md: %s)"
                              % (title, metric, label, ", ".join(sorted(labels)) or "none"))
    return mp, lp


def strip_strings_keep_matchers(expr):
    # Matcher values may contain `}` only inside strings; blank the strings
    # but keep the braces.
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def check_rate_interval(dash):
    p = []
    for title, expr in exprs_of(dash):
        for fn, rng in range_functions(expr):
            if rng.strip() not in ("$__rate_interval", "${__rate_interval}"):
                p.append("%r: %s(...[%s]) -- use [$__rate_interval] (longer windows: "
                         "a recording rule)" % (title, fn, rng))
    return p


def check_heatmaps(dash):
    p = []
    for panel in data_panels(dash):
        if panel.get("type") == "heatmap":
            for t in targets_of(panel):
                if t.get("format") != "heatmap":
                    p.append("%r target %s: format %r, want heatmap"
                             % (panel.get("title"), t.get("refId"), t.get("format")))
                if "_bucket" not in t.get("expr", ""):
                    p.append("%r target %s does not query a _bucket series"
                             % (panel.get("title"), t.get("refId")))
    return p


def threshold_values(panel):
    vals = []
    fc = panel.get("fieldConfig") or {}
    blocks = [(fc.get("defaults") or {}).get("thresholds")]
    for o in fc.get("overrides", []) or []:
        for prop in o.get("properties", []):
            if prop.get("id") == "thresholds":
                blocks.append(prop.get("value"))
    for b in blocks:
        for s in (b or {}).get("steps", []) or []:
            if isinstance(s.get("value"), (int, float)):
                vals.append(float(s["value"]))
    return vals


def has_value(values, v):
    return any(math.isclose(x, v, rel_tol=1e-9, abs_tol=1e-12) for x in values)


def check_thresholds(dash, alert_pairs, shown):
    p = []
    for panel in data_panels(dash):
        plotted = {direct_series(t.get("expr", "")) for t in targets_of(panel)} - {None}
        values = threshold_values(panel)
        for alert, series, op, value in alert_pairs:
            if series in plotted:
                if has_value(values, value):
                    shown.add((alert, series, value))
                else:
                    p.append("%r plots %s but has no threshold at %g (%s: %s %s %g); thresholds %s"
                             % (panel.get("title"), series, value, alert, series, op, value, values))
    return p


def check_annotations(dash, prom_uid):
    for a in dash.get("annotations", {}).get("list", []):
        expr = a.get("expr") or (a.get("target") or {}).get("expr") or ""
        ds = a.get("datasource") or {}
        if re.sub(r"\s", "", expr) == 'ALERTS{alertstate="firing"}' and \
                (ds.get("uid") if isinstance(ds, dict) else ds) == prom_uid and a.get("enable", True):
            return []
    return ['no enabled annotation ALERTS{alertstate="firing"} on datasource %s' % prom_uid]


def link_target(url):
    m = re.match(r"^/d/([\w-]+)(?:/[\w-]*)?(?:\?(.*))?$", url or "")
    if not m:
        return None, []
    params = re.findall(r"(?:^|&)var-([A-Za-z_]\w*)=", m.group(2) or "")
    return m.group(1), params


def check_links(dash, dashboards):
    p = []
    uid = dash.get("uid")
    linked = set()
    for l in dash.get("links", []):
        if l.get("type") == "link":
            t, _ = link_target(l.get("url"))
            if t:
                linked.add(t)
        elif l.get("type") == "dashboards":
            tags = set(l.get("tags") or [])
            for other in dashboards.values():
                if tags and tags <= set(other.get("tags", [])):
                    linked.add(other.get("uid"))
    for other in EXPECTED.values():
        if other != uid and other not in linked:
            p.append("no dashboard link to %s" % other)
    for l in all_links(dash):
        url = l.get("url", "")
        if not url.startswith("/d/"):
            continue
        t, params = link_target(url)
        target = next((d for d in dashboards.values() if d.get("uid") == t), None)
        if target is None:
            p.append("data link %r: no dashboard with uid %r" % (url, t))
            continue
        tvars = defined_vars(target)
        for name in params:
            if name not in tvars:
                p.append("data link %r: dashboard %s has no variable %s" % (url, t, name))
    return p


def check_drilldown(dashboards):
    p = []
    by_uid = {d.get("uid"): d for d in dashboards.values()}

    def links_from(uid, to_uid, need):
        d = by_uid.get(uid)
        if not d:
            return False
        for l in all_links(d):
            t, params = link_target(l.get("url"))
            if t == to_uid and set(need) <= set(params):
                return True
        return False
    if not links_from("aiq-executive", "aiq-model-quality", ["model"]):
        p.append("Executive has no data link to aiq-model-quality passing var-model")
    if not links_from("aiq-model-quality", "aiq-model-quality", ["model", "feature"]):
        p.append("Model quality has no feature drill-down link passing var-model and var-feature")
    return p


def check_content(dash):
    p = []
    uid = dash.get("uid")
    used = set()
    for _, expr in exprs_of(dash):
        used |= metric_names(expr)
    for series in REQUIRED_SERIES.get(uid, []):
        if series not in used:
            p.append("no panel queries %s" % series)
    if uid == "aiq-executive":
        texts = set()
        for panel in data_panels(dash):
            for path, key, value in walk(panel.get("fieldConfig", {})):
                if key == "text" and isinstance(value, str):
                    texts.add(value)
        for band in HEALTH_BANDS:
            if band not in texts:
                p.append("no value mapping to the health band %r" % band)
        if not any(str(pn.get("timeFrom", "")) == "30d" for pn in data_panels(dash)):
            p.append("no 30-day trend panel (timeFrom 30d)")
    if uid == "aiq-operations":
        if not any(pn.get("type") == "heatmap" and "aiq_prediction_latency_seconds_bucket"
                   in json.dumps(pn.get("targets")) for pn in data_panels(dash)):
            p.append("no latency heatmap")
    return p


def check_docs(root, dashboards):
    path = os.path.join(root, "docs", "dashboards.md")
    if not os.path.exists(path):
        return ["docs/dashboards.md missing"]
    text = read(path)
    p = []
    for fn, dash in dashboards.items():
        for panel in data_panels(dash):
            if panel.get("title") and panel["title"] not in text:
                p.append("%s: panel %r is not described" % (fn, panel["title"]))
        if dash.get("uid") not in text:
            p.append("%s: uid %s is not mentioned" % (fn, dash.get("uid")))
    return p


def check_provisioning(root, sources, providers):
    p = []
    by_uid = {s.get("uid"): s for s in sources}
    prom = by_uid.get("aiq-prometheus")
    if not prom:
        p.append("datasources.yml: no uid aiq-prometheus")
    else:
        if prom.get("type") != "prometheus":
            p.append("aiq-prometheus: type %r" % prom.get("type"))
        if prom.get("url") != "http://prometheus:9090":
            p.append("aiq-prometheus: url %r" % prom.get("url"))
    am = by_uid.get("aiq-alertmanager")
    if not am:
        p.append("datasources.yml: no uid aiq-alertmanager")
    else:
        if am.get("type") != "alertmanager":
            p.append("aiq-alertmanager: type %r" % am.get("type"))
        if am.get("implementation") != "prometheus":
            p.append("aiq-alertmanager: implementation %r" % am.get("implementation"))
        if am.get("url") != "http://alertmanager:9093":
            p.append("aiq-alertmanager: url %r" % am.get("url"))
    if not re.search(r"^\s*type:\s*file\s*$", providers, re.M):
        p.append("dashboards.yml: no file provider")
    if not re.search(r"^\s*path:\s*/var/lib/grafana/dashboards\s*$", providers, re.M):
        p.append("dashboards.yml: provider path is not /var/lib/grafana/dashboards")
    return p


def check_generated(root, files):
    gen = os.path.join(root, "grafana", "generate.py")
    if not os.path.exists(gen):
        return None
    spec = importlib.util.spec_from_file_location("aiq_grafana_generate", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build()
    p = []
    for name, dash in built.items():
        text = mod.render(dash)
        if files.get(name) != text:
            p.append("grafana/dashboards/%s differs from grafana/generate.py's output "
                     "(run /usr/bin/python3 grafana/generate.py)" % name)
    for name in files:
        if name not in built:
            p.append("grafana/dashboards/%s is not generated by grafana/generate.py" % name)
    return p


def check_promql_syntax(dashboards):
    promtool = shutil.which("promtool")
    if not promtool:
        return None
    exprs = []
    for fn, dash in sorted(dashboards.items()):
        for title, expr in exprs_of(dash):
            exprs.append(("%s: %s" % (dash.get("uid"), title), substitute(expr, {})))

    def run(items):
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write("groups:\n  - name: dashboard-exprs\n    rules:\n")
            for i, (_, e) in enumerate(items):
                f.write("      - record: aiq_dashboard_expr_%d\n        expr: %s\n" % (i, json.dumps(e)))
            path = f.name
        try:
            r = subprocess.run([promtool, "check", "rules", path], capture_output=True,
                               text=True, timeout=120)
        finally:
            os.unlink(path)
        return r.returncode == 0, (r.stdout + r.stderr).strip()
    ok, _ = run(exprs)
    if ok:
        return []
    p = []
    for where, e in exprs:
        ok, out = run([(where, e)])
        if not ok:
            p.append("%s: %s -- %s" % (where, e, out.splitlines()[-1] if out else "?"))
    return p or ["promtool check rules failed on the combined file"]


# --- main ------------------------------------------------------------------------

def load(root):
    d = os.path.join(root, "grafana", "dashboards")
    files, dashboards, errors = {}, {}, {}
    for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if fn.endswith(".json"):
            files[fn] = read(os.path.join(d, fn))
            try:
                dashboards[fn] = json.loads(files[fn])
            except ValueError as e:
                errors[fn] = str(e)
    return files, dashboards, errors


def list_exprs(root, argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is fine
    values = {}
    i = 0
    while i < len(argv):
        if argv[i] == "--var" and i + 1 < len(argv):
            k, _, v = argv[i + 1].partition("=")
            values[k] = v
            i += 2
        elif argv[i].startswith("--var="):
            k, _, v = argv[i][6:].partition("=")
            values[k] = v
            i += 1
        else:
            i += 1
    _, dashboards, errors = load(root)
    for fn, err in errors.items():
        print("invalid JSON in %s: %s" % (fn, err), file=sys.stderr)
    for fn in sorted(dashboards):
        dash = dashboards[fn]
        for title, expr in exprs_of(dash):
            print("%s\t%s\t%s" % (dash.get("uid"), title, substitute(expr, values)))
    return 1 if errors else 0


def main(argv):
    args = [a for a in argv[1:]]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if args and not args[0].startswith("--"):
        root = os.path.abspath(args.pop(0))
    if "--list-exprs" in args:
        args.remove("--list-exprs")
        return list_exprs(root, args)
    if args:
        print(__doc__)
        return 2

    res = Results()
    files, dashboards, errors = load(root)
    for fn in EXPECTED:
        if fn not in files:
            res.record("%s: present" % fn, ["grafana/dashboards/%s missing" % fn])
    for fn in sorted(files):
        res.record("%s: json" % fn, [errors[fn]] if fn in errors else [])

    sources, providers = provisioning(root)
    uids = {s.get("uid") for s in sources if s.get("uid")}
    prom_uid = next((s.get("uid") for s in sources if s.get("type") == "prometheus"), None)
    documented = documented_metrics(root)
    rules = recording_rules(root)
    alert_pairs = alert_thresholds(root)
    shown = set()
    seen_uids = {}

    for fn in sorted(dashboards):
        dash = dashboards[fn]
        res.record("%s: meta" % fn, check_meta(fn, dash, seen_uids))
        res.record("%s: panel-ids" % fn, check_panel_ids(dash))
        res.record("%s: grid" % fn, check_grid(dash))
        res.record("%s: datasources" % fn, check_datasources(dash, uids))
        res.record("%s: variables" % fn, check_variables(dash, uids))
        res.record("%s: regex-safe" % fn, check_regex_safe(dash))
        units, descs = check_units_descriptions(dash)
        res.record("%s: units" % fn, units)
        res.record("%s: descriptions" % fn, descs)
        mp, lp = check_metrics_and_labels(dash, documented, rules)
        res.record("%s: metrics" % fn, mp)
        res.record("%s: labels" % fn, lp)
        res.record("%s: rate-interval" % fn, check_rate_interval(dash))
        res.record("%s: heatmap" % fn, check_heatmaps(dash))
        res.record("%s: thresholds" % fn, check_thresholds(dash, alert_pairs, shown))
        res.record("%s: annotations" % fn, check_annotations(dash, prom_uid))
        res.record("%s: links" % fn, check_links(dash, dashboards))
        res.record("%s: content" % fn, check_content(dash))

    missing = sorted({(a, s, v) for a, s, _, v in alert_pairs} - shown)
    res.record("alert thresholds shown on a dashboard (%d parsed from alerts/)" % len(alert_pairs),
               ["%s: %s at %g is on no panel" % m for m in missing]
               + ([] if alert_pairs else ["no `series op number` parsed from alerts/*.yml"]))
    res.record("drill-down", check_drilldown(dashboards))
    res.record("docs/dashboards.md", check_docs(root, dashboards))
    res.record("provisioning", check_provisioning(root, sources, providers))
    gen = check_generated(root, files)
    if gen is not None:
        res.record("generated == grafana/generate.py", gen)
    syn = check_promql_syntax(dashboards)
    if syn is None:
        print("skip promql-syntax (promtool not installed)")
    else:
        res.record("promql-syntax (promtool check rules)", syn)

    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
