"""Expected values of every statistic, as PRODUCT.md "Statistics" defines them.

Each function takes plain Python lists (the inputs exactly as they are written
to the test data) and returns the `expected` object of the test data's schema
(docs/testdata.md), computed with scipy / scikit-learn / numpy only:

    from definitions import numeric_expected
    numeric_expected([0.1, 0.5, 0.9], [0.2, 0.7])
    # {"ks": {...}, "psi": ..., "jensen_shannon": ..., ...}

Both the generator (writing testdata/oracle) and its verification mode
(recomputing a reference copy) call these, so there is one definition of each
statistic on the Python side.
"""

import math
import warnings

import numpy as np
import scipy.spatial.distance
import scipy.stats
import sklearn.decomposition
import sklearn.metrics
import sklearn.preprocessing

PSI_FLOOR = 0.0001  # zero proportions in PSI (not in Jensen-Shannon)
KS_EXACT_MAX = 10000  # scipy's method="auto": exact when max(n, m) <= this
SMALL_REFERENCE_ROWS = 1000  # default drift test: "reference <= 1000 rows"
FEW_UNIQUE = 5  # numeric features with <= 5 unique values are categories
PCA_VARIANCE = 0.65
ECE_BINS = 10


def _ks(ref, cur):
    """scipy.stats.ks_2samp(method="auto") and which regime it used."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = scipy.stats.ks_2samp(ref, cur, method="auto")
    fell_back = any("Switching to method=asymp" in str(w.message)
                    for w in caught)
    exact = max(len(ref), len(cur)) <= KS_EXACT_MAX and not fell_back
    return {"statistic": float(r.statistic), "p_value": float(r.pvalue),
            "mode": "exact" if exact else "asymp"}


def _proportions(counts):
    counts = np.asarray(counts, dtype=np.float64)
    return counts / counts.sum()


def _psi(p, q):
    p = np.where(p == 0, PSI_FLOOR, p)
    q = np.where(q == 0, PSI_FLOOR, q)
    return float(np.sum((q - p) * np.log(q / p)))


def _jensen_shannon(p, q):
    return float(scipy.spatial.distance.jensenshannon(p, q))


def _decile_counts(ref, cur):
    """Counts of ref and cur in the reference's decile bins (outer edges
    at -inf/+inf)."""
    edges = np.percentile(np.asarray(ref), np.arange(0, 101, 10))
    edges[0], edges[-1] = -np.inf, np.inf
    return (np.histogram(ref, bins=edges)[0], np.histogram(cur, bins=edges)[0])


def numeric_expected(ref, cur):
    """`numeric` case: KS, binned PSI and JS, Wasserstein (plain, normed)."""
    ref_counts, cur_counts = _decile_counts(ref, cur)
    p, q = _proportions(ref_counts), _proportions(cur_counts)
    w = float(scipy.stats.wasserstein_distance(ref, cur))
    return {
        "ks": _ks(ref, cur),
        "psi": _psi(p, q),
        "jensen_shannon": _jensen_shannon(p, q),
        "wasserstein": w,
        "wasserstein_normed": w / max(float(np.std(ref)), 0.001),
    }


def _category_order(values):
    """Union of categories in a fixed order (numbers numerically)."""
    return sorted(set(values))


def category_counts(ref, cur):
    """(categories, reference counts, current counts) over the union."""
    cats = _category_order(list(ref) + list(cur))
    index = {c: i for i, c in enumerate(cats)}
    rc, cc = np.zeros(len(cats)), np.zeros(len(cats))
    for v in ref:
        rc[index[v]] += 1
    for v in cur:
        cc[index[v]] += 1
    return cats, rc, cc


def _chi_square(rc, cc):
    if len(rc) < 2:  # one category: nothing to test (scipy: statistic 0)
        return {"statistic": 0.0, "p_value": 1.0, "dof": 0}
    stat, p, dof, _ = scipy.stats.chi2_contingency(np.array([rc, cc]),
                                                   correction=False)
    return {"statistic": float(stat), "p_value": float(p), "dof": int(dof)}


def categorical_expected(ref, cur):
    """`categorical` case: chi-square, per-category PSI and JS, new values."""
    cats, rc, cc = category_counts(ref, cur)
    p, q = _proportions(rc), _proportions(cc)
    seen = set(ref)
    return {
        "chi_square": _chi_square(rc, cc),
        "psi": _psi(p, q),
        "jensen_shannon": _jensen_shannon(p, q),
        "new_categories": [c for c in cats if c not in seen],
    }


def z_expected(ref, cur):
    """Pooled two-proportion z-test (Evidently's proportions_diff_z_stat_ind).

    "Success" is every value but the smallest of the union (for two values
    the greater one: "yes" over "no", 1 over 0). The p-value is Evidently's
    2 * (1 - Phi(|z|)), which agrees with the exporter's 2 * Phi_c(|z|) to
    ~1e-16 absolute (it loses relative accuracy only for tiny p).
    """
    smallest = min(set(ref) | set(cur))
    n_r, n_c = len(ref), len(cur)
    p_r = sum(v != smallest for v in ref) / n_r
    p_c = sum(v != smallest for v in cur) / n_c
    pooled = (p_r * n_r + p_c * n_c) / (n_r + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_r + 1 / n_c))
    if se == 0:
        return {"statistic": 0.0, "p_value": 1.0}
    z = (p_r - p_c) / se
    return {"statistic": z,
            "p_value": float(2 * (1 - scipy.stats.norm.cdf(abs(z))))}


def classification_expected(y_true, y_pred, classes=None, probabilities=None):
    """sklearn metrics (zero_division=0, labels = union); ECE and Brier."""
    labels = sorted(set(y_true) | set(y_pred))
    out = {"accuracy": float(sklearn.metrics.accuracy_score(y_true, y_pred))}
    for avg in ("macro", "weighted"):
        prec, rec, f1, _ = sklearn.metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=avg, zero_division=0)
        out["precision_" + avg] = float(prec)
        out["recall_" + avg] = float(rec)
        out["f1_" + avg] = float(f1)
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)
        truth = np.array([classes.index(t) for t in y_true])
        out["ece"] = expected_calibration_error(probs, truth)
        onehot = np.zeros_like(probs)
        onehot[np.arange(len(truth)), truth] = 1.0
        out["brier"] = float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    # Same key order as the schema: accuracy, then precision/recall/f1 macro,
    # then weighted.
    order = ["accuracy", "precision_macro", "recall_macro", "f1_macro",
             "precision_weighted", "recall_weighted", "f1_weighted", "ece",
             "brier"]
    return {k: out[k] for k in order if k in out}


def ece_bin(confidence):
    """Bin of a confidence: [i/10, (i+1)/10), 1.0 in the last bin."""
    return min(int(math.floor(confidence * ECE_BINS)), ECE_BINS - 1)


def expected_calibration_error(probs, truth):
    """Guo et al. 2017: confidence = max probability, class = (first)
    argmax."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == truth).astype(np.float64)
    bins = np.array([ece_bin(c) for c in conf])
    n = len(conf)
    ece = 0.0
    for b in range(ECE_BINS):
        mask = bins == b
        if mask.any():
            gap = abs(correct[mask].mean() - conf[mask].mean())
            ece += mask.sum() / n * gap
    return float(ece)


def regression_expected(y_true, y_pred):
    """sklearn 1.2: MAE, MSE, RMSE, R², MAPE."""
    mse = float(sklearn.metrics.mean_squared_error(y_true, y_pred))
    return {
        "mae": float(sklearn.metrics.mean_absolute_error(y_true, y_pred)),
        "mse": mse,
        "rmse": float(sklearn.metrics.mean_squared_error(y_true, y_pred,
                                                         squared=False)),
        "r2": float(sklearn.metrics.r2_score(y_true, y_pred)),
        "mape": float(sklearn.metrics.mean_absolute_percentage_error(
            y_true, y_pred)),
    }


def multivariate_expected(reference, current_same, current_broken):
    """NannyML's reconstruction error: standardise on the reference, PCA
    keeping > 65% explained variance, mean row-wise L2 error."""
    scaler = sklearn.preprocessing.StandardScaler().fit(reference)
    pca = sklearn.decomposition.PCA(n_components=PCA_VARIANCE,
                                    svd_solver="full")
    pca.fit(scaler.transform(reference))

    def error(rows):
        z = scaler.transform(rows)
        back = pca.inverse_transform(pca.transform(z))
        return float(np.mean(np.linalg.norm(z - back, axis=1)))

    return {
        "components": int(pca.n_components_),
        "reference_error": error(reference),
        "current_same_error": error(current_same),
        "current_broken_error": error(current_broken),
    }


def case_expected(case):
    """Expected values of one stats.json case from its own inputs."""
    kind = case["kind"]
    if kind == "numeric":
        return numeric_expected(case["reference"], case["current"])
    if kind == "categorical":
        return categorical_expected(case["reference"],
                                                case["current"])
    if kind == "z_test":
        return z_expected(case["reference"], case["current"])
    if kind == "classification":
        return classification_expected(
            case["y_true"], case["y_pred"], case.get("classes"),
            case.get("probabilities"))
    if kind == "regression":
        return regression_expected(case["y_true"], case["y_pred"])
    if kind == "multivariate":
        return multivariate_expected(
            case["reference"], case["current_same"],
            case["current_broken_correlation"])
    raise ValueError(f"case {case['name']!r}: unknown kind {kind!r}")


def _parse_column(cells):
    """Non-missing cells of a CSV column; numbers when every one parses."""
    present = [c for c in cells if c != ""]
    try:
        return "numeric", [float(c) for c in present]
    except ValueError:
        return "categorical", present


def default_drift_test(kind, values):
    """(test, threshold, as_categories) chosen from the reference values."""
    unique = len(set(values))
    numeric_many = kind == "numeric" and unique > FEW_UNIQUE
    if len(values) <= SMALL_REFERENCE_ROWS:
        if numeric_many:
            return "ks", 0.05, False
        return ("z" if unique <= 2 else "chi_square"), 0.05, True
    if numeric_many:
        return "wasserstein", 0.1, False
    return "jensen_shannon", 0.1, True


def _drift(test, threshold, ref, cur, stats):
    """Score and decision of the chosen test (p-values: small is drift)."""
    if test == "ks":
        score = stats["ks"]["p_value"]
        return score, score <= threshold
    if test == "wasserstein":
        score = stats["wasserstein_normed"]
        return score, score >= threshold
    if test == "z":
        score = z_expected(ref, cur)["p_value"]
        return score, score < threshold
    _, rc, cc = category_counts(ref, cur)
    if test == "chi_square":
        score = _chi_square(rc, cc)["p_value"]
        return score, score < threshold
    score = _jensen_shannon(_proportions(rc), _proportions(cc))
    return score, score >= threshold


def feature_expected(ref_cells, cur_cells):
    """One feature of a dataset report: type, missing ratio, stats, drift."""
    kind, ref = _parse_column(ref_cells)
    if kind == "numeric":
        cur = [float(c) for c in cur_cells if c != ""]
        stats = numeric_expected(ref, cur)
    else:
        cur = [c for c in cur_cells if c != ""]
        stats = categorical_expected(ref, cur)
    test, threshold, _ = default_drift_test(kind, ref)
    score, detected = _drift(test, threshold, ref, cur, stats)
    return {
        "type": kind,
        "missing_ratio": (len(cur_cells) - len(cur)) / len(cur_cells),
        "stats": stats,
        "drift": {"test": test, "score": score, "threshold": threshold,
                  "detected": bool(detected)},
    }


def dataset_expected(ref_table, cur_table, target, prediction):
    """The report of a (reference, current) pair of tables.

    Tables are {column: [cell text]} in CSV column order; every column but
    target and prediction is a feature. Quality is target vs prediction on
    the current rows.
    """
    features = {}
    for name in ref_table:
        if name in (target, prediction):
            continue
        features[name] = feature_expected(ref_table[name], cur_table[name])
    drifted = sum(f["drift"]["detected"] for f in features.values())
    total = len(features)
    share = drifted / total if total else 0.0
    return {
        "rows": {"reference": len(ref_table[target]),
                 "current": len(cur_table[target])},
        "features": features,
        "dataset_drift": {"drifted_features": drifted,
                          "total_features": total, "share": share,
                          "detected": total > 0 and share >= 0.5},
        "quality": classification_expected(cur_table[target],
                                           cur_table[prediction]),
    }
