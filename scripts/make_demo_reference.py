#!/usr/bin/python3
"""Writes exporter/config/demo_reference.csv: the reference data of the
embedded demo model `churn-classifier` (deterministic; stdlib only).

The distributions and the outcome model are in
tools/simulate/demo_distributions.py (NORMAL), shared with the traffic
simulator so its "normal" traffic matches this reference. Per row: the six
features, target = churn with P = sigmoid(reference_logit), then the model's
noisy probability p_model; prediction = churn if p_model >= 0.5 and
confidence = max(p_model, 1 - p_model).
Run: /usr/bin/python3 scripts/make_demo_reference.py
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "simulate"))
import demo_distributions as demo  # noqa: E402  (path set above)

ROWS = 4000
SEED = 20261122


def row(rng):
    f = demo.sample_features(rng, demo.NORMAL)
    p_true = demo.sigmoid(demo.reference_logit(f["score"], f["age"], f["plan"]))
    target = demo.outcome(rng, p_true)
    p_model = demo.model_probability(rng, p_true)
    prediction = demo.POSITIVE if p_model >= 0.5 else demo.NEGATIVE
    confidence = max(p_model, 1 - p_model)
    return (f"{f['income']:.2f},{f['age']:.1f},{f['score']:.4f},{f['rooms']},"
            f"{f['plan']},{f['channel']},{target},{prediction},{confidence:.4f}")


def main():
    rng = random.Random(SEED)
    out = os.path.join(HERE, "..", "exporter", "config", "demo_reference.csv")
    with open(out, "w", newline="\n") as f:
        f.write("income,age,score,rooms,plan,channel,target,prediction,confidence\n")
        for _ in range(ROWS):
            f.write(row(rng) + "\n")
    print(f"wrote {out} ({ROWS} rows)")


if __name__ == "__main__":
    main()
