"""The data of the embedded demo model `churn-classifier`, in one place.

Both producers of churn data draw from here:
  * scripts/make_demo_reference.py writes the embedded reference
    exporter/config/demo_reference.csv from the NORMAL distributions;
  * tools/simulate/simulate.py sends live traffic from NORMAL until
    --drift-after, then from DRIFTED,
so "normal" live traffic matches the reference and the drift gauges stay
quiet until the scheduled drift. Standard library only (the simulator's
image has nothing else); each caller keeps its own order of random draws
and its own output format (CSV columns, JSON events).

Features                      NORMAL                      DRIFTED
  income  lognormal exp(N(mu, 0.45))  mu 10.8 (median ~49k)  11.3 (~81k, +65 %)
  age     N(mean, 12) clipped to [18, 90]  40                55 (+15 years)
  score   N(mean, 1)                  0                      1.2
  rooms   1..5 with P =               .10 .30 .30 .20 .10    .02 .08 .20 .35 .35
  plan    basic / plus / pro          .5 .3 .2               .15 .25 .6
  channel web / app                   .6 .4                  .2 .8

Outcome: P(churn) = sigmoid(reference_logit) = sigmoid(-1.2 + 1.1*score
- 0.02*(age-40) + 0.5*[plan=basic]); after the drift the truth becomes
sigmoid(drifted_logit) = sigmoid(0.3 - 0.9*(score-1.2) + 0.03*(age-55))
(concept drift) while the model keeps the reference formula. The model's
probability is a noisy copy, clip(P + N(0, 0.08), 0.001, 0.999); its
accuracy on the reference (the quality baseline) is 0.74.
"""
import math
from collections import namedtuple

# A feature distribution set (see the table above). Choices are
# [(value, probability)] in the order pick() walks them.
Distributions = namedtuple(
    "Distributions",
    "income_mu income_sigma age_mean age_sd score_mean score_sd rooms plan channel")

NORMAL = Distributions(
    income_mu=10.8, income_sigma=0.45, age_mean=40, age_sd=12,
    score_mean=0, score_sd=1,
    rooms=[(1, .1), (2, .3), (3, .3), (4, .2), (5, .1)],
    plan=[("basic", .5), ("plus", .3), ("pro", .2)],
    channel=[("web", .6), ("app", .4)])

DRIFTED = Distributions(
    income_mu=11.3, income_sigma=0.45, age_mean=55, age_sd=12,
    score_mean=1.2, score_sd=1,
    rooms=[(1, .02), (2, .08), (3, .2), (4, .35), (5, .35)],
    plan=[("basic", .15), ("plus", .25), ("pro", .6)],
    channel=[("web", .2), ("app", .8)])

AGE_MIN, AGE_MAX = 18.0, 90.0
MODEL_NOISE_SD = 0.08          # the model's error around the true probability
MODEL_P_MIN, MODEL_P_MAX = 0.001, 0.999
POSITIVE, NEGATIVE = "churn", "stay"


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def pick(rng, choices):
    """A value of [(value, probability)]: one rng.random() draw."""
    r, acc = rng.random(), 0.0
    for value, p in choices:
        acc += p
        if r < acc:
            return value
    return choices[-1][0]


def sample_features(rng, d):
    """One customer from distributions `d`, unrounded (callers format):
    {income, age, score, rooms, plan, channel}, drawn in that order."""
    income = math.exp(rng.gauss(d.income_mu, d.income_sigma))
    age = min(AGE_MAX, max(AGE_MIN, rng.gauss(d.age_mean, d.age_sd)))
    score = rng.gauss(d.score_mean, d.score_sd)
    rooms = pick(rng, d.rooms)
    plan = pick(rng, d.plan)
    channel = pick(rng, d.channel)
    return {"income": income, "age": age, "score": score, "rooms": rooms,
            "plan": plan, "channel": channel}


def reference_logit(score, age, plan):
    """log-odds of churn in the reference (and the model's formula)."""
    return -1.2 + 1.1 * score - 0.02 * (age - 40) + (0.5 if plan == "basic" else 0.0)


def drifted_logit(score, age):
    """log-odds of churn after the drift (the concept changed)."""
    return 0.3 - 0.9 * (score - 1.2) + 0.03 * (age - 55)


def model_probability(rng, p_true):
    """The model's P(churn): p_true plus its noise (one rng.gauss draw)."""
    return min(MODEL_P_MAX, max(MODEL_P_MIN, p_true + rng.gauss(0, MODEL_NOISE_SD)))


def outcome(rng, p_churn):
    """The true class for P(churn) = p_churn (one rng.random draw)."""
    return POSITIVE if rng.random() < p_churn else NEGATIVE
