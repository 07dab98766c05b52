#!/usr/bin/python3
"""Writes exporter/config/demo_reference.csv: the reference data of the
embedded demo model `churn-classifier` (deterministic; stdlib only).

Distributions (tools/simulate draws "normal" traffic from the same ones):
  income  lognormal: exp(N(10.8, 0.45))           (median ~49k)
  age     N(40, 12) clipped to [18, 90], 1 decimal
  score   N(0, 1), 4 decimals
  rooms   1..5 with P = .10 .30 .30 .20 .10
  plan    basic .5, plus .3, pro .2
  channel web .6, app .4
  target  churn with P = sigmoid(-1.2 + 1.1*score - 0.02*(age-40)
                                 + 0.5*[plan=basic])
  prediction/confidence: a model that is right ~85% of the time, with
  confidence = max(p_model, 1 - p_model) of a noisy copy of the true
  probability.
Run: /usr/bin/python3 scripts/make_demo_reference.py
"""
import math
import random

ROWS = 4000
rng = random.Random(20261122)


def pick(choices):
    r, acc = rng.random(), 0.0
    for value, p in choices:
        acc += p
        if r < acc:
            return value
    return choices[-1][0]


def row():
    income = math.exp(rng.gauss(10.8, 0.45))
    age = min(90.0, max(18.0, rng.gauss(40, 12)))
    score = rng.gauss(0, 1)
    rooms = pick([(1, .1), (2, .3), (3, .3), (4, .2), (5, .1)])
    plan = pick([("basic", .5), ("plus", .3), ("pro", .2)])
    channel = pick([("web", .6), ("app", .4)])
    logit = -1.2 + 1.1 * score - 0.02 * (age - 40) + (0.5 if plan == "basic" else 0)
    p_true = 1 / (1 + math.exp(-logit))
    target = "churn" if rng.random() < p_true else "stay"
    p_model = min(0.999, max(0.001, p_true + rng.gauss(0, 0.08)))
    prediction = "churn" if p_model >= 0.5 else "stay"
    confidence = max(p_model, 1 - p_model)
    return (f"{income:.2f},{age:.1f},{score:.4f},{rooms},{plan},{channel},"
            f"{target},{prediction},{confidence:.4f}")


if __name__ == "__main__":
    import os
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "exporter", "config", "demo_reference.csv")
    with open(out, "w", newline="\n") as f:
        f.write("income,age,score,rooms,plan,channel,target,prediction,confidence\n")
        for _ in range(ROWS):
            f.write(row() + "\n")
    print(f"wrote {out} ({ROWS} rows)")
