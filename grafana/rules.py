"""Reading the shipped alerting and recording rules (alerts/*.yml,
prometheus/rules/*.yml) and the comparisons in their PromQL expressions.

One reader for grafana/generate.py, which takes the dashboards' thresholds
from the alerts, and tests/dashboards/check_dashboards.py, which checks that
every alert threshold is drawn on the panels that plot the alerted series.

    alerts = load_rules("alerts", "alert")      # {name: [(expr, labels)]}
    for expr, _ in alerts["AIQHighErrorRate"]:
        for series, op, value in series_comparisons(expr): ...

Needs PyYAML (Debian python3-yaml).
"""

import os
import re

import yaml

class RuleError(Exception):
    """A rule or a threshold the dashboards need is not in the rule files."""


def load_rules(directory, kind):
    """{name: [(expr, labels)]} of every `kind` ("alert"/"record") rule in
    directory/*.yml, parsed with PyYAML."""
    out = {}
    files = sorted(f for f in os.listdir(directory) if f.endswith((".yml", ".yaml")))
    for fn in files:
        path = os.path.join(directory, fn)
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if kind in rule:
                    out.setdefault(rule[kind], []).append(
                        (str(rule.get("expr", "")), rule.get("labels") or {}))
    if not out:
        raise RuleError("no %s rules in %s" % (kind, directory))
    return out


# Tokens of a PromQL expression once strings, label matchers and range
# selectors are gone: names, numbers, operators, parentheses, commas.
PROMQL_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_:][\w:]*)|(?P<op>==|!=|>=|<=|>|<|[-+*/%^(),]))")
COMPARISONS = {"==", "!=", ">=", "<=", ">", "<"}
SET_OPERATORS = {"and", "or", "unless"}


def promql_tokens(expr):
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = PROMQL_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError("cannot read PromQL at %r" % text[pos:pos + 30])
        tokens.append(m.group(m.lastgroup))
        pos = m.end()
    return tokens


NAME_RE = re.compile(r"^[A-Za-z_:]")


def number_comparisons(tokens):
    """[(position of the operator, op, number)] for every `op NUMBER` (or
    `op bool NUMBER`) among the tokens."""
    out = []
    for p, tok in enumerate(tokens):
        if tok not in COMPARISONS:
            continue
        q = p + 1
        if q < len(tokens) and tokens[q] == "bool":
            q += 1
        if q >= len(tokens) or not re.match(r"^[\d.]", tokens[q]):
            continue
        text = tokens[q]
        out.append((p, tok, int(text) if re.match(r"^\d+$", text) else float(text)))
    return out


def comparisons(expr):
    """[(names in the left operand, op, number)] for every `... op NUMBER`.

    The left operand reaches back to the enclosing parenthesis or the
    previous comparison or set operator (and, or, unless): the operators
    that bind less tightly than arithmetic in PromQL."""
    tokens = promql_tokens(expr)
    out = []
    for p, op, value in number_comparisons(tokens):
        depth, j = 0, p - 1
        while j >= 0:
            t = tokens[j]
            if t == ")":
                depth += 1
            elif t == "(":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (t in COMPARISONS or t in SET_OPERATORS):
                break
            j -= 1
        out.append(({t for t in tokens[j + 1:p] if NAME_RE.match(t)}, op, value))
    return out


def series_comparisons(expr):
    """[(series, op, number)] for every `series op NUMBER` in expr whose
    operand just left of the operator is a metric name (label matchers and
    range selectors dropped, `bool` allowed): the thresholds a dashboard can
    draw on the panel that plots `series`."""
    tokens = promql_tokens(expr)
    return [(tokens[p - 1], op, float(value)) for p, op, value in number_comparisons(tokens)
            if p > 0 and NAME_RE.match(tokens[p - 1])]
