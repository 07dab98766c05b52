"""Inputs of stats.json's cases, drawn from a seeded numpy Generator.

Each case has a fixed name, kind and size, and is designed to exercise one
regime of the statistic it checks (the `regime` check below says which, and
the generator refuses data that misses it). Every case draws from its own
Generator, seeded with (seed, position in CASES), so changing one case does
not change the others:

    from cases import build_cases
    for case in build_cases(seed=15): print(case["name"], case["kind"])

Numbers are rounded to 6 decimals before any expected value is computed, so
the inputs as written reproduce the expected values exactly.
"""

import numpy as np

import definitions


def rounded(values):
    """Python floats rounded to 6 decimals (their repr is the short form)."""
    return [float(v) for v in np.round(np.asarray(values, dtype=np.float64),
                                       6)]


# --- numeric: KS regimes (exact n == m, exact n != m, asymptotic), ties,
# --- constant reference, tiny samples.

def normal_small_shift(rng):
    return rounded(rng.normal(0, 1, 60)), rounded(rng.normal(0.45, 1, 45))


def normal_equal_sizes(rng):
    return rounded(rng.normal(0, 1, 300)), rounded(rng.normal(0.2, 1.1, 300))


def identical(rng):
    ref = rounded(rng.normal(0, 1, 200))
    return ref, list(ref)


def tiny(rng):
    return rounded(rng.normal(0, 1, 5)), rounded(rng.normal(1, 1, 7))


def ties_integers(rng):
    ref = rng.binomial(5, 0.5, 400).astype(np.float64)
    cur = rng.binomial(5, 0.6, 350).astype(np.float64) + 1
    return rounded(ref), rounded(cur)


def lognormal_scale(rng):
    return (rounded(rng.lognormal(0, 1, 2000)),
            rounded(rng.lognormal(0.1, 1.2, 1500)))


def no_drift_large(rng):
    return rounded(rng.normal(5, 2, 8000)), rounded(rng.normal(5, 2, 6000))


def asymptotic_shift(rng):
    return (rounded(rng.normal(0, 1, 12000)),
            rounded(rng.normal(0.06, 1, 11000)))


def asymptotic_same(rng):
    return (rounded(rng.exponential(1, 15000)),
            rounded(rng.exponential(1, 10500)))


def constant_reference(rng):
    return [3.0] * 100, rounded(rng.normal(3, 0.1, 80))


# --- categorical and binary.

def _draw(rng, labels, probs, n):
    return [labels[i] for i in rng.choice(len(labels), size=n, p=probs)]


def cat_same(rng):
    labels, probs = ["a", "b", "c", "d"], [0.4, 0.3, 0.18, 0.12]
    return _draw(rng, labels, probs, 1000), _draw(rng, labels, probs, 800)


def cat_shift(rng):
    labels = ["a", "b", "c", "d"]
    return (_draw(rng, labels, [0.4, 0.3, 0.2, 0.1], 1000),
            _draw(rng, labels, [0.25, 0.25, 0.25, 0.25], 900))


def cat_new_category(rng):
    return (_draw(rng, ["x", "y"], [0.5, 0.5], 500),
            _draw(rng, ["x", "y", "z"], [0.45, 0.45, 0.1], 400))


def z_binary_shift(rng):
    return (_draw(rng, ["no", "yes"], [0.8, 0.2], 700),
            _draw(rng, ["no", "yes"], [0.68, 0.32], 500))


def z_binary_same(rng):
    return (rounded(rng.binomial(1, 0.5, 400)),
            rounded(rng.binomial(1, 0.5, 300)))


# --- quality.

def multiclass_with_probabilities(rng):
    """Softmax of noisy logits favouring the true class; y_pred = argmax."""
    classes = ["cat", "dog", "fox"]
    n = 500
    truth = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    logits = rng.normal(0, 1.2, (n, 3))
    logits[np.arange(n), truth] += 1.4
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    probs = np.round(probs, 6)
    pred = probs.argmax(axis=1)
    return {
        "y_true": [classes[i] for i in truth],
        "y_pred": [classes[i] for i in pred],
        "classes": classes,
        "probabilities": [rounded(row) for row in probs],
    }


def binary_labels_only(rng):
    truth = rng.binomial(1, 0.33, 300)
    flip = rng.random(300) < 0.18
    pred = np.where(flip, 1 - truth, truth)
    return {"y_true": [str(v) for v in truth],
            "y_pred": [str(v) for v in pred]}


def class_never_predicted(rng):
    """Four rows over three classes; one class present in y_true only."""
    classes = ["a", "b", "c"]
    truth = classes + [classes[rng.integers(3)]]
    truth = [truth[i] for i in rng.permutation(4)]
    missing = classes[rng.integers(3)]
    others = [c for c in classes if c != missing]
    pred = [others[rng.integers(2)] if t == missing else t for t in truth]
    return {"y_true": truth, "y_pred": pred}


def regression(rng):
    truth = rng.normal(10, 3, 400)
    truth = np.abs(truth) + 0.5  # positive targets: MAPE stays meaningful
    return {"y_true": rounded(truth),
            "y_pred": rounded(truth + rng.normal(0, 1, 400))}


# --- multivariate.

def _one_factor(rng, n, loading):
    """6 standard-normal columns with pairwise correlation loading**2."""
    factor = rng.normal(0, 1, (n, 1))
    noise = rng.normal(0, 1, (n, 6))
    return loading * factor + np.sqrt(1 - loading ** 2) * noise


def pca_reconstruction(rng):
    strong, weak = np.sqrt(0.7), np.sqrt(0.1)
    return {
        "reference": [rounded(r) for r in _one_factor(rng, 2000, strong)],
        "current_same": [rounded(r) for r in _one_factor(rng, 1000, strong)],
        "current_broken_correlation":
            [rounded(r) for r in _one_factor(rng, 1000, weak)],
    }


def _two_samples(fn):
    def build(rng):
        ref, cur = fn(rng)
        return {"reference": ref, "current": cur}
    return build


# (name, kind, builder): the order of stats.json.
CASES = [
    ("normal_small_shift", "numeric", _two_samples(normal_small_shift)),
    ("normal_equal_sizes", "numeric", _two_samples(normal_equal_sizes)),
    ("identical", "numeric", _two_samples(identical)),
    ("tiny", "numeric", _two_samples(tiny)),
    ("ties_integers", "numeric", _two_samples(ties_integers)),
    ("lognormal_scale", "numeric", _two_samples(lognormal_scale)),
    ("no_drift_large", "numeric", _two_samples(no_drift_large)),
    ("asymptotic_shift", "numeric", _two_samples(asymptotic_shift)),
    ("asymptotic_same", "numeric", _two_samples(asymptotic_same)),
    ("constant_reference", "numeric", _two_samples(constant_reference)),
    ("cat_same", "categorical", _two_samples(cat_same)),
    ("cat_shift", "categorical", _two_samples(cat_shift)),
    ("cat_new_category", "categorical", _two_samples(cat_new_category)),
    ("multiclass_with_probabilities", "classification",
     multiclass_with_probabilities),
    ("binary_labels_only", "classification", binary_labels_only),
    ("class_never_predicted", "classification", class_never_predicted),
    ("regression", "regression", regression),
    ("pca_reconstruction", "multivariate", pca_reconstruction),
    ("z_binary_shift", "z_test", _two_samples(z_binary_shift)),
    ("z_binary_same", "z_test", _two_samples(z_binary_same)),
]


def regime_problems(case):
    """What the case fails to exercise (empty when it is as designed)."""
    name, e = case["name"], case["expected"]
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(f"{name}: {what}")

    if case["kind"] == "numeric":
        ks, n, m = e["ks"], len(case["reference"]), len(case["current"])
        big = max(n, m) > definitions.KS_EXACT_MAX
        need(ks["mode"] == ("asymp" if big else "exact"),
             f"KS mode {ks['mode']} for sizes {n}, {m}")
        drift = {"normal_small_shift": True, "normal_equal_sizes": True,
                 "tiny": None, "ties_integers": True, "lognormal_scale": True,
                 "no_drift_large": False, "asymptotic_shift": True,
                 "asymptotic_same": False, "constant_reference": True,
                 "identical": False}[name]
        if drift is not None:
            need((ks["p_value"] <= 0.05) == drift,
                 f"KS p {ks['p_value']} should {'' if drift else 'not '}"
                 "show drift")
        if name == "normal_equal_sizes":
            need(n == m, "sizes must be equal (closed-form exact KS)")
        if name == "identical":
            need(case["reference"] == case["current"] and ks["p_value"] == 1.0,
                 "samples must be identical")
        if name == "ties_integers":
            need(len(set(case["reference"])) <= 6, "needs heavy ties")
        if name == "constant_reference":
            need(len(set(case["reference"])) == 1,
                 "reference must be constant")
    elif case["kind"] == "categorical":
        p = e["chi_square"]["p_value"]
        need((p < 0.05) == (name != "cat_same"), f"chi-square p {p}")
        need((e["new_categories"] == ["z"]) == (name == "cat_new_category"),
             f"new categories {e['new_categories']}")
    elif case["kind"] == "z_test":
        p = e["p_value"]
        need((p < 0.05) == (name == "z_binary_shift"), f"z p {p}")
    elif name == "multiclass_with_probabilities":
        probs = np.array(case["probabilities"])
        classes = case["classes"]
        need([classes[i] for i in probs.argmax(axis=1)] == case["y_pred"],
             "y_pred must be the (first) argmax of the probabilities")
        conf = probs.max(axis=1) * definitions.ECE_BINS
        need(np.all(np.abs(conf - np.round(conf)) > 1e-9),
             "a confidence lies on an ECE bin edge")
    elif name == "class_never_predicted":
        need(set(case["y_true"]) - set(case["y_pred"]),
             "some true class must never be predicted")
        need(len(set(case["y_true"])) == 3, "all three classes in y_true")
    elif name == "regression":
        need(min(case["y_true"]) > 0, "targets must be positive (MAPE)")
    elif name == "pca_reconstruction":
        need(e["components"] == 1, f"{e['components']} components, want 1")
        need(e["current_broken_error"] > 1.3 * e["current_same_error"],
             "broken correlation must raise the error clearly")
    return problems


MAX_DRAWS = 50


def build_cases(seed):
    """Every case with its inputs and expected values, in CASES order.

    A draw that misses its case's regime (say a "same" sample that happens
    to test significant) is replaced by the next draw from the same
    Generator, so the result is still a function of the seed alone.
    """
    out = []
    for i, (name, kind, build) in enumerate(CASES):
        rng = np.random.default_rng([seed, i])
        for _ in range(MAX_DRAWS):
            case = {"name": name, "kind": kind}
            case.update(build(rng))
            case["expected"] = definitions.case_expected(case)
            problems = regime_problems(case)
            if not problems:
                break
        else:
            raise RuntimeError(f"seed {seed}: no draw of {MAX_DRAWS} meets "
                               f"the regime: {'; '.join(problems)}")
        out.append(case)
    return out
