#!/usr/bin/python3
"""Writes the macro benchmark's request bodies from the oracle's
large_stable_current.csv (same 6 features as the reference both exporters
load): NDJSON bodies of 1, 100, 1000 and 10000 prediction events, cycling
through the CSV rows. Events carry no id (the same body is posted many
times; ids would be duplicates for the project's join table).

  gen_bodies.py <current.csv> <outdir>
"""
import csv, json, sys

src, outdir = sys.argv[1], sys.argv[2]
with open(src) as f:
    rows = list(csv.DictReader(f))
num = ["income", "age", "score", "rooms"]
cat = ["plan", "channel"]

def event(i):
    r = rows[i % len(rows)]
    feats = {k: float(r[k]) for k in num if r[k] != ""}
    feats.update({k: r[k] for k in cat if r[k] != ""})
    return json.dumps({"model": "churn", "version": "v1",
                       "prediction": r["prediction"],
                       "confidence": round(0.5 + (i % 50) / 100, 2),
                       "latency_ms": 5 + i % 40, "features": feats},
                      separators=(",", ":"))

for n in (1, 100, 1000, 10000):
    with open(f"{outdir}/body_{n}.ndjson", "w") as f:
        for i in range(n):
            f.write(event(i) + "\n")
