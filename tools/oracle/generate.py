#!/usr/bin/python3
"""Writes the project's test data: scipy/scikit-learn reference vectors.

    tools/oracle/generate.py                    # -> testdata/oracle/
    tools/oracle/generate.py --out DIR --seed 15
    tools/oracle/generate.py --check DIR        # DIR == a fresh generation?
    tools/oracle/generate.py --verify-against DIR   # recompute DIR's values

Output (schema in docs/testdata.md): stats.json (20 cases, one per regime of
the statistics in PRODUCT.md "Statistics"), datasets/*.csv (4 reference /
current pairs) and datasets/expected.json (the report of each pair). Inputs
come from numpy's Generator seeded with --seed and are rounded to 6 decimals
before the expected values are computed. The output is a function of the seed
and of the pinned library versions only: the same on every run, byte for byte
on one CPU (across CPUs numpy's SIMD kernels may change a float's last bits,
which --check allows within --rel-tol).

Run it with Debian bookworm's python3-numpy, python3-scipy and
python3-sklearn (/usr/bin/python3); other versions are refused unless
--allow-other-versions is given, since their floating-point results differ
in the last bits and the committed data would no longer be reproducible.
"""

import argparse
import csv
import filecmp
import io
import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean under CTest

try:
    import numpy
    import scipy
    import sklearn
except ImportError as e:
    sys.exit(f"generate.py: {e}: needs Debian's python3-numpy, python3-scipy "
             "and python3-sklearn; run it with /usr/bin/python3 "
             "(scripts/setup.sh test installs them)")

import cases
import datasets
import verify

DEFAULT_SEED = 15
# Debian bookworm's python3-numpy, python3-scipy, python3-sklearn.
PINNED = {"scipy": "1.10.1", "sklearn": "1.2.1", "numpy": "1.24.2"}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "testdata", "oracle")

README = """\
# Test data (generated)

Written by `tools/oracle/generate.py --seed {seed}` with scipy {scipy},
scikit-learn {sklearn} and numpy {numpy}; do not edit by hand. What it is,
its schema and how to regenerate or verify it: docs/testdata.md.
"""


def versions():
    return {"scipy": scipy.__version__, "sklearn": sklearn.__version__,
            "numpy": numpy.__version__}


def check_versions(allow_other):
    """False (after saying why) when the libraries are not the pinned ones."""
    have = versions()
    if have == PINNED:
        return True
    diff = ", ".join(f"{k} {have[k]} (pinned {PINNED[k]})" for k in PINNED
                     if have[k] != PINNED[k])
    if not allow_other:
        print(f"generate.py: refusing to run with {diff}: the test data is "
              "pinned to Debian bookworm's python3-numpy/-scipy/-sklearn. "
              "Run it with /usr/bin/python3 on bookworm, or pass "
              "--allow-other-versions to write data that will not match "
              "the committed copy.", file=sys.stderr)
        return False
    print("=" * 72 + f"\nWARNING: generating with {diff}.\nThe output will "
          "differ from testdata/oracle in the last bits; do not commit it.\n"
          + "=" * 72, file=sys.stderr)
    return True


def _json(obj, indent=None):
    # Key order is the schema's (insertion order); floats are repr'd.
    return json.dumps(obj, indent=indent, allow_nan=False) + "\n"


def _csv(table):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(table))
    w.writerows(zip(*table.values()))
    return buf.getvalue()


def render(seed):
    """{relative path: file text} of the whole test data."""
    files = {}
    gen = versions()
    files["README.md"] = README.format(seed=seed, **gen)
    files["stats.json"] = _json({"generated_with": gen,
                                 "cases": cases.build_cases(seed)})
    expected = []
    for pair in datasets.build_datasets(seed):
        files[f"datasets/{pair['name']}_reference.csv"] = _csv(
            pair["reference"])
        files[f"datasets/{pair['name']}_current.csv"] = _csv(pair["current"])
        expected.append(pair["expected"])
    files["datasets/expected.json"] = _json({"datasets": expected}, indent=1)
    return files


def write(files, out):
    for rel, text in files.items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)


def _listing(root):
    out = set()
    for d, _, names in os.walk(root):
        out.update(os.path.relpath(os.path.join(d, n), root) for n in names)
    return out


def _close(a, b, rel_tol):
    """Whether two parsed JSON values are equal, floats within rel_tol."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(
            _close(a[k], b[k], rel_tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            _close(x, y, rel_tol) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= rel_tol * max(abs(a), abs(b))
    return a == b


def _same(generated, committed, rel_tol):
    """Byte for byte; JSON may differ in the last bits of a float, since
    numpy's SIMD kernels (chosen per CPU: AVX-512 on one host, AVX2 on
    another) round sums differently."""
    if filecmp.cmp(generated, committed, shallow=False):
        return True
    if not generated.endswith(".json"):
        return False
    with open(generated) as g, open(committed) as c:
        return _close(json.load(g), json.load(c), rel_tol)


def check(files, directory, rel_tol=1e-12):
    """True when `directory` holds exactly `files` (floats in JSON within
    rel_tol of each other)."""
    with tempfile.TemporaryDirectory(prefix="aiq_oracle_") as tmp:
        write(files, tmp)
        want, have = _listing(tmp), _listing(directory)
        problems = [f"missing: {p}" for p in sorted(want - have)]
        problems += [f"not generated: {p}" for p in sorted(have - want)]
        for rel in sorted(want & have):
            if not _same(os.path.join(tmp, rel), os.path.join(directory, rel),
                         rel_tol):
                problems.append(f"differs: {rel}")
    for p in problems:
        print(f"generate.py --check: {directory}: {p}", file=sys.stderr)
    if problems:
        print("Regenerate with tools/oracle/generate.py (docs/testdata.md).",
              file=sys.stderr)
    return not problems


def main(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help=f"Generator seed (default {DEFAULT_SEED})")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output directory (default: the repository's "
                         "testdata/oracle)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", metavar="DIR",
                      help="generate into a temporary directory and compare "
                           "with DIR byte for byte (JSON floats within "
                           "--rel-tol); exit 1 if they differ")
    mode.add_argument("--verify-against", metavar="DIR",
                      help="recompute every expected value of DIR (a copy "
                           "of the reference vectors) from DIR's inputs and "
                           "compare; exit 1 beyond --rel-tol")
    ap.add_argument("--rel-tol", type=float, default=1e-12,
                    help="relative tolerance of --verify-against and of "
                         "the floats --check compares")
    ap.add_argument("--allow-other-versions", action="store_true",
                    help="run with numpy/scipy/sklearn other than the "
                         "pinned ones (loud warning; output not reproducible)")
    args = ap.parse_args(argv)

    if not check_versions(args.allow_other_versions):
        return 2
    if args.verify_against:
        return 0 if verify.verify_directory(args.verify_against,
                                            args.rel_tol) else 1
    files = render(args.seed)
    if args.check:
        return 0 if check(files, args.check, args.rel_tol) else 1
    write(files, args.out)
    print(f"generate.py: wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
