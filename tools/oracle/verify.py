"""Checks the definitions against a reference copy of the test data.

Recomputes every expected value of a directory laid out like
testdata/oracle (stats.json, datasets/*.csv + expected.json) from that
directory's own inputs and compares with the expected values it lists:

    from verify import verify_directory
    ok = verify_directory("/path/to/reference/oracle", rel_tol=1e-12)

Discrete values (modes, dof, counts, booleans, names, category lists) must be
equal; numbers within rel_tol relative (or 1e-300 absolute, for values that
underflow). Prints the worst differences.
"""

import csv
import json
import math
import os
import sys

import definitions

ABS_TOL = 1e-300


def read_table(path):
    """CSV file -> {column: [cell text]} in column order."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {name: [r[i] for r in body] for i, name in enumerate(header)}


def recompute_datasets(directory):
    """expected.json's datasets, recomputed from the CSV files they name."""
    with open(os.path.join(directory, "expected.json"), encoding="utf-8") as f:
        listed = json.load(f)["datasets"]
    out = []
    for ds in listed:
        ref = read_table(os.path.join(directory, ds["reference"]))
        cur = read_table(os.path.join(directory, ds["current"]))
        report = {"reference": ds["reference"], "current": ds["current"],
                  "target": ds["target"], "prediction": ds["prediction"]}
        report.update(definitions.dataset_expected(ref, cur, ds["target"],
                                                   ds["prediction"]))
        out.append(report)
    return listed, out


class Comparison:
    """Walks want/got side by side, collecting mismatches and differences."""

    def __init__(self, rel_tol):
        self.rel_tol = rel_tol
        self.mismatches = []  # (path, want, got) for discrete values
        self.diffs = []  # (relative difference, path, want, got)
        self.compared = 0

    def compare(self, want, got, path):
        if isinstance(want, dict):
            if not isinstance(got, dict) or list(want) != list(got):
                self.mismatches.append((path + " (keys)", list(want),
                                        list(got) if isinstance(got, dict)
                                        else got))
                if not isinstance(got, dict):
                    return
            for k in want:
                if k in got:
                    self.compare(want[k], got[k], f"{path}/{k}")
            return
        if isinstance(want, list):
            if not isinstance(got, list) or len(want) != len(got):
                self.mismatches.append((path, want, got))
                return
            for i, (w, g) in enumerate(zip(want, got)):
                self.compare(w, g, f"{path}/{i}")
            return
        self.compared += 1
        if isinstance(want, float) and not isinstance(want, bool):
            if not isinstance(got, (int, float)) or isinstance(got, bool):
                self.mismatches.append((path, want, got))
                return
            err = abs(got - want)
            rel = 0.0 if err <= ABS_TOL else err / max(abs(want), ABS_TOL)
            if math.isnan(want) != math.isnan(got):
                rel = math.inf
            self.diffs.append((rel, path, want, got))
            return
        if want != got or type(want) is not type(got):
            self.mismatches.append((path, want, got))

    def report(self, out, worst=10):
        self.diffs.sort(reverse=True)
        bad = [d for d in self.diffs if d[0] > self.rel_tol]
        print(f"compared {self.compared} values: {len(self.mismatches)} "
              f"discrete mismatches, {len(bad)} numbers beyond "
              f"{self.rel_tol:g} relative", file=out)
        for path, want, got in self.mismatches[:worst]:
            print(f"  MISMATCH {path}: expected {want!r}, recomputed {got!r}",
                  file=out)
        print("worst relative differences:", file=out)
        for rel, path, want, got in self.diffs[:worst]:
            print(f"  {rel:.3e}  {path}: {want!r} vs {got!r}", file=out)
        return not self.mismatches and not bad


def verify_directory(directory, rel_tol, out=sys.stdout):
    """True when every expected value of `directory` is reproduced."""
    cmp = Comparison(rel_tol)
    with open(os.path.join(directory, "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    for case in stats["cases"]:
        cmp.compare(case["expected"], definitions.case_expected(case),
                    f"stats.json/{case['name']}")
    listed, recomputed = recompute_datasets(os.path.join(directory,
                                                         "datasets"))
    cmp.compare(listed, recomputed, "datasets/expected.json")
    return cmp.report(out)
