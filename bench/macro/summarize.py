#!/usr/bin/python3
"""Turns bench/results/* into bench/results/summary.md (tables, printed too)
and PNG plots (matplotlib, Agg). Missing inputs are skipped.

  summarize.py <results dir>
"""
import csv, json, os, sys

out = sys.argv[1]
md = []


def p(s=""):
    md.append(s)


def tsv(name):
    path = os.path.join(out, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return list(csv.reader(f, delimiter="\t"))


def bench_json(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [b for b in json.load(f)["benchmarks"] if b.get("run_type") == "iteration"]


try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # plots are optional
    plt = None

machine = {}
if os.path.exists(os.path.join(out, "machine.txt")):
    for line in open(os.path.join(out, "machine.txt")):
        k, _, v = line.strip().partition("=")
        machine[k] = v
p("# Benchmark summary")
p()
p(f"Machine: {machine.get('nproc', '?')} CPUs ({machine.get('cpu', '?')}), "
  f"{int(machine.get('mem_total_kb', '0')) // 1024} MiB, kernel {machine.get('kernel', '?')}; "
  f"run {machine.get('date', '?')} at {machine.get('git', '?')}; "
  f"loadavg at start {machine.get('load_at_start', '?')}, at end {machine.get('load_at_end', '?')}.")
p()

# ---------------------------------------------------------------- macro
rows = tsv("macro.tsv")
if rows:
    hdr, data = rows[0], rows[1:]
    by = {(r[0], r[1]): dict(zip(hdr, r)) for r in data}
    phases = [ph for ph in ("batch_100", "batch_1000", "batch_10000", "single_c16", "single_c1")
              if (("ours", ph) in by or ("peer", ph) in by)]
    p("## Ours vs the Python peer (same events, same reference, loopback)")
    p()
    p("| phase | ours events/s | peer events/s | ratio | ours p50 / p99 (ms) | peer p50 / p99 (ms) | ours CPU s / M events | peer CPU s / M events | load |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    fig_data = []
    for ph in phases:
        o, q = by.get(("ours", ph)), by.get(("peer", ph))
        def f(r, k, scale=1.0, fmt="{:,.0f}"):
            return fmt.format(float(r[k]) * scale) if r and r.get(k) not in (None, "") else "–"
        ratio = (float(o["events_per_s"]) / float(q["events_per_s"])
                 if o and q and float(q["events_per_s"]) > 0 else None)
        fig_data.append((ph, float(o["events_per_s"]) if o else 0, float(q["events_per_s"]) if q else 0))
        p(f"| {ph} | {f(o, 'events_per_s')} | {f(q, 'events_per_s')} | "
          f"{'–' if ratio is None else f'{ratio:,.1f}×'} | "
          f"{f(o, 'p50_us', 1e-3, '{:.2f}')} / {f(o, 'p99_us', 1e-3, '{:.2f}')} | "
          f"{f(q, 'p50_us', 1e-3, '{:.2f}')} / {f(q, 'p99_us', 1e-3, '{:.2f}')} | "
          f"{f(o, 'cpu_s_per_million_events', 1, '{:.2f}')} | {f(q, 'cpu_s_per_million_events', 1, '{:.1f}')} | "
          f"{(o or q)['load1']}/{(q or o)['load1']} |")
    p()
    p("Both servers ran with TCP_NODELAY forced on accepted sockets (LD_PRELOAD "
      "shim, bench/macro/nodelay_preload.c). As shipped (without it), and "
      "with glibc malloc tuned (GLIBC_TUNABLES mmap/trim thresholds 64/256 MiB):")
    p()
    p("| server | phase | events/s | p50 / p99 (ms) |")
    p("|---|---|---:|---:|")
    for (srv, ph), r in sorted(by.items()):
        if srv not in ("ours", "peer"):
            p(f"| {srv} | {ph} | {float(r['events_per_s']):,.0f} | "
              f"{float(r['p50_us']) / 1e3:.1f} / {float(r['p99_us']) / 1e3:.1f} |")
    p()
    sc = {r[0]: float(r[2]) for r in (tsv("scrape_macro.tsv") or [])}
    rss = {r[0]: int(r[2]) for r in (tsv("rss_macro.tsv") or [])}
    if sc:
        o, q = sc.get("ours"), sc.get("peer")
        p(f"/metrics with full windows (median of 5, after one new event): ours "
          f"{o * 1e3:.1f} ms, peer " + (f"{q * 1e3:.1f} ms" if q else "not run") +
          (f" (peer/ours {q / o:.1f}×)" if o and q else "") + ".")
    if rss:
        p(f"Peak RSS (VmHWM) after the run: ours {rss.get('ours', 0) / 1024:.1f} MiB, "
          f"peer {rss.get('peer', 0) / 1024:.1f} MiB.")
    p()
    if plt and fig_data:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        xs = range(len(fig_data))
        ax.bar([x - 0.2 for x in xs], [d[1] for d in fig_data], 0.4, label="ours")
        ax.bar([x + 0.2 for x in xs], [d[2] for d in fig_data], 0.4, label="python peer")
        ax.set_xticks(list(xs), [d[0] for d in fig_data])
        ax.set_yscale("log")
        ax.set_ylabel("events/s (log)")
        ax.legend()
        ax.set_title("Ingest throughput over loopback")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "macro_throughput.png"), dpi=100)
        plt.close(fig)

# ---------------------------------------------------------------- stats
rows = tsv("stats_vs_scipy.tsv")
if rows:
    p("## Stats library vs scipy (identical arrays)")
    p()
    p("| n | statistic | ours | scipy | rel. diff | ours µs | scipy µs | speedup |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows[1:]:
        n, s, ov, sv, rel, ou, st, sp = r
        p(f"| {int(n):,} | {s} | {float(ov):.12g} | {float(sv):.12g} | {float(rel):.1e} | "
          f"{'' if not ou else f'{float(ou):,.1f}'} | {'' if not st else f'{float(st):,.1f}'} | "
          f"{'' if not sp else f'{float(sp):.1f}×'} |")
    p()

# ---------------------------------------------------------------- memory
rows = tsv("memory.tsv")
if rows:
    p("## Memory vs window.max_exact_samples (1 model, 6 features)")
    p()
    p("| max_exact_samples | events posted | idle RSS MiB | RSS MiB | peak RSS MiB |")
    p("|---:|---:|---:|---:|---:|")
    mem = []
    for r in rows[1:]:
        s, ev, hwm, rss, idle = map(int, r)
        mem.append((s, hwm / 1024, rss / 1024))
        p(f"| {s:,} | {ev:,} | {idle / 1024:.1f} | {rss / 1024:.1f} | {hwm / 1024:.1f} |")
    p()
    if plt and mem:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([m[0] for m in mem], [m[1] for m in mem], "o-", label="peak RSS (VmHWM)")
        ax.plot([m[0] for m in mem], [m[2] for m in mem], "s--", label="RSS after scrape")
        ax.set_xscale("log")
        ax.set_xlabel("window.max_exact_samples")
        ax.set_ylabel("MiB")
        ax.legend()
        ax.set_title("Memory vs window size (1 model x 6 features)")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "memory_window.png"), dpi=100)
        plt.close(fig)

# ---------------------------------------------------------------- micro
ing = bench_json("ingest_benchmark.json")
if ing:
    p("## Ingest micro-benchmarks (ExporterApp::Handle, no sockets)")
    p()
    p("| benchmark | time per request | events/s |")
    p("|---|---:|---:|")
    feat = []
    for b in ing:
        eps = b.get("items_per_second", 0)
        p(f"| {b['name']} | {b['real_time']:,.1f} {b['time_unit']} | {eps:,.0f} |")
        if b["name"].startswith("BM_IngestFeatures/"):
            feat.append((int(b["name"].split("/")[1]), eps))
    p()
    if plt and feat:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([f[0] for f in feat], [f[1] for f in feat], "o-")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("numeric features per event (with reference)")
        ax.set_ylabel("events/s (in-process, 1 core)")
        ax.set_title("Ingest vs features (NDJSON, 1000 events/request)")
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "ingest_features.png"), dpi=100)
        plt.close(fig)

scr = bench_json("scrape_benchmark.json")
if scr:
    p("## Scrape micro-benchmarks (GET /metrics through ExporterApp::Handle)")
    p()
    p("| benchmark | mode | wall time | CPU time (process) | series | body |")
    p("|---|---|---:|---:|---:|---:|")
    grid = {}
    for b in scr:
        mode = b.get("label", "")
        t = b["real_time"]
        unit = b["time_unit"]
        p(f"| {b['name']} | {mode} | {t:,.1f} {unit} | {b['cpu_time']:,.1f} {unit} | {b.get('series', 0):,.0f} | "
          f"{b.get('body_bytes', 0) / 1024:,.0f} KiB |")
        parts = dict(kv.split(":") for kv in b["name"].split("/")[1:] if ":" in kv)
        if "models" in parts and unit == "ms":
            key = (int(parts["models"]), int(parts["features"]), int(parts["samples"]))
            grid.setdefault(key, {})[mode] = t
    p()
    if plt and grid:
        fig, ax = plt.subplots(figsize=(7, 3.8))
        keys = sorted(grid, key=lambda k: (k[0] * k[1], k[2]))
        labels = [f"{m}x{f}\n{s // 1000}k" for m, f, s in keys]
        xs = range(len(keys))
        for i, mode in enumerate(("first", "dirty", "cached")):
            ax.bar([x + (i - 1) * 0.27 for x in xs], [grid[k].get(mode, 0) for k in keys],
                   0.27, label=mode)
        ax.axhline(1000, color="red", ls="--", lw=1, label="target 1 s")
        ax.set_xticks(list(xs), labels)
        ax.set_yscale("log")
        ax.set_ylabel("ms per scrape (log)")
        ax.set_xlabel("models x features, samples per window")
        ax.legend(fontsize=8)
        ax.set_title("/metrics render vs models x features")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "scrape_scaling.png"), dpi=100)
        plt.close(fig)

text = "\n".join(md) + "\n"
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(text)
print(text)
