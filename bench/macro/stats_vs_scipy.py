#!/usr/bin/python3
"""KS / PSI / Wasserstein: the project's stats library vs scipy on identical
arrays, at 1k / 10k / 100k samples (reference and current of equal size,
current shifted by 0.1 sd, values rounded to 1e-6 so ties are rare but
possible as in real data).

  stats_vs_scipy.py <stats_driver binary> <workdir> <out.tsv>

Writes one TSV row per (size, statistic): n, stat, ours, scipy, rel_diff,
ours_us, scipy_us, speedup. Timing of scipy: timeit, best of 3 repeats,
mean per call; the PSI side bins the current window into reference deciles
precomputed once (as the peer does).
"""
import subprocess, sys, timeit
import numpy as np
from scipy import stats

driver, workdir, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for n in (1000, 10000, 100000):
    rng = np.random.default_rng(n)
    ref = np.round(rng.normal(0, 1, n), 6)
    cur = np.round(rng.normal(0.1, 1, n), 6)
    rp, cp = f"{workdir}/ref_{n}.txt", f"{workdir}/cur_{n}.txt"
    np.savetxt(rp, ref, fmt="%.6f")
    np.savetxt(cp, cur, fmt="%.6f")
    line = subprocess.run([driver, rp, cp], check=True, capture_output=True,
                          text=True).stdout.split()
    ours = dict(kv.split("=", 1) for kv in line)

    ref_sorted = np.sort(ref)
    edges = np.r_[-np.inf, np.percentile(ref_sorted, np.linspace(0, 100, 11))[1:-1], np.inf]
    ref_p = np.histogram(ref_sorted, bins=edges)[0] / n

    def psi():
        q = np.histogram(cur, bins=edges)[0] / len(cur)
        r = np.where(ref_p == 0, 1e-4, ref_p)
        q = np.where(q == 0, 1e-4, q)
        return float(np.sum((q - r) * np.log(q / r)))

    def per_call(f):
        number = max(1, int(0.2 / max(timeit.timeit(f, number=1), 1e-6)))
        return min(timeit.repeat(f, number=number, repeat=3)) / number * 1e6

    ks = stats.ks_2samp(ref, cur)
    sc = {
        "ks_statistic": (float(ks.statistic), None),
        "ks_p_value": (float(ks.pvalue), per_call(lambda: stats.ks_2samp(ref, cur))),
        "psi": (psi(), per_call(psi)),
        "wasserstein": (float(stats.wasserstein_distance(ref, cur)),
                        per_call(lambda: stats.wasserstein_distance(ref, cur))),
    }
    us = {"ks_statistic": None, "ks_p_value": float(ours["ks_us"]),
          "psi": float(ours["psi_us"]), "wasserstein": float(ours["wasserstein_us"])}
    for name, (sv, st) in sc.items():
        ov = float(ours[name])
        rel = abs(ov - sv) / max(abs(sv), 1e-300)
        ou = us[name]
        rows.append((n, name + ("(" + ours["ks_mode"] + ")" if name.startswith("ks_p") else ""),
                     ov, sv, rel, ou, st, (st / ou) if (st and ou) else None))

with open(out, "w") as f:
    f.write("n\tstat\tours\tscipy\trel_diff\tours_us\tscipy_us\tspeedup\n")
    for r in rows:
        f.write("\t".join("" if x is None else (f"{x:.17g}" if isinstance(x, float) else str(x))
                          for x in r) + "\n")
print(f"{'n':>7} {'stat':<24} {'ours':>22} {'scipy':>22} {'rel_diff':>9} {'ours_us':>10} {'scipy_us':>10} {'x':>6}")
for n, s, o, sv, rel, ou, st, sp in rows:
    print(f"{n:>7} {s:<24} {o:>22.15g} {sv:>22.15g} {rel:>9.1e} "
          f"{'' if ou is None else f'{ou:10.1f}':>10} {'' if st is None else f'{st:10.1f}':>10} "
          f"{'' if sp is None else f'{sp:6.1f}':>6}")
