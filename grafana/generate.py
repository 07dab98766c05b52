#!/usr/bin/python3
"""Generate the ai-quality-exporter Grafana dashboards (grafana/dashboards/*.json).

    /usr/bin/python3 grafana/generate.py            # (re)write the JSON files
    /usr/bin/python3 grafana/generate.py --check    # exit 1 if they are stale

Standard library plus PyYAML (Debian python3-yaml). The JSON is committed
together with this script; tests/dashboards/check_dashboards.py fails when
the committed files differ from what this script produces, so edit here, run
it, commit both.

Conventions (docs/dashboards.md):
  * datasource: the provisioned Prometheus, fixed uid `aiq-prometheus`
    (grafana/provisioning/datasources/datasources.yml);
  * variables `model`, `version`, `feature`: label_values queries,
    multi-select, "All" = `.*`, refreshed on time-range change; always
    used as `label=~"$var"` (Grafana regex-escapes multi-values);
  * `$__rate_interval` in every rate()/irate()/increase() on raw counters;
    longer windows come from the recording rules in prometheus/rules/;
  * every panel has a unit and a description; thresholds are the alert
    thresholds of alerts/*.yml, read from the alert expressions at build
    time (tests/dashboards checks every panel that plots an alerted series
    shows them); the SLO default objective and the health bands are read
    from the recording rules in prometheus/rules/.
"""

import json
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("grafana/generate.py needs PyYAML: apt-get install python3-yaml "
             "(and run it with /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_DIR = os.path.join(HERE, "dashboards")

SCHEMA_VERSION = 39
PROM = {"type": "prometheus", "uid": "aiq-prometheus"}
TAGS = ["aiq", "ai-quality-exporter"]
EXPORTER_JOB = 'job="ai-quality-exporter"'

# Cost is in the currency of the exporter config (cost_per_1k_*_tokens);
# Grafana has no "any currency" unit. Set e.g. "currencyUSD" here if yours is
# fixed, then re-run this script.
COST_UNIT = "short"

# --- thresholds from the alerting and recording rules ---------------------------
#
# Panels draw the alert thresholds of alerts/*.yml (docs/alerting.md) and the
# bands of prometheus/rules/; they are read from the rule files here, so a
# changed threshold changes the dashboards at the next run. A rule or a
# threshold that cannot be found stops the script with the alert's name.

sys.path.insert(0, HERE)
from rules import (RuleError, comparisons,  # noqa: E402 (after sys.path)
                   load_rules)


def rule_exprs(rules, name, where, labels=None):
    found = [expr for expr, l in rules.get(name, [])
             if labels is None or all(str(l.get(k)) == v for k, v in labels.items())]
    if not found:
        raise RuleError("%s: no rule %s%s" % (where, name, "" if labels is None else " %s" % labels))
    return found


def alert_threshold(alert, series, op):
    """N of `series ... op N` in the expression of `alert` (alerts/*.yml).

    Comparisons with 0 are guards (`> 0` against division by zero), not
    thresholds, and are skipped. Exactly one value must be found."""
    values = set()
    for expr in rule_exprs(ALERT_RULES, alert, "alerts/*.yml"):
        for names, cmp_op, value in comparisons(expr):
            if cmp_op == op and value != 0 and series in names:
                values.add(value)
    if len(values) != 1:
        raise RuleError("alerts/*.yml: alert %s: %s `%s %s NUMBER`, found %s"
                        % (alert, "expected one" if values else "no", series, op,
                           sorted(values) if values else "none"))
    return values.pop()


def recorded_constant(record, labels):
    """N of the recording rule `record: ... expr: vector(N)` with `labels`."""
    exprs = rule_exprs(RECORDING_RULES, record, "prometheus/rules/*.yml", labels)
    m = [re.fullmatch(r"\s*vector\(\s*([\d.]+)\s*\)\s*", e) for e in exprs]
    if len(exprs) != 1 or not m[0]:
        raise RuleError("prometheus/rules/*.yml: %s %s: expected one `vector(N)`, found %r"
                        % (record, labels, exprs))
    return float(m[0].group(1))


def recorded_cut_points(record, series):
    """The N of every `series >= bool N` of a recording rule, ascending."""
    exprs = rule_exprs(RECORDING_RULES, record, "prometheus/rules/*.yml")
    if len(exprs) != 1:
        raise RuleError("prometheus/rules/*.yml: %s: %d rules, expected one"
                        % (record, len(exprs)))
    cuts = sorted(v for names, op, v in comparisons(exprs[0])
                  if op == ">=" and series in names)
    if not cuts:
        raise RuleError("prometheus/rules/*.yml: %s: no `%s >= bool N`" % (record, series))
    return cuts


try:
    ALERT_RULES = load_rules(os.path.join(ROOT, "alerts"), "alert")
    RECORDING_RULES = load_rules(os.path.join(ROOT, "prometheus", "rules"), "record")

    ERROR_RATE = alert_threshold("AIQHighErrorRate",
                                 "model:aiq_slo_availability:error_ratio_rate1h", ">")
    LATENCY_P99 = alert_threshold("AIQHighLatencyP99",
                                  "model:aiq_prediction_latency_seconds:p99_rate5m", ">")
    FEEDBACK_MIN = alert_threshold("AIQLowFeedbackScore",
                                   "model:aiq_feedback_score:avg_rate1h", "<")
    FEEDBACK_MIN_RATINGS = alert_threshold(
        "AIQLowFeedbackScore", "model:aiq_feedback_score_count:increase1h", ">=")
    QUALITY_DROP = alert_threshold("AIQQualityDegradation",
                                   "model_version:aiq_quality:drop_vs_baseline", ">")
    TOKEN_BUDGET = alert_threshold("AIQTokenBudgetExhausted",
                                   "model:aiq_token_budget:usage_ratio1d", ">=")
    COST_BUDGET = alert_threshold("AIQCostBudgetExhausted",
                                  "model:aiq_cost_budget:usage_ratio1d", ">=")
    LOW_CONFIDENCE = alert_threshold("AIQLowConfidence", "aiq_low_confidence_ratio", ">")
    SCRAPE_SLOW = alert_threshold("AIQExporterScrapeSlow",
                                  "aiq_exporter_scrape_duration_seconds", ">")
    SCRAPE_SUCCESS = alert_threshold("AIQExporterScrapeFailing", "up", "<")
    REJECTED = alert_threshold("AIQEventsRejected", "aiq_exporter_events_rejected_total", ">")
    EVICTIONS = alert_threshold("AIQLabelJoinEvictions", "aiq_join_evicted_total", ">")
    BACKLOG = alert_threshold("AIQLabelBacklogHigh", "aiq_join_entries", ">")
    # LLM evaluations and streaming latency (alerts/aiq-llm.yml).
    EVAL_DROP = alert_threshold("AIQEvaluationScoreDrop",
                                "model_evaluator:aiq_evaluation_score:drop_vs_baseline", ">")
    EVAL_MIN_SCORES = alert_threshold(
        "AIQEvaluationScoreDrop", "model_evaluator:aiq_evaluation_score_count:increase1h", ">=")
    EVAL_MIN_BASELINE = alert_threshold(
        "AIQEvaluationScoreDrop",
        "model_evaluator:aiq_evaluation_score_count:increase7d_offset1d", ">=")
    # The default TTFT p95 threshold (per-model overrides are drawn as the
    # resolved series model:aiq_ttft_p95_threshold:seconds).
    TTFT_DEFAULT = recorded_constant("aiq:ttft_p95_threshold:default", {})
    # Durable state (alerts/aiq-exporter.yml, group aiq-exporter-state-alerts).
    CHECKPOINT_AGE = alert_threshold("AIQStateCheckpointFailing",
                                     "aiq_state_checkpoint_age_seconds", ">")
    DISK_LOW = alert_threshold("AIQStateDiskLow", "aiq_state_disk_free_bytes", "<")
    # Multi-window burn rates (alerts/aiq-slo.yml): the long window's factor.
    BURN_PAGE_1H = alert_threshold("AIQAvailabilityBudgetBurnFast",
                                   "model:aiq_slo_availability:error_ratio_rate1h", ">")
    BURN_PAGE_6H = alert_threshold("AIQAvailabilityBudgetBurnFast",
                                   "model:aiq_slo_availability:error_ratio_rate6h", ">")
    BURN_TICKET_1D = alert_threshold("AIQAvailabilityBudgetBurnSlow",
                                     "model:aiq_slo_availability:error_ratio_rate1d", ">")
    BURN_TICKET_3D = alert_threshold("AIQAvailabilityBudgetBurnSlow",
                                     "model:aiq_slo_availability:error_ratio_rate3d", ">")
    # The default availability objective (aiq:slo_objective:default).
    SLO_DEFAULT = recorded_constant("aiq:slo_objective:default", {"slo": "availability"})
    # Health score bands (model:aiq_health:band, docs/alerting.md): cut
    # points from the rule, names and colours here (lowest band first).
    HEALTH_CUTS = recorded_cut_points("model:aiq_health:band", "model:aiq_health:score")
except (RuleError, OSError, yaml.YAMLError) as e:
    sys.exit("grafana/generate.py: %s" % e)

# Drift decision thresholds (docs/statistics.md, default per test; a
# feature may override its own -- aiq_feature_drifted is authoritative).
P_VALUE = 0.05             # ks, chi_square, z: drift when p <= 0.05
DISTANCE = 0.1             # wasserstein_normed, jensen_shannon, psi: >= 0.1
DATASET_DRIFT_SHARE = 0.5  # dataset drift: share of drifted features >= 0.5
BAND_NAMES = [("critical", "red"), ("poor", "orange"), ("fair", "yellow"),
              ("good", "green"), ("excellent", "dark-green")]
if len(HEALTH_CUTS) != len(BAND_NAMES) - 1:
    sys.exit("grafana/generate.py: model:aiq_health:band has %d cut points, the "
             "dashboards name %d bands" % (len(HEALTH_CUTS), len(BAND_NAMES)))
# (lower bound, name, colour); the lowest band starts at 0.
BANDS = [(lo, name, color) for lo, (name, color) in
         zip([0.0] + HEALTH_CUTS, BAND_NAMES)]
# A counter that went up at all: red from the smallest positive value.
ANY = 1e-9
# The default state.checkpoint_interval (docs/configuration.md): the
# checkpoint age normally stays below it.
CHECKPOINT_INTERVAL_DEFAULT = 60
# The ingest handlers (aiq_exporter_http_requests_total{handler}); with
# state.dir set their only 503 is the state layer refusing a write.
INGEST_HANDLERS = 'handler=~"/api/v1/(predictions|labels|feedback|models/.+/reference)"'

M = 'model=~"$model"'
MV = 'model=~"$model", version=~"$version"'
MVF = 'model=~"$model", version=~"$version", feature=~"$feature"'
MF = 'model=~"$model", feature=~"$feature"'
ME = 'model=~"$model", evaluator=~"$evaluator"'
MVE = 'model=~"$model", version=~"$version", evaluator=~"$evaluator"'
RI = "$__rate_interval"

UIDS = {
    "executive": "aiq-executive",
    "operations": "aiq-operations",
    "quality": "aiq-model-quality",
    "llm": "aiq-llm",
}
TITLES = {
    "executive": "AI Quality / Executive",
    "operations": "AI Quality / Operations",
    "quality": "AI Quality / Model quality & drift",
    "llm": "AI Quality / LLM usage",
}


# --- building blocks ----------------------------------------------------------

def steps(base, *pairs):
    """Threshold steps: base colour, then (value, colour) pairs, ascending."""
    out = [{"color": base, "value": None}]
    for value, color in pairs:
        out.append({"color": color, "value": value})
    return {"mode": "absolute", "steps": out}


def above(value, ok="green", bad="red"):
    """Bad when >= value (alerts fire above it)."""
    return steps(ok, (value, bad))


def below(value, ok="green", bad="red"):
    """Bad when < value."""
    return steps(bad, (value, ok))


NO_THRESHOLDS = steps("green")

HEALTH_STEPS = {"mode": "absolute", "steps": [
    {"color": BANDS[0][2], "value": None}] + [
    {"color": color, "value": value} for value, _, color in BANDS[1:]]}

HEALTH_BAND_MAPPINGS = [{
    "type": "value",
    "options": {str(i): {"text": name, "color": color, "index": i}
                for i, (_, name, color) in enumerate(BANDS)},
}]

DRIFT_STATE_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "no drift", "color": "green", "index": 0},
    "1": {"text": "DRIFT", "color": "red", "index": 1}}}]

UP_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "DOWN", "color": "red", "index": 0},
    "1": {"text": "UP", "color": "green", "index": 1}}}]


def target(expr, legend="", ref="A", instant=False, fmt="time_series",
           interval=""):
    t = {
        "datasource": PROM,
        "refId": ref,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "format": fmt,
    }
    if interval:
        t["interval"] = interval
    return t


def targets(*specs, **kw):
    """targets((expr, legend), (expr, legend), ...) with refIds A, B, C..."""
    out = []
    for i, spec in enumerate(specs):
        expr, legend = spec if isinstance(spec, tuple) else (spec, "")
        out.append(target(expr, legend, ref=chr(ord("A") + i), **kw))
    return out


def link_to(uid, title, params):
    """A data link to another dashboard (or the same one), keeping time."""
    query = "&".join(params + ["${__url_time_range}"])
    return {"title": title, "url": "/d/%s?%s" % (uid, query),
            "targetBlank": False}


def to_quality(by_field=True):
    if by_field:
        return link_to(UIDS["quality"], "Model quality & drift of ${__field.labels.model}",
                       ["var-model=${__field.labels.model}"])
    return link_to(UIDS["quality"], "Model quality & drift of ${__data.fields.model}",
                   ["var-model=${__data.fields.model}"])


def to_feature_field():
    return link_to(UIDS["quality"],
                   "Drill down: feature ${__field.labels.feature} of ${__field.labels.model}",
                   ["var-model=${__field.labels.model}",
                    "var-feature=${__field.labels.feature}"])


def to_operations():
    return link_to(UIDS["operations"], "Operations of ${__field.labels.model}",
                   ["var-model=${__field.labels.model}"])


def to_llm():
    return link_to(UIDS["llm"], "LLM usage of ${__field.labels.model}",
                   ["var-model=${__field.labels.model}"])


def panel(kind, title, description, tgts, unit, thresholds=None,
          mappings=None, links=None, min_=None, max_=None, decimals=None,
          options=None, custom=None, overrides=None, color=None,
          transformations=None, time_from=None, interval=None):
    defaults = {
        "unit": unit,
        "thresholds": thresholds or NO_THRESHOLDS,
        "mappings": mappings or [],
        "links": links or [],
    }
    if color:
        defaults["color"] = color
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    if decimals is not None:
        defaults["decimals"] = decimals
    if custom:
        defaults["custom"] = custom
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": PROM,
        "targets": tgts,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options or {},
    }
    if transformations:
        p["transformations"] = transformations
    if time_from:
        p["timeFrom"] = time_from
        p["hideTimeOverride"] = False
    if interval:
        p["interval"] = interval
    return p


def reduce_opts(calc="lastNotNull"):
    return {"calcs": [calc], "fields": "", "values": False}


def stat(title, description, tgts, unit, thresholds=None, calc="lastNotNull",
         color_mode="background", graph="area", text_mode="auto", **kw):
    return panel("stat", title, description, tgts, unit, thresholds,
                 color={"mode": "thresholds"},
                 options={"reduceOptions": reduce_opts(calc),
                          "colorMode": color_mode, "graphMode": graph,
                          "justifyMode": "auto", "orientation": "auto",
                          "textMode": text_mode, "wideLayout": True,
                          "showPercentChange": False},
                 **kw)


def gauge(title, description, tgts, unit, thresholds, **kw):
    return panel("gauge", title, description, tgts, unit, thresholds,
                 color={"mode": "thresholds"},
                 options={"reduceOptions": reduce_opts(),
                          "showThresholdLabels": False,
                          "showThresholdMarkers": True,
                          "orientation": "auto"},
                 **kw)


def bargauge(title, description, tgts, unit, thresholds=None,
             calc="lastNotNull", **kw):
    return panel("bargauge", title, description, tgts, unit, thresholds,
                 color={"mode": "thresholds"},
                 options={"reduceOptions": reduce_opts(calc),
                          "displayMode": "gradient", "orientation": "horizontal",
                          "showUnfilled": True, "valueMode": "color",
                          "namePlacement": "auto", "sizing": "auto",
                          "minVizHeight": 16, "minVizWidth": 8,
                          "maxVizHeight": 300},
                 **kw)


def timeseries(title, description, tgts, unit, thresholds=None, bars=False,
               stack=False, threshold_style=None, fill=10, **kw):
    has_thresholds = thresholds is not None and len(thresholds["steps"]) > 1
    custom = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 60 if bars else fill,
        "gradientMode": "none",
        "showPoints": "never",
        "spanNulls": False,
        "lineInterpolation": "linear",
        "axisPlacement": "auto",
        "axisSoftMin": 0,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "thresholdsStyle": {
            "mode": threshold_style or ("dashed" if has_thresholds else "off")},
    }
    return panel("timeseries", title, description, tgts, unit, thresholds,
                 color={"mode": "palette-classic"}, custom=custom,
                 options={"legend": {"displayMode": "list",
                                     "placement": "bottom",
                                     "showLegend": True, "calcs": []},
                          "tooltip": {"mode": "multi", "sort": "desc"}},
                 **kw)


def state_timeline(title, description, tgts, mappings, thresholds, unit="none",
                   **kw):
    return panel("state-timeline", title, description, tgts, unit, thresholds,
                 mappings=mappings, color={"mode": "thresholds"},
                 custom={"lineWidth": 0, "fillOpacity": 80},
                 options={"mergeValues": True, "showValue": "auto",
                          "alignValue": "left", "rowHeight": 0.9,
                          "legend": {"displayMode": "list",
                                     "placement": "bottom",
                                     "showLegend": True},
                          "tooltip": {"mode": "single", "sort": "none"}},
                 **kw)


def table(title, description, tgts, unit, transformations, overrides=None,
          thresholds=None, sort_by=None, **kw):
    opts = {"showHeader": True, "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    if sort_by:
        opts["sortBy"] = [{"displayName": sort_by, "desc": True}]
    return panel("table", title, description, tgts, unit, thresholds,
                 color={"mode": "thresholds"},
                 custom={"align": "auto", "cellOptions": {"type": "auto"},
                         "inspect": False},
                 options=opts, overrides=overrides,
                 transformations=transformations, **kw)


def heatmap(title, description, tgts, y_unit):
    p = panel("heatmap", title, description, tgts, "reqps",
              custom={"hideFrom": {"legend": False, "tooltip": False,
                                   "viz": False},
                      "scaleDistribution": {"type": "linear"}},
              options={"calculate": False,
                       "yAxis": {"axisPlacement": "left", "unit": y_unit,
                                 "reverse": False},
                       "rowsFrame": {"layout": "auto"},
                       "color": {"mode": "scheme", "scheme": "Oranges",
                                 "fill": "dark-orange", "scale": "exponential",
                                 "exponent": 0.5, "steps": 64,
                                 "reverse": False},
                       "cellGap": 1,
                       "cellValues": {"unit": "reqps"},
                       "filterValues": {"le": 1e-9},
                       "showValue": "never",
                       "tooltip": {"mode": "single", "yHistogram": True,
                                   "showColorScale": False},
                       "legend": {"show": True},
                       "exemplars": {"color": "rgba(255,0,255,0.7)"},
                       "selectionMode": "x"})
    return p


def field_override(name, props):
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": k, "value": v} for k, v in props]}


def regex_override(pattern, props):
    return {"matcher": {"id": "byRegexp", "options": pattern},
            "properties": [{"id": k, "value": v} for k, v in props]}


DASHED = {"fill": "dash", "dash": [10, 10]}


# --- layout -----------------------------------------------------------------

class Layout:
    """Places panels left to right, wrapping at 24 columns; rows span 24."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.line_h = 0
        self.next_id = 1

    def _newline(self):
        if self.x:
            self.y += self.line_h
        self.x = 0
        self.line_h = 0

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False,
                            "id": self._id(), "panels": [],
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}})
        self.y += 1

    def add(self, p, w, h):
        if self.x + w > 24:
            self._newline()
        p["id"] = self._id()
        p["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(p)
        self.x += w
        self.line_h = max(self.line_h, h)

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i


# --- variables, links, annotations -------------------------------------------

def query_var(name, label, query, description):
    return {
        "type": "query",
        "name": name,
        "label": label,
        "description": description,
        "datasource": PROM,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
        "skipUrlSync": False,
    }


def var_model(metric="aiq_predictions_total"):
    return query_var("model", "Model", "label_values(%s, model)" % metric,
                     "Models that reported %s in the time range." % metric)


def var_version(metric="aiq_predictions_total"):
    return query_var("version", "Version",
                     'label_values(%s{model=~"$model"}, version)' % metric,
                     "Versions of the selected models.")


def var_evaluator():
    return query_var("evaluator", "Evaluator",
                     'label_values(aiq_evaluations_total{model=~"$model"}, evaluator)',
                     "Evaluators (LLM judges, human review, heuristics) of the selected models.")


def var_feature():
    return query_var("feature", "Feature",
                     'label_values(aiq_feature_missing_ratio{model=~"$model", version=~"$version"}, feature)',
                     "Features of the selected models (declared features with a window).")


def dashboard_links(current):
    out = []
    for key in ("executive", "operations", "quality", "llm"):
        if key == current:
            continue
        out.append({"title": TITLES[key].split(" / ", 1)[1],
                    "type": "link", "url": "/d/%s" % UIDS[key],
                    "icon": "dashboard", "tooltip": TITLES[key],
                    "includeVars": True, "keepTime": True,
                    "targetBlank": False, "asDropdown": False, "tags": []})
    return out


FIRING_ALERTS_ANNOTATION = {
    "name": "Firing alerts",
    "datasource": PROM,
    "enable": True,
    "hide": False,
    "iconColor": "red",
    "expr": 'ALERTS{alertstate="firing"}',
    "step": "60s",
    "titleFormat": "{{alertname}}",
    "textFormat": "{{severity}} {{model}} {{version}} {{feature}}",
    "tagKeys": "alertname,severity,model",
    "useValueForTime": False,
    "target": {"refId": "Anno", "expr": 'ALERTS{alertstate="firing"}',
               "datasource": PROM},
}


def dashboard(key, description, variables, layout, time_from="now-6h",
              refresh="1m"):
    return {
        "uid": UIDS[key],
        "title": TITLES[key],
        "description": description,
        "tags": TAGS,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": refresh,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "timepicker": {},
        "links": dashboard_links(key),
        "annotations": {"list": [FIRING_ALERTS_ANNOTATION]},
        "templating": {"list": variables},
        "panels": layout.panels,
    }


# --- Executive ----------------------------------------------------------------

def executive():
    L = Layout()
    L.row("Model health now")
    L.add(stat("Health score",
               "Model health score in [0, 1] (model:aiq_health:score): weighted mean of "
               "availability, quality vs baseline, drift and user experience, over the "
               "components the model has. Bands: excellent >= 0.90, good >= 0.75, "
               "fair >= 0.60, poor >= 0.40, critical below. Click a model to open its "
               "quality and drift dashboard.",
               targets(('max by (model) (model:aiq_health:score{%s})' % M, "{{model}}")),
               "percentunit", HEALTH_STEPS, min_=0, max_=1, decimals=1,
               links=[to_quality()]), 8, 6)
    L.add(stat("Health status",
               "Status band of the health score (model:aiq_health:band): 4 excellent, "
               "3 good, 2 fair, 1 poor, 0 critical. Click a model to drill down.",
               targets(('max by (model) (model:aiq_health:band{%s})' % M, "{{model}}")),
               "none", steps("red", (1, "orange"), (2, "yellow"), (3, "green"),
                             (4, "dark-green")),
               mappings=HEALTH_BAND_MAPPINGS, graph="none", text_mode="value_and_name",
               links=[to_quality()]), 8, 6)
    L.add(bargauge("Health components",
                   "Components of the health score, each in [0, 1] (1 = perfect): "
                   "availability = 1 - error ratio (1 h); quality = 1 - drop vs baseline / 25 %; "
                   "drift = 1 - share of drifted features; user_experience = (stars - 1) / 4. "
                   "A model without labels or feedback has no such component.",
                   targets(('max by (model, component) (model:aiq_health_component:score{%s})' % M,
                            "{{model}} {{component}}")),
                   "percentunit", HEALTH_STEPS, min_=0, max_=1,
                   links=[to_quality()]), 8, 6)

    L.row("Service, quality, satisfaction, cost")
    L.add(stat("Availability (1 h)",
               "Share of predictions that did not fail over the last hour "
               "(1 - model:aiq_slo_availability:error_ratio_rate1h). Red below 99 %: the "
               "default availability SLO objective, i.e. the 1 % error-rate alert "
               "(AIQHighErrorRate). Click to open Operations.",
               targets(('1 - max by (model) (model:aiq_slo_availability:error_ratio_rate1h{%s})' % M,
                        "{{model}}")),
               "percentunit", below(SLO_DEFAULT), decimals=2, min_=0, max_=1,
               links=[to_operations()]), 5, 5)
    L.add(stat("Quality vs baseline",
               "How much worse than the reference baseline the model is over its window "
               "(model:aiq_quality:drop_vs_baseline; classification: 1 - accuracy / baseline, "
               "regression: MAE / baseline - 1; versions weighted by labelled samples). "
               "Negative = better than baseline. Red above 5 % (AIQQualityDegradation).",
               targets(('max by (model) (model:aiq_quality:drop_vs_baseline{%s})' % M,
                        "{{model}}")),
               "percentunit", above(QUALITY_DROP), decimals=1,
               links=[to_quality()]), 5, 5)
    L.add(stat("Satisfaction (average feedback, 1 h)",
               "Average user feedback in stars (1-5) over the last hour "
               "(model:aiq_feedback_score:avg_rate1h). Red below 3 stars "
               "(AIQLowFeedbackScore, which also needs >= 10 ratings in the hour).",
               targets(('max by (model) (model:aiq_feedback_score:avg_rate1h{%s})' % M,
                        "{{model}}")),
               "suffix: stars", below(FEEDBACK_MIN), decimals=2, min_=1, max_=5,
               links=[to_llm()]), 5, 5)
    L.add(stat("Cost (last 24 h)",
               "Cost over the last 24 hours (model:aiq_cost:increase1d), in the currency "
               "of the exporter config (cost_per_1k_*_tokens). Only models with token "
               "usage have cost.",
               targets(('sum by (model) (model:aiq_cost:increase1d{%s})' % M, "{{model}}")),
               COST_UNIT, NO_THRESHOLDS, decimals=2, color_mode="value",
               links=[to_llm()]), 5, 5)
    L.add(stat("Cost budget used (24 h)",
               "Cost in the last 24 h / the daily cost budget (model:aiq_cost_budget:usage_ratio1d). "
               "Red at 100 % (AIQCostBudgetExhausted); only models with a budget.",
               targets(('max by (model) (model:aiq_cost_budget:usage_ratio1d{%s})' % M,
                        "{{model}}")),
               "percentunit", steps("green", (0.8, "orange"), (COST_BUDGET, "red")),
               decimals=0, links=[to_llm()]), 4, 5)
    L.add(stat("Business value per day",
               "Business value reported with feedback (sum of feedback `value`, "
               "aiq_outcome_value_total) as a daily rate, averaged over the dashboard's "
               "time range.",
               targets(('sum by (model) (rate(aiq_outcome_value_total{%s}[%s])) * 86400' % (M, RI),
                        "{{model}}")),
               "short", NO_THRESHOLDS, calc="mean", color_mode="value", decimals=0),
          6, 5)
    L.add(stat("Cost per prediction (1 h)",
               "Average cost of one prediction over the last hour, failed calls included "
               "(model:aiq_cost_per_prediction:ratio_rate1h), in the config's currency.",
               targets(('max by (model) (model:aiq_cost_per_prediction:ratio_rate1h{%s})' % M,
                        "{{model}}")),
               COST_UNIT, NO_THRESHOLDS, decimals=5, color_mode="value",
               links=[to_llm()]), 6, 5)
    L.add(stat("Predictions per day",
               "Prediction volume as a daily rate (aiq_predictions_total), averaged over "
               "the dashboard's time range.",
               targets(('sum by (model) (rate(aiq_predictions_total{%s}[%s])) * 86400' % (M, RI),
                        "{{model}}")),
               "short", NO_THRESHOLDS, calc="mean", color_mode="value", decimals=0,
               links=[to_operations()]), 6, 5)
    L.add(stat("Firing alerts",
               "Alerts firing now (ALERTS{alertstate=\"firing\"}): critical ones and all. "
               "Critical alerts page, warnings go to chat. Details on Operations.",
               targets(('count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)', "critical"),
                       ('count(ALERTS{alertstate="firing"}) or vector(0)', "all")),
               "none", above(1), graph="none",
               text_mode="value_and_name",
               links=[link_to(UIDS["operations"], "Active alerts (Operations)", [])]),
          6, 5)

    L.row("30-day trends")
    thirty = "30d"
    L.add(timeseries("Health score (30 days)",
                     "Health score per model over 30 days, with the band edges as "
                     "thresholds (0.40 poor, 0.60 fair, 0.75 good, 0.90 excellent).",
                     targets(('max by (model) (model:aiq_health:score{%s})' % M, "{{model}}")),
                     "percentunit", HEALTH_STEPS, min_=0, max_=1, time_from=thirty,
                     links=[to_quality()]), 12, 8)
    L.add(timeseries("Availability (30 days)",
                     "1 - error ratio over 1 h, per model, over 30 days. Dashed line: "
                     "the 99 % default SLO objective (1 % error rate).",
                     targets(('1 - max by (model) (model:aiq_slo_availability:error_ratio_rate1h{%s})' % M,
                              "{{model}}")),
                     "percentunit", below(SLO_DEFAULT), max_=1, time_from=thirty,
                     links=[to_operations()]), 12, 8)
    L.add(timeseries("Quality vs baseline (30 days)",
                     "Quality drop vs the reference baseline per model over 30 days "
                     "(positive = worse). Dashed line: the 5 % alert threshold.",
                     targets(('max by (model) (model:aiq_quality:drop_vs_baseline{%s})' % M,
                              "{{model}}")),
                     "percentunit", above(QUALITY_DROP), time_from=thirty,
                     links=[to_quality()]), 8, 8)
    L.add(timeseries("Satisfaction (30 days)",
                     "Average feedback stars (1 h) per model over 30 days. Dashed line: "
                     "the 3-star alert threshold.",
                     targets(('max by (model) (model:aiq_feedback_score:avg_rate1h{%s})' % M,
                              "{{model}}")),
                     "suffix: stars", below(FEEDBACK_MIN), min_=1, max_=5,
                     time_from=thirty, links=[to_llm()]), 8, 8)
    L.add(timeseries("Cost per day (30 days)",
                     "Rolling 24 h cost per model (model:aiq_cost:increase1d) with the "
                     "daily cost budget (aiq_cost_budget, dashed) over 30 days.",
                     targets(('sum by (model) (model:aiq_cost:increase1d{%s})' % M, "{{model}}"),
                             ('max by (model) (aiq_cost_budget{%s})' % M, "{{model}} budget")),
                     COST_UNIT, NO_THRESHOLDS, time_from=thirty,
                     overrides=[regex_override(".* budget$",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])],
                     links=[to_llm()]), 8, 8)
    L.add(timeseries("Business value per day (30 days)",
                     "Business value (aiq_outcome_value_total) as a daily rate per model "
                     "over 30 days.",
                     targets(('sum by (model) (rate(aiq_outcome_value_total{%s}[%s])) * 86400' % (M, RI),
                              "{{model}}")),
                     "short", time_from=thirty), 12, 8)
    L.add(timeseries("Predictions per day (30 days)",
                     "Prediction volume (aiq_predictions_total) as a daily rate per model "
                     "over 30 days.",
                     targets(('sum by (model) (rate(aiq_predictions_total{%s}[%s])) * 86400' % (M, RI),
                              "{{model}}")),
                     "short", time_from=thirty, links=[to_operations()]), 12, 8)
    return dashboard(
        "executive",
        "Model health, availability, quality, satisfaction, cost and business value "
        "per model, with 30-day trends. Drill down to Model quality & drift.",
        [var_model()], L, time_from="now-24h", refresh="5m")


# --- Operations ---------------------------------------------------------------

def operations():
    L = Layout()
    L.row("Traffic and errors")
    L.add(timeseries("Throughput",
                     "Predictions accepted per second, per model and version "
                     "(aiq_predictions_total, failed calls included).",
                     targets(('sum by (model, version) (rate(aiq_predictions_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{version}}")),
                     "reqps", links=[to_quality()]), 9, 8)
    L.add(timeseries("Error rate",
                     "Failed / all predictions over 5 m, 30 m and 1 h per model "
                     "(model:aiq_prediction_errors:ratio_rate5m, "
                     "model:aiq_slo_availability:error_ratio_rate{30m,1h}; 0 for a model "
                     "that never failed). Dashed line: the 1 % alert threshold "
                     "(AIQHighErrorRate: over 1 h and 30 m, for 15 m).",
                     targets(('max by (model) (model:aiq_prediction_errors:ratio_rate5m{%s})' % M,
                              "{{model}} 5m"),
                             ('max by (model) (model:aiq_slo_availability:error_ratio_rate30m{%s})' % M,
                              "{{model}} 30m"),
                             ('max by (model) (model:aiq_slo_availability:error_ratio_rate1h{%s})' % M,
                              "{{model}} 1h")),
                     "percentunit", above(ERROR_RATE)), 9, 8)
    L.add(stat("Error rate now",
               "Current 5 m error ratio per model; red above 1 % (AIQHighErrorRate's "
               "threshold, which it applies over 1 h and 30 m).",
               targets(('max by (model) (model:aiq_prediction_errors:ratio_rate5m{%s})' % M,
                        "{{model}}")),
               "percentunit", above(ERROR_RATE), decimals=2), 6, 8)
    L.add(timeseries("Errors by reason",
                     "Failed predictions per second by the event's `error` reason "
                     "(aiq_prediction_errors_total; the first reasons per model, then `other`).",
                     targets(('sum by (model, reason) (rate(aiq_prediction_errors_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{reason}}")),
                     "reqps", stack=True), 12, 7)
    L.add(timeseries("Error budget burn rate (1 h)",
                     "Availability and latency error ratio over 1 h / (1 - SLO objective). "
                     "Thresholds: 14.4x (page, with 5 m), 6x (page over 6 h), 3x (ticket over "
                     "1 d), 1x (ticket over 3 d) -- AIQ*BudgetBurnFast/Slow.",
                     targets(('model:aiq_slo_availability:error_ratio_rate1h{%s} / on (job, instance, model) '
                              '(1 - model:aiq_slo_objective:ratio{slo="availability", %s})' % (M, M),
                              "{{model}} availability"),
                             ('model:aiq_slo_latency:error_ratio_rate1h{%s} / on (job, instance, model) '
                              '(1 - model:aiq_slo_objective:ratio{slo="latency", %s})' % (M, M),
                              "{{model}} latency")),
                     "suffix:x", steps("green", (BURN_TICKET_3D, "yellow"),
                                       (BURN_TICKET_1D, "orange"), (BURN_PAGE_6H, "red"),
                                       (BURN_PAGE_1H, "dark-red"))), 12, 7)

    L.row("Latency")
    L.add(timeseries("Latency p50 / p95 / p99",
                     "Prediction latency quantiles over 5 m per model, from the recording "
                     "rules model:aiq_prediction_latency_seconds:p{50,95,99}_rate5m. Dashed "
                     "line: the 5 s p99 alert threshold (AIQHighLatencyP99: p99 over 1 h and "
                     "5 m, for 10 m). A quantile in "
                     "the +Inf bucket shows the highest finite bucket bound.",
                     targets(('max by (model) (model:aiq_prediction_latency_seconds:p50_rate5m{%s})' % M,
                              "{{model}} p50"),
                             ('max by (model) (model:aiq_prediction_latency_seconds:p95_rate5m{%s})' % M,
                              "{{model}} p95"),
                             ('max by (model) (model:aiq_prediction_latency_seconds:p99_rate5m{%s})' % M,
                              "{{model}} p99")),
                     "s", above(LATENCY_P99)), 9, 9)
    L.add(heatmap("Latency heatmap",
                  "Distribution of prediction latency (predictions/s per bucket of "
                  "aiq_prediction_latency_seconds, all selected models, 5 m rates from "
                  "model:aiq_prediction_latency_seconds_bucket:rate5m).",
                  [target('sum by (le) (model:aiq_prediction_latency_seconds_bucket:rate5m{%s})' % M,
                          "{{le}}", fmt="heatmap")], "s"), 9, 9)
    L.add(stat("p99 latency now",
               "Current p99 latency (5 m) per model; red above 5 s (AIQHighLatencyP99).",
               targets(('max by (model) (model:aiq_prediction_latency_seconds:p99_rate5m{%s})' % M,
                        "{{model}}")),
               "s", above(LATENCY_P99), decimals=3), 6, 9)
    L.add(timeseries("Latency SLI: slow predictions (1 h)",
                     "Share of timed predictions slower than the model's latency SLO "
                     "threshold over 1 h (model:aiq_slo_latency:error_ratio_rate1h). "
                     "Dashed line: 1 %, the budget of the default 99 % objective.",
                     targets(('max by (model) (model:aiq_slo_latency:error_ratio_rate1h{%s})' % M,
                              "{{model}}"),),
                     "percentunit", above(round(1 - SLO_DEFAULT, 6))), 12, 7)
    L.add(timeseries("Latency by version (p99)",
                     "p99 latency per model and version over the rate interval, from the raw "
                     "histogram aiq_prediction_latency_seconds_bucket. Dashed line: 5 s.",
                     targets(('histogram_quantile(0.99, sum by (model, version, le) '
                              '(rate(aiq_prediction_latency_seconds_bucket{%s}[%s])))' % (MV, RI),
                              "{{model}} {{version}}")),
                     "s", above(LATENCY_P99)), 12, 7)

    L.row("Active alerts")
    L.add(table("Active alerts",
                "Alerts firing now (ALERTS{alertstate=\"firing\"}) for the selected models "
                "and model-independent (exporter) alerts. Runbooks: docs/runbooks/<alertname>.md. "
                "Silences and routing: Grafana Alerting with the provisioned Alertmanager "
                "data source (uid aiq-alertmanager).",
                [target('max by (alertname, severity, model, version, feature, category, detector, instance) '
                        '(ALERTS{alertstate="firing", %s} or ALERTS{alertstate="firing", model=""})' % M,
                        instant=True, fmt="table")],
                "none",
                [{"id": "organize", "options": {
                    "excludeByName": {"Time": True, "Value": True},
                    "indexByName": {"severity": 0, "alertname": 1, "model": 2,
                                    "version": 3, "feature": 4, "category": 5,
                                    "detector": 6, "instance": 7},
                    "renameByName": {}}}],
                overrides=[field_override("severity", [
                    ("custom.cellOptions", {"type": "color-background"}),
                    ("mappings", [{"type": "value", "options": {
                        "critical": {"color": "red", "index": 0},
                        "warning": {"color": "orange", "index": 1},
                        "info": {"color": "blue", "index": 2}}}])]),
                    field_override("alertname", [
                        ("links", [{"title": "Runbook for ${__data.fields.alertname}",
                                    "url": "https://github.com/ai-quality-exporter/ai-quality-exporter/blob/main/docs/runbooks/${__data.fields.alertname}.md",
                                    "targetBlank": True}])]),
                    field_override("model", [("links", [to_quality(by_field=False)])])],
                sort_by="severity",
                links=[{"title": "Alertmanager alert groups (Grafana Alerting)",
                        "url": "/alerting/groups?alertmanager=Alertmanager",
                        "targetBlank": False}]), 18, 8)
    L.add(stat("Firing alerts",
               "Number of firing alerts (ALERTS{alertstate=\"firing\"}): critical (pages), "
               "warning (chat) and all (info included); 0 when nothing fires.",
               targets(('count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)', "critical"),
                       ('count(ALERTS{alertstate="firing", severity="warning"}) or vector(0)', "warning"),
                       ('count(ALERTS{alertstate="firing"}) or vector(0)', "all")),
               "none", above(1), graph="none", text_mode="value_and_name"), 6, 8)

    L.row("Exporter health")
    L.add(stat("Exporter up",
               "Whether Prometheus can scrape each exporter instance "
               "(up{job=\"ai-quality-exporter\"}). DOWN for 5 m pages (AIQExporterDown).",
               targets(('up{%s}' % EXPORTER_JOB, "{{instance}}")),
               "none", below(1), mappings=UP_MAPPINGS, graph="none"), 4, 6)
    L.add(stat("Scrape success (30 m)",
               "Share of successful scrapes over the last 30 minutes; red below 90 % "
               "(AIQExporterScrapeFailing).",
               targets(('avg_over_time(up{%s}[30m])' % EXPORTER_JOB, "{{instance}}")),
               "percentunit", below(SCRAPE_SUCCESS), decimals=1, graph="none"), 4, 6)
    L.add(timeseries("Scrape duration",
                     "Time to collect and serialize /metrics inside the exporter "
                     "(aiq_exporter_scrape_duration_seconds, previous scrape) and the "
                     "whole scrape as Prometheus sees it (scrape_duration_seconds). "
                     "Dashed line: 1 s (AIQExporterScrapeSlow); the scrape timeout is 10 s.",
                     targets(('aiq_exporter_scrape_duration_seconds{%s}' % EXPORTER_JOB,
                              "{{instance}} collect"),
                             ('scrape_duration_seconds{%s}' % EXPORTER_JOB,
                              "{{instance}} scrape")),
                     "s", above(SCRAPE_SLOW)), 8, 6)
    L.add(timeseries("Rejected events ratio",
                     "Rejected / received events per kind (aiq_exporter_events_rejected_total "
                     "over aiq_exporter_events_received_total plus undecodable bodies). "
                     "Dashed line: 5 % (AIQEventsRejected).",
                     targets(('sum by (instance, kind) (rate(aiq_exporter_events_rejected_total{%s}[%s])) / '
                              '(sum by (instance, kind) (rate(aiq_exporter_events_received_total{%s}[%s])) '
                              '+ sum by (instance, kind) (rate(aiq_exporter_events_rejected_total{%s, reason="invalid_json"}[%s])) > 0)'
                              % (EXPORTER_JOB, RI, EXPORTER_JOB, RI, EXPORTER_JOB, RI),
                              "{{instance}} {{kind}}")),
                     "percentunit", above(REJECTED)), 8, 6)
    L.add(timeseries("Rejected events by reason",
                     "Events rejected per second by kind and reason "
                     "(aiq_exporter_events_rejected_total); docs/api.md lists the reasons.",
                     targets(('sum by (kind, reason) (rate(aiq_exporter_events_rejected_total{%s}[%s])) > 0'
                              % (EXPORTER_JOB, RI), "{{kind}} {{reason}}")),
                     "reqps", stack=True), 8, 7)
    L.add(timeseries("Events received",
                     "Decodable events per second by kind (aiq_exporter_events_received_total).",
                     targets(('sum by (kind) (rate(aiq_exporter_events_received_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{kind}}")),
                     "reqps", stack=True), 8, 7)
    L.add(timeseries("HTTP requests",
                     "HTTP requests per second by handler and status code "
                     "(aiq_exporter_http_requests_total).",
                     targets(('sum by (handler, code) (rate(aiq_exporter_http_requests_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{handler}} {{code}}")),
                     "reqps"), 8, 7)
    L.add(timeseries("CPU",
                     "Exporter CPU use in cores (rate of process_cpu_seconds_total; 1 = one "
                     "core busy).",
                     targets(('rate(process_cpu_seconds_total{%s}[%s])' % (EXPORTER_JOB, RI),
                              "{{instance}}")),
                     "percentunit"), 6, 7)
    L.add(timeseries("Memory",
                     "Exporter resident and virtual memory (process_resident_memory_bytes, "
                     "process_virtual_memory_bytes). Memory is bounded by the config "
                     "(docs/streaming.md).",
                     targets(('process_resident_memory_bytes{%s}' % EXPORTER_JOB, "{{instance}} resident"),
                             ('process_virtual_memory_bytes{%s}' % EXPORTER_JOB, "{{instance}} virtual")),
                     "bytes"), 6, 7)
    L.add(timeseries("Open file descriptors",
                     "Open / maximum file descriptors (process_open_fds / process_max_fds; "
                     "absent when the limit is unlimited).",
                     targets(('process_open_fds{%s} / process_max_fds{%s}' % (EXPORTER_JOB, EXPORTER_JOB),
                              "{{instance}}")),
                     "percentunit", steps("green", (0.8, "red")), max_=1), 6, 7)
    L.add(table("Exporter build and uptime",
                "Build identity (aiq_exporter_build_info version and revision), uptime "
                "(time() - process_start_time_seconds) and configured models "
                "(aiq_exporter_models) per instance.",
                [target('max by (instance, version, revision) (aiq_exporter_build_info{%s})' % EXPORTER_JOB,
                        ref="A", instant=True, fmt="table"),
                 target('max by (instance) (time() - process_start_time_seconds{%s})' % EXPORTER_JOB,
                        ref="B", instant=True, fmt="table"),
                 target('max by (instance) (aiq_exporter_models{%s})' % EXPORTER_JOB,
                        ref="C", instant=True, fmt="table")],
                "none",
                [{"id": "merge", "options": {}},
                 {"id": "organize", "options": {
                     "excludeByName": {"Time": True, "Value #A": True},
                     "indexByName": {"instance": 0, "version": 1, "revision": 2,
                                     "Value #B": 3, "Value #C": 4},
                     "renameByName": {"Value #B": "uptime", "Value #C": "models"}}}],
                overrides=[field_override("uptime", [("unit", "s")])]), 6, 7)

    L.row("Durable state")
    state_note = " Only exported with state.dir set (docs/state.md)."
    L.add(timeseries("Checkpoint age",
                     "Seconds since the last successful checkpoint "
                     "(aiq_state_checkpoint_age_seconds; since start when there is none "
                     "yet). With the default state.checkpoint_interval it stays below "
                     "60 s (dashed yellow line); above 600 s for 10 m warns "
                     "(AIQStateCheckpointFailing): the log is not truncated and a restart "
                     "replays all of it." + state_note,
                     targets(('aiq_state_checkpoint_age_seconds{%s}' % EXPORTER_JOB,
                              "{{instance}}")),
                     "s", steps("green", (CHECKPOINT_INTERVAL_DEFAULT, "yellow"),
                                (CHECKPOINT_AGE, "red"))), 8, 7)
    L.add(timeseries("Checkpoint duration",
                     "Time the last successful checkpoint took "
                     "(aiq_state_checkpoint_duration_seconds): encoding the in-memory "
                     "state, writing and renaming the file." + state_note,
                     targets(('aiq_state_checkpoint_duration_seconds{%s}' % EXPORTER_JOB,
                              "{{instance}}")),
                     "s"), 8, 7)
    L.add(timeseries("State disk free and store size",
                     "Free bytes on the state directory's file system "
                     "(aiq_state_disk_free_bytes) and bytes under the state directory "
                     "(aiq_state_store_bytes). Dashed line: 1 GiB (AIQStateDiskLow, which "
                     "also warns when the 6 h trend empties the disk within 24 h); below "
                     "state.min_free_bytes ingest is refused with 503 "
                     "(AIQStateIngestRefused)." + state_note,
                     targets(('aiq_state_disk_free_bytes{%s}' % EXPORTER_JOB,
                              "{{instance}} free"),
                             ('aiq_state_store_bytes{%s}' % EXPORTER_JOB,
                              "{{instance}} store")),
                     "bytes", below(DISK_LOW)), 8, 7)
    L.add(timeseries("State log bytes",
                     "Bytes appended to the state log per second "
                     "(aiq_state_log_bytes_total: the request bodies)." + state_note,
                     targets(('sum by (instance) (rate(aiq_state_log_bytes_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}}")),
                     "Bps"), 6, 7)
    L.add(timeseries("State log records",
                     "State log records appended per second "
                     "(aiq_state_log_records_total: one per ingest request or reference "
                     "PUT)." + state_note,
                     targets(('sum by (instance) (rate(aiq_state_log_records_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}}")),
                     "reqps"), 6, 7)
    L.add(timeseries("Records per fsync",
                     "Log records per group-commit fsync (rate of "
                     "aiq_state_log_records_total / rate of aiq_state_fsyncs_total): how "
                     "many requests share one fsync; 1 = no batching (one client at a "
                     "time)." + state_note,
                     targets(('sum by (instance) (rate(aiq_state_log_records_total{%s}[%s])) / '
                              '(sum by (instance) (rate(aiq_state_fsyncs_total{%s}[%s])) > 0)'
                              % (EXPORTER_JOB, RI, EXPORTER_JOB, RI), "{{instance}}")),
                     "short"), 6, 7)
    L.add(timeseries("State write errors and refused ingest",
                     "Failed appends or fsyncs of the state log per second "
                     "(aiq_state_write_errors_total; AIQStateWriteErrors) and ingest "
                     "requests answered 503 by the state layer "
                     "(aiq_exporter_http_requests_total{code=\"503\"} of the ingest "
                     "handlers: disk below state.min_free_bytes or unwritable; 5 m of them "
                     "page, AIQStateIngestRefused). Nothing of a refused request is "
                     "applied; acknowledged events are not lost." + state_note,
                     targets(('sum by (instance) (rate(aiq_state_write_errors_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}} write errors"),
                             ('sum by (instance) (rate(aiq_exporter_http_requests_total{%s, code="503", %s}[%s]))'
                              % (EXPORTER_JOB, INGEST_HANDLERS, RI), "{{instance}} refused (503)")),
                     "reqps", above(ANY)), 6, 7)
    L.add(timeseries("Checkpoints written and failed",
                     "Checkpoints per minute, successful (aiq_state_checkpoints_total) and "
                     "failed (aiq_state_checkpoint_failures_total; the exporter logs "
                     "\"state: checkpoint failed: ...\"). The default "
                     "state.checkpoint_interval writes one a minute." + state_note,
                     targets(('60 * sum by (instance) (rate(aiq_state_checkpoints_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}} written"),
                             ('60 * sum by (instance) (rate(aiq_state_checkpoint_failures_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}} failed")),
                     "opm"), 6, 7)
    L.add(timeseries("Checkpoint size",
                     "Size of the last checkpoint's payload (aiq_state_checkpoint_bytes): "
                     "the in-memory state (windows, counters, detectors); the join table "
                     "lives in the store, not here." + state_note,
                     targets(('aiq_state_checkpoint_bytes{%s}' % EXPORTER_JOB,
                              "{{instance}}")),
                     "bytes"), 6, 7)
    L.add(timeseries("Idempotent replays",
                     "Requests per second answered from a remembered Idempotency-Key "
                     "(aiq_state_idempotent_replays_total): client retries that applied "
                     "nothing a second time." + state_note,
                     targets(('sum by (instance) (rate(aiq_state_idempotent_replays_total{%s}[%s]))'
                              % (EXPORTER_JOB, RI), "{{instance}}")),
                     "reqps"), 6, 7)
    L.add(table("Last restore",
                "What the last start restored, per instance: log records replayed "
                "(aiq_state_recovered_records), damaged log records and checkpoint files "
                "skipped (aiq_state_corrupt_records; > 0 warns for 24 h, "
                "AIQStateCorruptOnRestart) and the time loading the checkpoint and "
                "replaying the log took (aiq_state_restore_duration_seconds)." + state_note,
                [target('max by (instance) (aiq_state_recovered_records{%s})' % EXPORTER_JOB,
                        ref="A", instant=True, fmt="table"),
                 target('max by (instance) (aiq_state_corrupt_records{%s})' % EXPORTER_JOB,
                        ref="B", instant=True, fmt="table"),
                 target('max by (instance) (aiq_state_restore_duration_seconds{%s})' % EXPORTER_JOB,
                        ref="C", instant=True, fmt="table")],
                "none",
                [{"id": "merge", "options": {}},
                 {"id": "organize", "options": {
                     "excludeByName": {"Time": True},
                     "indexByName": {"instance": 0, "Value #A": 1, "Value #B": 2,
                                     "Value #C": 3},
                     "renameByName": {"Value #A": "replayed records",
                                      "Value #B": "corrupt records",
                                      "Value #C": "restore time"}}}],
                overrides=[field_override("restore time", [("unit", "s")]),
                           field_override("corrupt records", [
                               ("custom.cellOptions", {"type": "color-background"}),
                               ("thresholds", above(1, ok="green", bad="orange"))])]), 6, 7)
    L.add(timeseries("Join tables",
                     "The on-disk join tables (pending predictions awaiting labels and "
                     "feedback): the memory they use (aiq_state_join_memory_bytes: RocksDB "
                     "memtables and block cache, within state.join_memory_bytes) and their "
                     "files (aiq_state_join_disk_bytes, part of the store size above)."
                     + state_note,
                     targets(('aiq_state_join_memory_bytes{%s}' % EXPORTER_JOB,
                              "{{instance}} memory"),
                             ('aiq_state_join_disk_bytes{%s}' % EXPORTER_JOB,
                              "{{instance}} files")),
                     "bytes"), 24, 7)
    return dashboard(
        "operations",
        "Throughput, errors, latency (percentiles, heatmap, SLO burn), active alerts, "
        "the exporter's own health and its durable state.",
        [var_model(), var_version()], L, time_from="now-3h", refresh="30s")


# --- Model quality & drift ------------------------------------------------------

def quality():
    L = Layout()
    feature_links = [to_feature_field()]

    L.row("Overview (current window)")
    L.add(stat("Quality drop vs baseline",
               "Per version: how much worse than the reference baseline over the window "
               "(model_version:aiq_quality:drop_vs_baseline; accuracy for classification, "
               "MAE for regression). Red above 5 % (AIQQualityDegradation, 30 m).",
               targets(('model_version:aiq_quality:drop_vs_baseline{%s}' % MV,
                        "{{model}} {{version}} ({{metric}})")),
               "percentunit", above(QUALITY_DROP), decimals=1), 6, 5)
    L.add(stat("Drifted features",
               "Share of the model's features that drifted from the reference "
               "(aiq_drifted_features_ratio). Dataset drift at >= 50 %.",
               targets(('aiq_drifted_features_ratio{%s}' % MV, "{{model}} {{version}}")),
               "percentunit", steps("green", (ANY, "orange"), (DATASET_DRIFT_SHARE, "red")),
               decimals=0), 5, 5)
    L.add(stat("Dataset drift",
               "Whether the dataset as a whole drifted (aiq_dataset_drift: share of drifted "
               "features >= 0.5). AIQDatasetDrift fires after 15 m.",
               targets(('aiq_dataset_drift{%s}' % MV, "{{model}} {{version}}")),
               "none", above(1), mappings=DRIFT_STATE_MAPPINGS, graph="none"), 4, 5)
    L.add(stat("Prediction drift",
               "Whether the distribution of predictions drifted (aiq_prediction_drifted). "
               "AIQPredictionDrift fires after 15 m.",
               targets(('aiq_prediction_drifted{%s}' % MV, "{{model}} {{version}}")),
               "none", above(1), mappings=DRIFT_STATE_MAPPINGS, graph="none"), 4, 5)
    L.add(stat("Window samples",
               "Samples in the sliding window per version (aiq_window_samples): "
               "predictions and labelled. Below window.min_samples statistics are absent.",
               targets(('aiq_window_samples{%s}' % MV, "{{model}} {{version}} {{kind}}")),
               "short", NO_THRESHOLDS, color_mode="value", graph="none"), 5, 5)

    L.row("Quality vs baseline (classification)")
    L.add(timeseries("Accuracy vs baseline",
                     "Accuracy over the window per version (aiq_accuracy) against the "
                     "reference baseline (aiq_baseline_accuracy) and the alert line at "
                     "95 % of the baseline (5 % drop, AIQQualityDegradation).",
                     targets(('aiq_accuracy{%s}' % MV, "{{model}} {{version}}"),
                             ('max by (model) (aiq_baseline_accuracy{%s})' % M, "{{model}} baseline"),
                             ('max by (model) (aiq_baseline_accuracy{%s}) * (1 - %s)' % (M, QUALITY_DROP),
                              "{{model}} alert threshold (-5%)")),
                     "percentunit",
                     overrides=[regex_override(".* baseline$", [("custom.lineStyle", DASHED)]),
                                regex_override(".* alert threshold .*",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          8, 8)
    L.add(timeseries("F1 vs baseline",
                     "Macro and weighted F1 per version (aiq_f1) against the baseline "
                     "(aiq_baseline_f1, dashed).",
                     targets(('aiq_f1{%s}' % MV, "{{model}} {{version}} {{average}}"),
                             ('max by (model, average) (aiq_baseline_f1{%s})' % M,
                              "{{model}} baseline {{average}}")),
                     "percentunit",
                     overrides=[regex_override(".* baseline .*", [("custom.lineStyle", DASHED)])]),
          8, 8)
    L.add(timeseries("Quality drop vs baseline",
                     "Relative drop vs baseline per version "
                     "(model_version:aiq_quality:drop_vs_baseline; positive = worse). "
                     "Dashed line: 5 % alert threshold.",
                     targets(('model_version:aiq_quality:drop_vs_baseline{%s}' % MV,
                              "{{model}} {{version}} ({{metric}})")),
                     "percentunit", above(QUALITY_DROP)), 8, 8)
    L.add(timeseries("Precision and recall",
                     "Macro and weighted precision and recall per version (aiq_precision, "
                     "aiq_recall) with their baselines (dashed).",
                     targets(('aiq_precision{%s}' % MV, "{{model}} {{version}} precision {{average}}"),
                             ('aiq_recall{%s}' % MV, "{{model}} {{version}} recall {{average}}"),
                             ('max by (model, average) (aiq_baseline_precision{%s})' % M,
                              "{{model}} baseline precision {{average}}"),
                             ('max by (model, average) (aiq_baseline_recall{%s})' % M,
                              "{{model}} baseline recall {{average}}")),
                     "percentunit",
                     overrides=[regex_override(".* baseline .*", [("custom.lineStyle", DASHED)])]),
          12, 8)
    L.add(bargauge("F1 per class",
                   "F1 of each class over the window (aiq_class_f1).",
                   targets(('aiq_class_f1{%s}' % MV, "{{model}} {{version}} {{class}}")),
                   "percentunit", steps("red", (0.5, "orange"), (0.8, "green")),
                   min_=0, max_=1), 12, 8)

    L.row("Quality vs baseline (regression)")
    for metric, title, unit, note in (
            ("mae", "MAE", "short",
             "Dashed red: baseline + 5 %, the AIQQualityDegradation threshold (MAE / baseline - 1 > 5 %)."),
            ("rmse", "RMSE", "short", "Lower is better."),
            ("r2", "R²", "short", "Higher is better (1 = perfect)."),
            ("mape", "MAPE", "percentunit", "Lower is better (sklearn definition, a fraction).")):
        tg = [('aiq_%s{%s}' % (metric, MV), "{{model}} {{version}}"),
              ('max by (model) (aiq_baseline_%s{%s})' % (metric, M), "{{model}} baseline")]
        overrides = [regex_override(".* baseline$", [("custom.lineStyle", DASHED)])]
        if metric == "mae":
            tg.append(('max by (model) (aiq_baseline_mae{%s}) * (1 + %s)' % (M, QUALITY_DROP),
                       "{{model}} alert threshold (+5%)"))
            overrides.append(regex_override(".* alert threshold .*",
                                            [("custom.lineStyle", DASHED),
                                             ("color", {"mode": "fixed", "fixedColor": "red"})]))
        L.add(timeseries("%s vs baseline" % title,
                         "%s over the window per version (aiq_%s) against the reference "
                         "baseline (aiq_baseline_%s, dashed). %s" % (title, metric, metric, note),
                         targets(*tg), unit, overrides=overrides), 6, 7)

    L.row("Calibration and confidence")
    L.add(timeseries("Estimated vs actual accuracy",
                     "Accuracy estimated from calibrated confidence without labels "
                     "(aiq_estimated_accuracy, CBPE) against the measured accuracy "
                     "(aiq_accuracy) and the baseline: a falling estimate warns before "
                     "labels arrive.",
                     targets(('aiq_estimated_accuracy{%s}' % MV, "{{model}} {{version}} estimated"),
                             ('aiq_accuracy{%s}' % MV, "{{model}} {{version}} measured"),
                             ('max by (model) (aiq_baseline_accuracy{%s})' % M, "{{model}} baseline")),
                     "percentunit",
                     overrides=[regex_override(".* baseline$", [("custom.lineStyle", DASHED)])]),
          8, 8)
    L.add(timeseries("Calibration error (ECE) and Brier score",
                     "Expected calibration error (aiq_expected_calibration_error, 10 bins) "
                     "and multiclass Brier score (aiq_brier_score) per version; lower is "
                     "better.",
                     targets(('aiq_expected_calibration_error{%s}' % MV, "{{model}} {{version}} ECE"),
                             ('aiq_brier_score{%s}' % MV, "{{model}} {{version}} Brier")),
                     "short", decimals=3), 8, 8)
    L.add(timeseries("Low-confidence predictions",
                     "Share of the window's predictions below the model's "
                     "low_confidence_threshold (aiq_low_confidence_ratio). Dashed line: "
                     "20 % (AIQLowConfidence, 30 m).",
                     targets(('aiq_low_confidence_ratio{%s}' % MV, "{{model}} {{version}}")),
                     "percentunit", above(LOW_CONFIDENCE)), 8, 8)
    L.add(bargauge("Confidence histogram (window)",
                   "Predictions of the current window per confidence bucket (aiq_confidence, "
                   "a histogram of the window, not a counter: used without rate()). "
                   "Bucket `le` = upper bound.",
                   [target('sum by (le) (aiq_confidence_bucket{%s})' % MV, "{{le}}",
                           instant=True, fmt="heatmap")],
                   "short", NO_THRESHOLDS), 12, 8)
    L.add(timeseries("Median confidence",
                     "Median confidence of the window per version "
                     "(histogram_quantile(0.5) over aiq_confidence_bucket).",
                     targets(('histogram_quantile(0.5, sum by (model, version, le) (aiq_confidence_bucket{%s}))' % MV,
                              "{{model}} {{version}}")),
                     "percentunit", min_=0, max_=1), 12, 8)

    L.row("Feature drift")
    L.add(table("Features (current window)",
                "One row per feature and version: drift decision (aiq_feature_drifted), "
                "smallest p-value of its tests (aiq_drift_p_value), largest distance "
                "(aiq_drift_score of wasserstein_normed / jensen_shannon / psi) and data "
                "quality ratios. Click a feature to drill down to it.",
                [target('max by (model, version, feature) (aiq_feature_drifted{%s})' % MVF,
                        ref="A", instant=True, fmt="table"),
                 target('min by (model, version, feature) (aiq_drift_p_value{%s})' % MVF,
                        ref="B", instant=True, fmt="table"),
                 target('max by (model, version, feature) (aiq_drift_score{%s, test=~"wasserstein_normed|jensen_shannon|psi"})' % MVF,
                        ref="C", instant=True, fmt="table"),
                 target('max by (model, version, feature) (aiq_feature_missing_ratio{%s})' % MVF,
                        ref="D", instant=True, fmt="table"),
                 target('max by (model, version, feature) (aiq_feature_new_category_ratio{%s})' % MVF,
                        ref="E", instant=True, fmt="table"),
                 target('max by (model, version, feature) (aiq_feature_out_of_range_ratio{%s})' % MVF,
                        ref="F", instant=True, fmt="table")],
                "none",
                [{"id": "merge", "options": {}},
                 {"id": "organize", "options": {
                     "excludeByName": {"Time": True},
                     "indexByName": {"model": 0, "version": 1, "feature": 2,
                                     "Value #A": 3, "Value #B": 4, "Value #C": 5,
                                     "Value #D": 6, "Value #E": 7, "Value #F": 8},
                     "renameByName": {"Value #A": "drifted", "Value #B": "min p-value",
                                      "Value #C": "max distance",
                                      "Value #D": "missing", "Value #E": "new categories",
                                      "Value #F": "out of range"}}}],
                overrides=[
                    field_override("feature", [("links", [link_to(
                        UIDS["quality"], "Drill down: feature ${__data.fields.feature}",
                        ["var-model=${__data.fields.model}",
                         "var-version=${__data.fields.version}",
                         "var-feature=${__data.fields.feature}"])])]),
                    field_override("drifted", [
                        ("mappings", DRIFT_STATE_MAPPINGS),
                        ("custom.cellOptions", {"type": "color-background"}),
                        ("thresholds", above(1))]),
                    field_override("min p-value", [
                        ("decimals", 4),
                        ("custom.cellOptions", {"type": "color-text"}),
                        ("thresholds", steps("red", (P_VALUE, "green")))]),
                    field_override("max distance", [
                        ("decimals", 3),
                        ("custom.cellOptions", {"type": "color-text"}),
                        ("thresholds", above(DISTANCE))]),
                    field_override("missing", [("unit", "percentunit")]),
                    field_override("new categories", [("unit", "percentunit")]),
                    field_override("out of range", [("unit", "percentunit")])],
                sort_by="drifted"), 24, 9)
    L.add(state_timeline("Drifted features",
                         "Per feature and version, whether it drifted "
                         "(aiq_feature_drifted, the decision of its drift test; "
                         "AIQFeatureDrift fires after 30 m). Click to drill down.",
                         targets(('max by (model, version, feature) (aiq_feature_drifted{%s})' % MVF,
                                  "{{model}} {{version}} {{feature}}")),
                         DRIFT_STATE_MAPPINGS, above(1), links=feature_links), 12, 8)
    L.add(timeseries("Drifted features ratio",
                     "Share of drifted features per version (aiq_drifted_features_ratio). "
                     "Dashed line: 50 %, where aiq_dataset_drift becomes 1 "
                     "(AIQDatasetDrift).",
                     targets(('aiq_drifted_features_ratio{%s}' % MV, "{{model}} {{version}}")),
                     "percentunit", above(DATASET_DRIFT_SHARE), min_=0, max_=1), 12, 8)
    L.add(timeseries("Drift p-values",
                     "p-values of the statistical drift tests per feature "
                     "(aiq_drift_p_value: ks, chi_square, z). Drift when p <= 0.05 "
                     "(default; a feature may override it).",
                     targets(('aiq_drift_p_value{%s}' % MVF, "{{model}} {{version}} {{feature}} {{test}}")),
                     "short", steps("red", (P_VALUE, "green")), min_=0, max_=1,
                     links=feature_links), 12, 8)
    L.add(timeseries("Drift distances",
                     "Distance scores per feature (aiq_drift_score with test "
                     "wasserstein_normed, jensen_shannon, psi). Drift when >= 0.1 (the "
                     "default for these tests; a feature may override it).",
                     targets(('aiq_drift_score{%s, test=~"wasserstein_normed|jensen_shannon|psi"}' % MVF,
                              "{{model}} {{version}} {{feature}} {{test}}")),
                     "short", above(DISTANCE), links=feature_links), 12, 8)
    L.add(timeseries("Drift test statistics",
                     "Test statistics per feature (aiq_drift_score with test ks (D), "
                     "chi_square, z, wasserstein): decided by their p-value or normed form "
                     "above, shown for scale.",
                     targets(('aiq_drift_score{%s, test=~"ks|chi_square|z|wasserstein"}' % MVF,
                              "{{model}} {{version}} {{feature}} {{test}}")),
                     "short", links=feature_links), 24, 7)

    L.row("Prediction and multivariate drift")
    L.add(timeseries("Prediction drift score",
                     "Drift of the prediction distribution vs the reference "
                     "(aiq_prediction_drift_score per test). Distances drift at >= 0.1.",
                     targets(('aiq_prediction_drift_score{%s}' % MV, "{{model}} {{version}} {{test}}")),
                     "short", above(DISTANCE)), 8, 8)
    L.add(timeseries("Prediction drift p-value",
                     "p-value of the prediction drift test (aiq_prediction_drift_p_value); "
                     "drift when <= 0.05.",
                     targets(('aiq_prediction_drift_p_value{%s}' % MV, "{{model}} {{version}} {{test}}")),
                     "short", steps("red", (P_VALUE, "green")), min_=0, max_=1), 8, 8)
    L.add(timeseries("Multivariate drift (PCA reconstruction error)",
                     "PCA reconstruction error of the window (aiq_reconstruction_error) "
                     "against the reference's band (aiq_reconstruction_error_upper_threshold / "
                     "_lower_threshold, mean +- 3 sigma of reference chunks). Above the upper "
                     "threshold for 15 m: AIQMultivariateDrift.",
                     targets(('aiq_reconstruction_error{%s}' % MV, "{{model}} {{version}}"),
                             ('max by (model) (aiq_reconstruction_error_upper_threshold{%s})' % M,
                              "{{model}} upper threshold"),
                             ('max by (model) (aiq_reconstruction_error_lower_threshold{%s})' % M,
                              "{{model}} lower threshold")),
                     "short",
                     overrides=[regex_override(".* threshold$",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          8, 8)

    L.row("Data quality")
    L.add(timeseries("Missing values",
                     "Share of the window's values that are missing (null) per feature "
                     "(aiq_feature_missing_ratio); missing values are left out of drift tests.",
                     targets(('aiq_feature_missing_ratio{%s}' % MVF, "{{model}} {{version}} {{feature}}")),
                     "percentunit", links=feature_links), 6, 8)
    L.add(timeseries("New categories",
                     "Share of a categorical feature's values not seen in the reference "
                     "(aiq_feature_new_category_ratio).",
                     targets(('aiq_feature_new_category_ratio{%s}' % MVF, "{{model}} {{version}} {{feature}}")),
                     "percentunit", links=feature_links), 6, 8)
    L.add(timeseries("Out of range",
                     "Share of a numeric feature's values outside the reference's "
                     "[min, max] (aiq_feature_out_of_range_ratio).",
                     targets(('aiq_feature_out_of_range_ratio{%s}' % MVF, "{{model}} {{version}} {{feature}}")),
                     "percentunit", links=feature_links), 6, 8)
    L.add(timeseries("Type errors",
                     "Values of the wrong JSON type per second (dropped, the event kept), by "
                     "feature and expected type (aiq_feature_type_errors_total).",
                     targets(('sum by (model, feature, reason) (rate(aiq_feature_type_errors_total{%s}[%s]))' % (MF, RI),
                              "{{model}} {{feature}} {{reason}}")),
                     "cps", stack=True), 6, 8)

    L.row("Concept drift")
    L.add(timeseries("Concept drift detections",
                     "Drift detections on the error stream per detector (increase of "
                     "aiq_concept_drift_detections_total: adwin, ddm, page_hinkley). A "
                     "detection fires AIQConceptDrift when ADWIN also detected in the "
                     "hour and the window's quality is more than 5 % below baseline.",
                     targets(('sum by (model, version, detector) (increase(aiq_concept_drift_detections_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{version}} {{detector}}")),
                     "short", above(ANY), bars=True, threshold_style="off"), 12, 7)
    L.add(state_timeline("Concept drift warning level",
                         "Whether a detector is in its warning zone "
                         "(aiq_concept_drift_warning; AIQConceptDriftWarningLevel, info).",
                         targets(('max by (model, version, detector) (aiq_concept_drift_warning{%s})' % MV,
                                  "{{model}} {{version}} {{detector}}")),
                         [{"type": "value", "options": {
                             "0": {"text": "ok", "color": "green", "index": 0},
                             "1": {"text": "warning", "color": "orange", "index": 1}}}],
                         steps("green", (1, "orange"))), 12, 7)

    L.row("Fairness")
    L.add(timeseries("Segment accuracy",
                     "Accuracy per segment value of each declared attribute "
                     "(aiq_segment_accuracy).",
                     targets(('aiq_segment_accuracy{%s}' % MV, "{{model}} {{version}} {{attribute}}={{segment}}")),
                     "percentunit", min_=0, max_=1), 8, 8)
    L.add(timeseries("Segment positive rate",
                     "Share of predictions of the positive class per segment value "
                     "(aiq_segment_positive_rate).",
                     targets(('aiq_segment_positive_rate{%s}' % MV, "{{model}} {{version}} {{attribute}}={{segment}}")),
                     "percentunit", min_=0, max_=1), 8, 8)
    L.add(timeseries("Segment true positive rate",
                     "Recall of the positive class per segment value (aiq_segment_tpr).",
                     targets(('aiq_segment_tpr{%s}' % MV, "{{model}} {{version}} {{attribute}}={{segment}}")),
                     "percentunit", min_=0, max_=1), 8, 8)
    L.add(timeseries("Demographic parity and equal opportunity differences",
                     "Max - min across an attribute's values of the positive rate "
                     "(aiq_demographic_parity_difference) and of the TPR "
                     "(aiq_equal_opportunity_difference). No alert ships for these; the "
                     "orange line at 0.1 is a common review guideline.",
                     targets(('aiq_demographic_parity_difference{%s}' % MV,
                              "{{model}} {{version}} {{attribute}} demographic parity"),
                             ('aiq_equal_opportunity_difference{%s}' % MV,
                              "{{model}} {{version}} {{attribute}} equal opportunity")),
                     "percentunit", steps("green", (0.1, "orange"))), 24, 7)

    L.row("Label flow")
    L.add(timeseries("Labels",
                     "Labels matched to a prediction (aiq_labels_total) and labels whose id "
                     "matched no prediction (aiq_labels_unmatched_total), per second.",
                     targets(('sum by (model, version) (rate(aiq_labels_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{version}} matched"),
                             ('sum by (model) (rate(aiq_labels_unmatched_total{%s}[%s]))' % (M, RI),
                              "{{model}} unmatched")),
                     "reqps"), 8, 8)
    L.add(timeseries("Label delay",
                     "Label timestamp - prediction timestamp of matched labels, p50 and p95 "
                     "(aiq_label_delay_seconds).",
                     targets(('histogram_quantile(0.5, sum by (model, le) (rate(aiq_label_delay_seconds_bucket{%s}[%s])))' % (MV, RI),
                              "{{model}} p50"),
                             ('histogram_quantile(0.95, sum by (model, le) (rate(aiq_label_delay_seconds_bucket{%s}[%s])))' % (MV, RI),
                              "{{model}} p95")),
                     "s"), 8, 8)
    L.add(timeseries("Join table: pending and fill",
                     "Predictions waiting for their label (aiq_join_pending) and the join "
                     "table's fill (aiq_join_entries / aiq_join_capacity, right axis). Dashed "
                     "line: 80 % fill (AIQLabelBacklogHigh); when full, the oldest entries are "
                     "evicted.",
                     targets(('max by (model) (aiq_join_entries{%s}) / max by (model) (aiq_join_capacity{%s} > 0)' % (M, M),
                              "{{model}} fill"),
                             ('max by (model) (aiq_join_pending{%s})' % M, "{{model}} pending")),
                     "percentunit", above(BACKLOG), max_=1,
                     overrides=[regex_override(".* pending$",
                                               [("unit", "short"),
                                                ("custom.axisPlacement", "right"),
                                                ("max", None)])]), 8, 8)
    L.add(timeseries("Join evictions",
                     "Predictions evicted from the join table before their label (TTL or "
                     "full table) / all predictions (aiq_join_evicted_total). Dashed line: "
                     "5 % (AIQLabelJoinEvictions).",
                     targets(('sum by (model) (rate(aiq_join_evicted_total{%s}[%s])) / '
                              '(sum by (model) (rate(aiq_predictions_total{%s}[%s])) > 0)' % (M, RI, M, RI),
                              "{{model}}")),
                     "percentunit", above(EVICTIONS)), 12, 7)
    L.add(timeseries("Unmatched feedback",
                     "Feedback events whose id matched no prediction, per second "
                     "(aiq_feedback_unmatched_total; they count with version=\"unknown\").",
                     targets(('sum by (model) (rate(aiq_feedback_unmatched_total{%s}[%s]))' % (M, RI),
                              "{{model}}")),
                     "reqps"), 12, 7)
    return dashboard(
        "quality",
        "Per model, version and feature: quality vs baseline, calibration, feature / "
        "prediction / multivariate drift, data quality, concept drift, fairness and "
        "label flow. Set `feature` (or click a feature) to drill down.",
        [var_model("aiq_window_samples"), var_version("aiq_window_samples"), var_feature()],
        L, time_from="now-6h", refresh="1m")


# --- LLM usage ----------------------------------------------------------------

def llm():
    L = Layout()
    L.row("Tokens and budget")
    L.add(timeseries("Tokens by type",
                     "Prompt and completion tokens per second per model "
                     "(aiq_tokens_total by type).",
                     targets(('sum by (model, type) (rate(aiq_tokens_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{type}}")),
                     "short", stack=True), 10, 8)
    L.add(timeseries("Tokens (24 h) vs token budget",
                     "Tokens used in the rolling last 24 h (model:aiq_tokens:increase1d) "
                     "against the daily token budget (aiq_token_budget, dashed red).",
                     targets(('sum by (model) (model:aiq_tokens:increase1d{%s})' % M, "{{model}} tokens 24 h"),
                             ('max by (model) (aiq_token_budget{%s})' % M, "{{model}} budget")),
                     "short",
                     overrides=[regex_override(".* budget$",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          8, 8)
    L.add(gauge("Token budget used (24 h)",
                "Tokens in the last 24 h / daily token budget "
                "(model:aiq_token_budget:usage_ratio1d). Red at 100 % "
                "(AIQTokenBudgetExhausted).",
                targets(('max by (model) (model:aiq_token_budget:usage_ratio1d{%s})' % M, "{{model}}")),
                "percentunit", steps("green", (0.8, "orange"), (TOKEN_BUDGET, "red")),
                min_=0, max_=1.2), 6, 8)
    L.add(timeseries("Tokens per prediction",
                     "Average prompt and completion tokens per prediction.",
                     targets(('sum by (model, type) (rate(aiq_tokens_total{%s}[%s])) / on (model) group_left () '
                              '(sum by (model) (rate(aiq_predictions_total{%s}[%s])) > 0)' % (MV, RI, MV, RI),
                              "{{model}} {{type}}")),
                     "short"), 12, 7)
    L.add(timeseries("Throughput",
                     "LLM predictions per second per model and version "
                     "(aiq_predictions_total).",
                     targets(('sum by (model, version) (rate(aiq_predictions_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{version}}")),
                     "reqps", links=[to_operations()]), 12, 7)

    L.row("Cost")
    L.add(timeseries("Cost (24 h) vs cost budget",
                     "Cost in the rolling last 24 h (model:aiq_cost:increase1d) against the "
                     "daily cost budget (aiq_cost_budget, dashed red), in the config's "
                     "currency.",
                     targets(('sum by (model) (model:aiq_cost:increase1d{%s})' % M, "{{model}} cost 24 h"),
                             ('max by (model) (aiq_cost_budget{%s})' % M, "{{model}} budget")),
                     COST_UNIT,
                     overrides=[regex_override(".* budget$",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          10, 8)
    L.add(gauge("Cost budget used (24 h)",
                "Cost in the last 24 h / daily cost budget "
                "(model:aiq_cost_budget:usage_ratio1d). Red at 100 % "
                "(AIQCostBudgetExhausted).",
                targets(('max by (model) (model:aiq_cost_budget:usage_ratio1d{%s})' % M, "{{model}}")),
                "percentunit", steps("green", (0.8, "orange"), (COST_BUDGET, "red")),
                min_=0, max_=1.2), 6, 8)
    L.add(timeseries("Cost per prediction (1 h)",
                     "Average cost of a prediction over the last hour, failed calls included "
                     "(model:aiq_cost_per_prediction:ratio_rate1h).",
                     targets(('max by (model) (model:aiq_cost_per_prediction:ratio_rate1h{%s})' % M,
                              "{{model}}")),
                     COST_UNIT, decimals=5), 8, 8)
    L.add(timeseries("Cost per hour by version",
                     "Spend rate per model and version, per hour (aiq_cost_total).",
                     targets(('sum by (model, version) (rate(aiq_cost_total{%s}[%s])) * 3600' % (MV, RI),
                              "{{model}} {{version}}")),
                     COST_UNIT, stack=True), 24, 7)

    L.row("Feedback")
    L.add(timeseries("Average feedback (1 h)",
                     "Average user rating in stars over the last hour "
                     "(model:aiq_feedback_score:avg_rate1h). Dashed line: 3 stars "
                     "(AIQLowFeedbackScore, with >= 10 ratings in the hour, for 30 m).",
                     targets(('max by (model) (model:aiq_feedback_score:avg_rate1h{%s})' % M, "{{model}}")),
                     "suffix: stars", below(FEEDBACK_MIN), min_=1, max_=5), 10, 8)
    dist = []
    for k in range(1, 6):
        num = 'sum(rate(aiq_feedback_score_bucket{%s, le="%d"}[%s]))' % (MV, k, RI)
        if k > 1:
            num = '(%s - sum(rate(aiq_feedback_score_bucket{%s, le="%d"}[%s])))' % (num, MV, k - 1, RI)
        dist.append(('%s / (sum(rate(aiq_feedback_score_count{%s}[%s])) > 0)' % (num, MV, RI),
                     "%d star%s" % (k, "" if k == 1 else "s")))
    L.add(bargauge("Feedback score distribution",
                   "Share of ratings with 1, 2, 3, 4 and 5 stars over the time range, all "
                   "selected models (aiq_feedback_score buckets le=\"1\" ... \"5\"; "
                   "k stars = bucket k - bucket k-1).",
                   targets(*dist), "percentunit", steps("blue"), calc="mean",
                   min_=0, max_=1), 8, 8)
    L.add(stat("Ratings (1 h)",
               "Ratings received in the last hour (model:aiq_feedback_score_count:increase1h). "
               "AIQLowFeedbackScore only fires with at least 10 ratings in the hour.",
               targets(('sum by (model) (model:aiq_feedback_score_count:increase1h{%s})' % M, "{{model}}")),
               "short", steps("text", (FEEDBACK_MIN_RATINGS, "green")), decimals=0), 6, 8)
    L.add(timeseries("Business value",
                     "Business value reported with feedback per hour (aiq_outcome_value_total).",
                     targets(('sum by (model, version) (rate(aiq_outcome_value_total{%s}[%s])) * 3600' % (MV, RI),
                              "{{model}} {{version}}")),
                     "short"), 24, 7)

    L.row("Safety and review")
    L.add(timeseries("Safety violations by category",
                     "Safety violations per category (increase of "
                     "aiq_safety_violations_total). Any violation pages "
                     "(AIQSafetyViolation, critical).",
                     targets(('sum by (model, category) (increase(aiq_safety_violations_total{%s}[%s]))' % (MV, RI),
                              "{{model}} {{category}}")),
                     "short", above(ANY), bars=True, stack=True, threshold_style="off"), 12, 8)
    L.add(stat("Safety violations per hour",
               "Violations per hour by category, peak over the time range "
               "(aiq_safety_violations_total). Red on any violation.",
               targets(('sum by (category) (rate(aiq_safety_violations_total{%s}[%s])) * 3600' % (MV, RI),
                        "{{category}}")),
               "short", above(ANY), calc="max", decimals=1, text_mode="value_and_name"), 6, 8)
    L.add(stat("Violation ratio",
               "Share of predictions with at least one violation category, upper bound "
               "(violations / predictions; a prediction may list several categories).",
               targets(('sum by (model) (rate(aiq_safety_violations_total{%s}[%s])) / '
                        '(sum by (model) (rate(aiq_predictions_total{%s}[%s])) > 0)' % (MV, RI, MV, RI),
                        "{{model}}")),
               "percentunit", above(ANY), calc="mean", decimals=3), 6, 8)
    L.add(timeseries("Review samples",
                     "Events sampled into the review log per hour, by reason "
                     "(aiq_review_samples_total: random, safety, low_feedback, "
                     "low_confidence; only when review.path is set, see docs/review.md).",
                     targets(('sum by (model, reason) (rate(aiq_review_samples_total{%s}[%s])) * 3600' % (M, RI),
                              "{{model}} {{reason}}")),
                     "short", stack=True), 12, 7)
    L.add(timeseries("LLM latency p50 / p99",
                     "Generation latency quantiles over 5 m "
                     "(model:aiq_prediction_latency_seconds:p50/p99_rate5m). Dashed line: 5 s "
                     "(AIQHighLatencyP99).",
                     targets(('max by (model) (model:aiq_prediction_latency_seconds:p50_rate5m{%s})' % M,
                              "{{model}} p50"),
                             ('max by (model) (model:aiq_prediction_latency_seconds:p99_rate5m{%s})' % M,
                              "{{model}} p99")),
                     "s", above(LATENCY_P99), links=[to_operations()]), 12, 7)

    L.row("Evaluations")
    L.add(timeseries("Mean evaluation score (1 h) vs baseline",
                     "Mean score per model and evaluator over the last hour "
                     "(model_evaluator:aiq_evaluation_score:avg_rate1h, all versions, "
                     "evaluations with a score) against its baseline, the mean of the 7 days "
                     "ending 1 day ago (model_evaluator:aiq_evaluation_score:avg_rate7d_offset1d, "
                     "dashed), and the alert line %d %% below the baseline (red dashed, "
                     "AIQEvaluationScoreDrop). Each evaluator has its own scale (0-1, 1-5, ...)."
                     % round(EVAL_DROP * 100),
                     targets(('max by (model, evaluator) (model_evaluator:aiq_evaluation_score:avg_rate1h{%s})' % ME,
                              "{{model}} {{evaluator}}"),
                             ('max by (model, evaluator) (model_evaluator:aiq_evaluation_score:avg_rate7d_offset1d{%s})' % ME,
                              "{{model}} {{evaluator}} baseline"),
                             ('max by (model, evaluator) (model_evaluator:aiq_evaluation_score:avg_rate7d_offset1d{%s}) * (1 - %s)'
                              % (ME, EVAL_DROP),
                              "{{model}} {{evaluator}} alert threshold (-%d%%)" % round(EVAL_DROP * 100))),
                     "short",
                     overrides=[regex_override(".* baseline$", [("custom.lineStyle", DASHED)]),
                                regex_override(".* alert threshold .*",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          12, 8)
    L.add(timeseries("Evaluation score drop vs baseline",
                     "Relative drop of the 1 h mean score below the baseline, 1 - mean / "
                     "baseline (model_evaluator:aiq_evaluation_score:drop_vs_baseline; "
                     "positive = lower). Dashed line: %d %% (AIQEvaluationScoreDrop, with >= %d "
                     "scores in the hour and >= %d in the baseline, for 30 m)."
                     % (round(EVAL_DROP * 100), EVAL_MIN_SCORES, EVAL_MIN_BASELINE),
                     targets(('max by (model, evaluator) (model_evaluator:aiq_evaluation_score:drop_vs_baseline{%s})' % ME,
                              "{{model}} {{evaluator}}")),
                     "percentunit", above(EVAL_DROP)), 6, 8)
    L.add(stat("Scores (1 h)",
               "Scores received in the last hour per model and evaluator "
               "(model_evaluator:aiq_evaluation_score_count:increase1h). "
               "AIQEvaluationScoreDrop only fires with at least %d in the hour."
               % EVAL_MIN_SCORES,
               targets(('sum by (model, evaluator) (model_evaluator:aiq_evaluation_score_count:increase1h{%s})' % ME,
                        "{{model}} {{evaluator}}")),
               "short", steps("text", (EVAL_MIN_SCORES, "green")), decimals=0,
               text_mode="value_and_name"), 6, 8)
    L.add(stat("Scores in the baseline (7 d)",
               "Scores in the baseline window, the 7 days ending 1 day ago "
               "(model_evaluator:aiq_evaluation_score_count:increase7d_offset1d). "
               "AIQEvaluationScoreDrop needs at least %d; a new model or evaluator has "
               "no baseline for its first day." % EVAL_MIN_BASELINE,
               targets(('sum by (model, evaluator) (model_evaluator:aiq_evaluation_score_count:increase7d_offset1d{%s})' % ME,
                        "{{model}} {{evaluator}}")),
               "short", steps("text", (EVAL_MIN_BASELINE, "green")), decimals=0,
               graph="none", text_mode="value_and_name"), 6, 7)
    L.add(timeseries("Evaluations by evaluator",
                     "Evaluations received per second per model and evaluator, with or "
                     "without a score (model_evaluator:aiq_evaluations:rate5m).",
                     targets(('max by (model, evaluator) (model_evaluator:aiq_evaluations:rate5m{%s})' % ME,
                              "{{model}} {{evaluator}}")),
                     "reqps"), 9, 7)
    L.add(timeseries("Evaluations by label",
                     "Evaluations per second by their verdict label (aiq_evaluations_total; "
                     "\"(score only)\" = evaluations without a label; after "
                     "limits.max_evaluation_labels labels, \"other\").",
                     targets(('label_replace(sum by (model, evaluator, label) (rate(aiq_evaluations_total{%s}[%s])), '
                              '"label", "(score only)", "label", "")' % (ME, RI),
                              "{{model}} {{evaluator}} {{label}}")),
                     "reqps", stack=True), 9, 7)
    L.add(timeseries("Evaluation score quantiles (p10 / p50 / p90)",
                     "Quantiles of the scores per model and evaluator, interpolated in the "
                     "evaluator's buckets (aiq_evaluation_score; default buckets 0.1 ... 1.0). "
                     "p10 shows the worst-rated answers.",
                     targets(*[('histogram_quantile(%s, sum by (model, evaluator, le) '
                                '(rate(aiq_evaluation_score_bucket{%s}[%s])))' % (q, MVE, RI),
                                "{{model}} {{evaluator}} p%d" % round(q * 100))
                               for q in (0.1, 0.5, 0.9)]),
                     "short"), 8, 8)
    L.add(timeseries("Mean evaluation score by version",
                     "Mean score per model, version and evaluator (aiq_evaluation_score "
                     "_sum / _count over the panel's rate interval): a worse new version "
                     "shows here before it moves the all-versions mean.",
                     targets(('sum by (model, version, evaluator) (rate(aiq_evaluation_score_sum{%s}[%s])) / '
                              '(sum by (model, version, evaluator) (rate(aiq_evaluation_score_count{%s}[%s])) > 0)'
                              % (MVE, RI, MVE, RI),
                              "{{model}} {{version}} {{evaluator}}")),
                     "short"), 8, 8)
    L.add(heatmap("Evaluation score heatmap",
                  "Scores per second per bucket of aiq_evaluation_score, all selected "
                  "models and evaluators summed: select one evaluator, as each has its own "
                  "buckets.",
                  [target('sum by (le) (rate(aiq_evaluation_score_bucket{%s}[%s]))' % (MVE, RI),
                          "{{le}}", fmt="heatmap")], "short"), 8, 8)

    L.row("Streaming latency")
    L.add(timeseries("Time to first token p50 / p95 / p99",
                     "Time to the first output token of streaming calls, quantiles over 5 m "
                     "per model (model:aiq_time_to_first_token_seconds:p50/p95/p99_rate5m), "
                     "and the model's p95 threshold (model:aiq_ttft_p95_threshold:seconds, "
                     "red dashed; default %g s, per-model overrides in "
                     "prometheus/rules/aiq-llm.yml): AIQTimeToFirstTokenHigh when the p95 is "
                     "above it for 10 m." % TTFT_DEFAULT,
                     targets(('max by (model) (model:aiq_time_to_first_token_seconds:p50_rate5m{%s})' % M,
                              "{{model}} p50"),
                             ('max by (model) (model:aiq_time_to_first_token_seconds:p95_rate5m{%s})' % M,
                              "{{model}} p95"),
                             ('max by (model) (model:aiq_time_to_first_token_seconds:p99_rate5m{%s})' % M,
                              "{{model}} p99"),
                             ('max by (model) (model:aiq_ttft_p95_threshold:seconds{%s})' % M,
                              "{{model}} p95 threshold")),
                     "s",
                     overrides=[regex_override(".* p95 threshold$",
                                               [("custom.lineStyle", DASHED),
                                                ("color", {"mode": "fixed", "fixedColor": "red"})])]),
          12, 8)
    L.add(stat("TTFT p95 / threshold",
               "Current TTFT p95 (5 m) as a share of the model's threshold "
               "(model:aiq_time_to_first_token_seconds:p95_rate5m / "
               "model:aiq_ttft_p95_threshold:seconds). Red from 100 % "
               "(AIQTimeToFirstTokenHigh, for 10 m).",
               targets(('max by (model) (model:aiq_time_to_first_token_seconds:p95_rate5m{%s} '
                        '/ on (job, instance, model) model:aiq_ttft_p95_threshold:seconds{%s})' % (M, M),
                        "{{model}}")),
               "percentunit", steps("green", (0.8, "orange"), (1, "red")), decimals=0), 6, 8)
    L.add(timeseries("Streaming calls",
                     "Calls per second that reported a time to first token "
                     "(model:aiq_time_to_first_token_seconds_count:rate5m) and a time per "
                     "output token (model:aiq_time_per_output_token_seconds_count:rate5m): "
                     "what the quantiles rest on; at a few calls per 5 m the p95 is close to "
                     "the slowest call.",
                     targets(('sum by (model) (model:aiq_time_to_first_token_seconds_count:rate5m{%s})' % M,
                              "{{model}} TTFT"),
                             ('sum by (model) (model:aiq_time_per_output_token_seconds_count:rate5m{%s})' % M,
                              "{{model}} TPOT")),
                     "reqps"), 6, 8)
    L.add(timeseries("Time to first token p95 by version",
                     "TTFT p95 per model and version from the raw histogram "
                     "(aiq_time_to_first_token_seconds_bucket): a slower new version shows "
                     "alone.",
                     targets(('histogram_quantile(0.95, sum by (model, version, le) '
                              '(rate(aiq_time_to_first_token_seconds_bucket{%s}[%s])))' % (MV, RI),
                              "{{model}} {{version}}")),
                     "s"), 8, 8)
    L.add(heatmap("Time to first token heatmap",
                  "Distribution of the time to first token (calls per second per bucket, "
                  "all selected models, 5 m rates from "
                  "model:aiq_time_to_first_token_seconds_bucket:rate5m).",
                  [target('sum by (le) (model:aiq_time_to_first_token_seconds_bucket:rate5m{%s})' % M,
                          "{{le}}", fmt="heatmap")], "s"), 8, 8)
    L.add(timeseries("Time per output token p50 / p95",
                     "Time per output token after the first, quantiles over 5 m per model "
                     "(model:aiq_time_per_output_token_seconds:p50/p95_rate5m); 1 / TPOT is "
                     "the streaming speed in tokens per second.",
                     targets(('max by (model) (model:aiq_time_per_output_token_seconds:p50_rate5m{%s})' % M,
                              "{{model}} p50"),
                             ('max by (model) (model:aiq_time_per_output_token_seconds:p95_rate5m{%s})' % M,
                              "{{model}} p95")),
                     "s"), 8, 8)
    L.add(timeseries("Time per output token p95 by version",
                     "TPOT p95 per model and version from the raw histogram "
                     "(aiq_time_per_output_token_seconds_bucket).",
                     targets(('histogram_quantile(0.95, sum by (model, version, le) '
                              '(rate(aiq_time_per_output_token_seconds_bucket{%s}[%s])))' % (MV, RI),
                              "{{model}} {{version}}")),
                     "s"), 12, 7)
    L.add(heatmap("Time per output token heatmap",
                  "Distribution of the time per output token (calls per second per bucket, "
                  "all selected models, 5 m rates from "
                  "model:aiq_time_per_output_token_seconds_bucket:rate5m).",
                  [target('sum by (le) (model:aiq_time_per_output_token_seconds_bucket:rate5m{%s})' % M,
                          "{{le}}", fmt="heatmap")], "s"), 12, 7)
    return dashboard(
        "llm",
        "LLM usage: tokens and cost against daily budgets, user feedback, safety "
        "violations and review sampling, evaluation scores against their baseline, "
        "and streaming latency (time to first token, time per output token).",
        [var_model("aiq_tokens_total"), var_version("aiq_tokens_total"), var_evaluator()], L,
        time_from="now-24h", refresh="1m")


# --- output -------------------------------------------------------------------

def build():
    """{file name: dashboard dict}"""
    return {
        "executive.json": executive(),
        "operations.json": operations(),
        "model-quality.json": quality(),
        "llm.json": llm(),
    }


def render(dash):
    return json.dumps(dash, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv[1:]
    stale = []
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, dash in build().items():
        path = os.path.join(OUT_DIR, name)
        text = render(dash)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        if check:
            stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote", os.path.relpath(path))
    if stale:
        print("stale (run grafana/generate.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
