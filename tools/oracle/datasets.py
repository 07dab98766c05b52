"""The four (reference, current) CSV pairs of datasets/ and their reports.

A churn model's tabular data: columns income, age, score, rooms, plan,
channel, target, prediction (empty cell = missing). Each pair exercises the
report's default drift tests in one regime:

    pair          rows        default tests             drifted features
    small_drift   800 / 600   ks, chi_square (rooms),   income score rooms
                              z (channel)               plan (4 of 6)
    small_stable  900 / 700   same                      income, mildly (1 of 6)
    large_drift   5000 / 4000 wasserstein, jensen_      income score rooms
                              shannon (rooms, plan,     plan (4 of 6)
                              channel)
    large_stable  6000 / 3000 same                      none

`age` has ~5% missing cells on both sides and never drifts; `channel`
(binary) never drifts; `rooms` has <= 5 unique reference values, so it is
tested as categories, and in the drift pairs its current data adds a value
(5) the reference lacks. In small_drift target and prediction shift too, so
a report that treats them as features finds 6 of 8 drifted.

    from datasets import build_datasets
    for pair in build_datasets(seed=15): print(pair["name"], pair["expected"])
"""

import numpy as np

import definitions
from cases import rounded

COLUMNS = ["income", "age", "score", "rooms", "plan", "channel", "target",
           "prediction"]
PLANS = ["basic", "plus", "pro"]
CHANNELS = ["app", "web"]
LABELS = ["churn", "stay"]
MISSING_AGE = 0.05


def _table(rng, n, income_scale, score_shift, max_rooms, plan_probs,
           churn_rate, error_rate):
    """One CSV's cells, column by column."""
    income = rng.lognormal(np.log(22000.0), 0.5, n) * income_scale
    age = rng.normal(40, 12, n)
    age_missing = rng.random(n) < MISSING_AGE
    score = rng.normal(score_shift, 1, n)
    rooms = rng.integers(1, max_rooms + 1, n).astype(np.float64)
    plan = rng.choice(len(PLANS), size=n, p=plan_probs)
    channel = rng.choice(len(CHANNELS), size=n, p=[0.4, 0.6])
    target = (rng.random(n) >= churn_rate).astype(int)  # 0 = churn
    wrong = rng.random(n) < error_rate
    prediction = np.where(wrong, 1 - target, target)
    return {
        "income": [repr(v) for v in rounded(income)],
        "age": ["" if m else repr(v) for v, m in zip(rounded(age),
                                                      age_missing)],
        "score": [repr(v) for v in rounded(score)],
        "rooms": [repr(v) for v in rounded(rooms)],
        "plan": [PLANS[i] for i in plan],
        "channel": [CHANNELS[i] for i in channel],
        "target": [LABELS[i] for i in target],
        "prediction": [LABELS[i] for i in prediction],
    }


BASE = dict(income_scale=1.0, score_shift=0.0, max_rooms=4,
            plan_probs=[0.5, 0.3, 0.2], churn_rate=0.4, error_rate=0.13)
DRIFTED = dict(income_scale=1.3, score_shift=0.5, max_rooms=5,
               plan_probs=[0.3, 0.3, 0.4], churn_rate=0.53, error_rate=0.25)
MILD_INCOME = dict(BASE, income_scale=1.07)

# name, (reference rows, current rows), current's parameters, features that
# must be detected as drifted with the default tests.
PAIRS = [
    ("small_drift", (800, 600), DRIFTED, {"income", "score", "rooms", "plan"}),
    ("small_stable", (900, 700), MILD_INCOME, {"income"}),
    ("large_drift", (5000, 4000), DRIFTED,
     {"income", "score", "rooms", "plan"}),
    ("large_stable", (6000, 3000), BASE, set()),
]


def regime_problems(name, ref, cur, expected):
    """What a pair fails to exercise (empty when it is as designed)."""
    problems = []
    _, (n_ref, _), params, want_drift = next(p for p in PAIRS if p[0] == name)
    small = n_ref <= definitions.SMALL_REFERENCE_ROWS
    want_tests = {
        "income": "ks" if small else "wasserstein",
        "age": "ks" if small else "wasserstein",
        "score": "ks" if small else "wasserstein",
        "rooms": "chi_square" if small else "jensen_shannon",
        "plan": "chi_square" if small else "jensen_shannon",
        "channel": "z" if small else "jensen_shannon",
    }
    for f, e in expected["features"].items():
        if e["drift"]["test"] != want_tests[f]:
            problems.append(f"{name}/{f}: test {e['drift']['test']}, "
                            f"want {want_tests[f]}")
        if e["drift"]["detected"] != (f in want_drift):
            problems.append(f"{name}/{f}: drift score {e['drift']['score']} "
                            f"should {'' if f in want_drift else 'not '}be "
                            "detected")
    for side, table in (("reference", ref), ("current", cur)):
        if "" not in table["age"]:
            problems.append(f"{name}: no missing age in the {side}")
        if len(set(table["rooms"])) != (5 if side == "current" and
                                        params["max_rooms"] == 5 else 4):
            problems.append(f"{name}: rooms values in the {side}")
    if name == "small_drift":
        # As features (no --target/--prediction) both must drift: 6 of 8.
        for col in ("target", "prediction"):
            if definitions.feature_expected(ref[col], cur[col])["drift"][
                    "detected"] is not True:
                problems.append(f"{name}: {col} as a feature must drift")
        if expected["features"]["income"]["stats"]["psi"] >= 0.5:
            problems.append(f"{name}: income PSI must stay below 0.5")
    return problems


MAX_DRAWS = 50


def build_datasets(seed):
    """[{name, reference, current (tables), expected (report)}], in order.

    Pair k draws from Generator(seed, 100 + k); a draw that misses the
    pair's regime is replaced by the next draw from the same Generator.
    """
    out = []
    for k, (name, (n_ref, n_cur), params, _) in enumerate(PAIRS):
        rng = np.random.default_rng([seed, 100 + k])
        for _ in range(MAX_DRAWS):
            ref = _table(rng, n_ref, **BASE)
            cur = _table(rng, n_cur, **params)
            expected = {"reference": f"{name}_reference.csv",
                        "current": f"{name}_current.csv",
                        "target": "target", "prediction": "prediction"}
            expected.update(definitions.dataset_expected(ref, cur, "target",
                                                         "prediction"))
            problems = regime_problems(name, ref, cur, expected)
            if not problems:
                break
        else:
            raise RuntimeError(f"seed {seed}: no draw of {MAX_DRAWS} meets "
                               f"the regime: {'; '.join(problems)}")
        out.append({"name": name, "reference": ref, "current": cur,
                    "expected": expected})
    return out
