#!/usr/bin/env bash
# Runs one benchmark binary briefly: `run_one.sh BINARY [FILTER]`. Without a
# filter, the first benchmark it lists. Fails if the binary fails, runs
# nothing, or a benchmark reports an error (SkipWithError).
set -euo pipefail
bin=$1
filter=${2:-}
if [[ ! -x "$bin" ]]; then
  echo "bench_smoke: $bin is not built (ninja $(basename "$bin"))" >&2
  exit 1
fi
if [[ -z "$filter" ]]; then
  first=$("$bin" --benchmark_list_tests | head -1)
  [[ -n "$first" ]] || { echo "bench_smoke: $bin lists no benchmarks" >&2; exit 1; }
  # Regex-escape the name (it may hold <, >, :, ( and so on).
  filter="^$(sed -E 's/[][(){}.*+?^$|\\]/\\&/g' <<<"$first")\$"
fi
out=$("$bin" --benchmark_filter="$filter" --benchmark_min_time=0.01 \
  --benchmark_format=console 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if grep -q "ERROR OCCURRED" <<<"$out"; then
  echo "bench_smoke: a benchmark reported an error" >&2
  exit 1
fi
if ! grep -qE '^BM_' <<<"$out"; then
  echo "bench_smoke: filter '$filter' ran no benchmark" >&2
  exit 1
fi
