#!/usr/bin/env bash
# The whole benchmark suite in one re-runnable command (docs/benchmarks.md):
#
#   bench/run_benchmarks.sh            # everything, ~4 minutes + the build
#   bench/run_benchmarks.sh macro      # only the side-by-side macro run
#   bench/run_benchmarks.sh micro      # only the Google Benchmark binaries
#   bench/run_benchmarks.sh state      # only durable state off vs on
#   bench/run_benchmarks.sh stats      # only the stats library vs scipy
#   bench/run_benchmarks.sh memory     # only memory vs max_exact_samples
#   bench/run_benchmarks.sh otlp       # only OTLP span ingest vs the JSON API
#   bench/run_benchmarks.sh backtest   # only the backtest replay and 7 days end to end
#
# 1. installs what it needs (scripts/setup.sh bench), builds Release in
#    build-bench/ (AIQ_BENCH_BUILD overrides), compiles bench/macro/loadgen.cc
#    and bench/macro/stats_driver.cc;
# 2. macro: our exporter and the Python peer (py_exporter.py, which comes
#    with the product brief, not with this repository: AIQ_PEER=path; its
#    runs are skipped when unset), one after the other on loopback, with the
#    same reference (testdata/oracle large_stable_reference.csv) and the same
#    events (large_stable_current.csv rows): batched NDJSON at 100/1000/10000 events
#    per request (loadgen, 2 keep-alive connections), single-event requests
#    (wrk + bench/macro/post.lua, 16 connections; and 1 connection for
#    latency) -- both servers with TCP_NODELAY forced on by an LD_PRELOAD
#    shim (bench/macro/nodelay_preload.c), plus short "shipped" runs
#    without it --, CPU seconds per million events (/proc/PID/stat), peak RSS
#    (VmHWM), /metrics scrape time with full windows;
# 3. stats library vs scipy on identical arrays (1k/10k/100k);
# 4. memory vs window.max_exact_samples;
# 5. otlp: the same chat calls posted on loopback as OTLP/HTTP protobuf
#    and JSON traces and as JSON API NDJSON (bench/macro/otlp_bodies.cc),
#    100 and 1000 per request, loadgen with 2 connections, one exporter;
#    every call must be accepted (checked on /metrics);
# 6. micro: bench/ingest_benchmark, bench/scrape_benchmark and
#    bench/otlp_benchmark (JSON, with the binary's path made relative to
#    the repository);
# 7. bench/macro/summarize.py: bench/results/summary.md + PNG plots.
# Every loop is bounded by a request count and a time limit; every server
# binds 127.0.0.1 and is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${AIQ_BENCH_BUILD:-$ROOT/build-bench}
OUT=${AIQ_BENCH_OUT:-$ROOT/bench/results}
ORACLE=${AIQ_ORACLE_DIR:-$ROOT/testdata/oracle}
PEER=${AIQ_PEER:-}
PY=/usr/bin/python3
WHAT=${1:-all}
REF=$ORACLE/datasets/large_stable_reference.csv
CUR=$ORACLE/datasets/large_stable_current.csv
for f in "$REF" "$CUR"; do
  if [[ ! -r $f ]]; then
    echo "missing test data $f: regenerate it with tools/oracle/generate.py" \
      "(docs/testdata.md) or set AIQ_ORACLE_DIR" >&2
    exit 2
  fi
done
if [[ -n $PEER && ! -r $PEER ]]; then
  echo "AIQ_PEER=$PEER: no such file" >&2
  exit 2
fi
WORK=$(mktemp -d /tmp/aiq-bench.XXXXXX)
CLK_TCK=$(getconf CLK_TCK)
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
# free_port, wait_http, write_config
# shellcheck source=bench/macro/lib.sh
source "$ROOT/bench/macro/lib.sh"

# ---------------------------------------------------------------- setup
"$ROOT/scripts/setup.sh" bench
mkdir -p "$OUT"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" ai_quality_exporter ingest_benchmark scrape_benchmark \
  stats_benchmark state_benchmark otlp_benchmark otlp_bodies >/dev/null
EXPORTER=$BUILD/ai_quality_exporter
g++ -O2 -std=c++20 -pthread "$ROOT/bench/macro/loadgen.cc" -o "$WORK/loadgen"
LOADGEN=$WORK/loadgen
cc -O2 -shared -fPIC "$ROOT/bench/macro/nodelay_preload.c" -o "$WORK/nodelay.so" -ldl
NODELAY=$WORK/nodelay.so

# The stats driver: stats_benchmark's compile flags and link line, with the
# driver's object in place of the benchmark's.
build_stats_driver() {
  local cmd obj link
  cmd=$($PY - "$BUILD" <<'EOF'
import json, sys, shlex
for e in json.load(open(sys.argv[1] + "/compile_commands.json")):
    if e["file"].endswith("bench/stats_benchmark.cc"):
        a = shlex.split(e["command"])
        i = a.index("-o"); a[i + 1] = "STATS_DRIVER_OBJ"
        i = a.index("-c"); a[i + 1] = "STATS_DRIVER_SRC"
        print(shlex.join(a)); break
EOF
)
  obj=$WORK/stats_driver.o
  cmd=${cmd//STATS_DRIVER_OBJ/$obj}
  cmd=${cmd//STATS_DRIVER_SRC/$ROOT/bench/macro/stats_driver.cc}
  (cd "$BUILD" && eval "$cmd")
  link=$(ninja -C "$BUILD" -t commands bench/stats_benchmark | tail -1)
  link=${link//bench\/CMakeFiles\/stats_benchmark.dir\/stats_benchmark.cc.o/$obj}
  link=${link//-o bench\/stats_benchmark/-o $WORK/stats_driver}
  link=${link//-lbenchmark_main/}
  (cd "$BUILD" && eval "${link#*&& }")
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
vm() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }  # kB
load1() { cut -d' ' -f1 /proc/loadavg; }

# ---------------------------------------------------------------- machine
# A `state` or `otlp` run alone records its machine beside its own results, so the
# full run's machine.txt keeps describing the full run's figures.
MACHINE_FILE=machine.txt
[[ $WHAT == state || $WHAT == otlp ]] && MACHINE_FILE=${WHAT}_machine.txt
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "mem_total_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "load_at_start=$(cat /proc/loadavg)"
} >"$OUT/$MACHINE_FILE"

# ---------------------------------------------------------------- macro
# Appends rows to macro.tsv: server phase events req_per_s events_per_s
#   p50_us p99_us cpu_s_per_million_events load1
MACRO=$OUT/macro.tsv

phase() {  # server phase events_per_request cmd...
  local server=$1 name=$2 per=$3
  shift 3
  local t0 t1 line reqs eps rps p50 p99 cpu events
  t0=$(cpu_ticks "$SERVER_PID")
  line=$("$@" 2>&1 | grep -E '^(WRK )?requests=' | tail -1 || true)
  t1=$(cpu_ticks "$SERVER_PID")
  line=${line#WRK }
  reqs=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  rps=$(sed -E 's/.*req_per_s=([0-9.]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.*p50_us=([0-9.]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$line")
  events=$((reqs * per))
  eps=$(awk -v r="$rps" -v p="$per" 'BEGIN {printf "%.1f", r * p}')
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v e="$events" \
    'BEGIN {printf "%.3f", e ? d / hz / e * 1e6 : 0}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$name" "$events" \
    "$rps" "$eps" "$p50" "$p99" "$cpu" "$(load1)" >>"$MACRO"
  log "$server $name: $line cpu_s_per_Mev=$cpu"
}

# Both servers answer with two writes (headers, then body) on a socket
# without TCP_NODELAY, so every keep-alive response waits ~40 ms for the
# client's delayed ACK. "shipped" rows show that (short runs); the main rows
# run both servers with bench/macro/nodelay_preload.c (TCP_NODELAY on
# accepted sockets, what civetweb's tcp_nodelay=1 does).
drive_shipped() {  # server port
  local server=$1 port=$2 url="http://127.0.0.1:$2"
  phase "$server" batch_1000 1000 "$LOADGEN" --port "$port" \
    --path /api/v1/predictions --content-type application/x-ndjson \
    --connections 2 --body-file "$WORK/body_1000.ndjson" \
    --events-per-request 1000 --requests 3000 --max-seconds 4
  phase "$server" single_c1 1 env AIQ_BODY_FILE="$WORK/body_1.ndjson" \
    wrk -t1 -c1 -d4s --latency -s "$ROOT/bench/macro/post.lua" "$url/api/v1/predictions"
}

drive() {  # server port
  local server=$1 port=$2 url="http://127.0.0.1:$2"
  local -a lg=("$LOADGEN" --port "$port" --path /api/v1/predictions
    --content-type application/x-ndjson --connections 2)
  phase "$server" batch_100 100 "${lg[@]}" --body-file "$WORK/body_100.ndjson" \
    --events-per-request 100 --requests 20000 --max-seconds 10
  phase "$server" batch_1000 1000 "${lg[@]}" --body-file "$WORK/body_1000.ndjson" \
    --events-per-request 1000 --requests 3000 --max-seconds 10
  phase "$server" batch_10000 10000 "${lg[@]}" --body-file "$WORK/body_10000.ndjson" \
    --events-per-request 10000 --requests 400 --max-seconds 10
  phase "$server" single_c16 1 env AIQ_BODY_FILE="$WORK/body_1.ndjson" \
    wrk -t2 -c16 -d8s --latency -s "$ROOT/bench/macro/post.lua" "$url/api/v1/predictions"
  phase "$server" single_c1 1 env AIQ_BODY_FILE="$WORK/body_1.ndjson" \
    wrk -t1 -c1 -d5s --latency -s "$ROOT/bench/macro/post.lua" "$url/api/v1/predictions"
  # /metrics with full windows: after one new event (ours recomputes the
  # dirty windows; the peer recomputes on every scrape). Median of 5.
  local times=() t
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -H 'Content-Type: application/x-ndjson' \
      --data-binary "@$WORK/body_1.ndjson" "$url/api/v1/predictions"
    t=$(curl -fsS -o "$WORK/scrape_$server.txt" -w '%{time_total}' "$url/metrics")
    times+=("$t")
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
  printf '%s\tscrape_s\t%s\t%s\n' "$server" "$med" "$(load1)" >>"$OUT/scrape_macro.tsv"
  printf '%s\tpeak_rss_kb\t%s\n' "$server" "$(vm "$SERVER_PID" VmHWM)" >>"$OUT/rss_macro.tsv"
  log "$server scrape median ${med}s; VmHWM $(vm "$SERVER_PID" VmHWM) kB"
}


run_macro() {
  log "macro: bodies, then our exporter, then the peer (load $(load1))"
  $PY "$ROOT/bench/macro/gen_bodies.py" "$CUR" "$WORK"
  printf 'server\tphase\tevents\treq_per_s\tevents_per_s\tp50_us\tp99_us\tcpu_s_per_million_events\tload1\n' >"$MACRO"
  : >"$OUT/scrape_macro.tsv"
  : >"$OUT/rss_macro.tsv"
  local port variant preload
  for variant in shipped nodelay; do
    preload=""
    [[ $variant == nodelay ]] && preload=$NODELAY
    port=$(free_port)
    write_config "$port" 10000 "$WORK/aiq.yaml"
    env ${preload:+LD_PRELOAD=$preload} "$EXPORTER" serve --config "$WORK/aiq.yaml" \
      >"$WORK/ours.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$port/-/ready"
    if [[ $variant == nodelay ]]; then drive ours "$port"; else drive_shipped ours_shipped "$port"; fi
    stop_server

    if [[ -z $PEER ]]; then
      log "macro: AIQ_PEER not set, no peer run ($variant)"
      continue
    fi
    port=$(free_port)
    env ${preload:+LD_PRELOAD=$preload} $PY "$PEER" --reference "$REF" \
      --port "$port" --window 10000 >"$WORK/peer.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$port/metrics"
    if [[ $variant == nodelay ]]; then drive peer "$port"; else drive_shipped peer_shipped "$port"; fi
    stop_server
  done

  # What-if: ours with glibc malloc tuned so the per-request decode
  # buffers (MBs at 10k events) are not trimmed and page-faulted back in on
  # every request -- what mallopt(M_MMAP_THRESHOLD / M_TRIM_THRESHOLD) at
  # startup, or reused decode buffers, would do.
  port=$(free_port)
  write_config "$port" 10000 "$WORK/aiq.yaml"
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456 \
    LD_PRELOAD=$NODELAY "$EXPORTER" serve --config "$WORK/aiq.yaml" >"$WORK/ours.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$port/-/ready"
  local n
  for n in 1000 10000; do
    phase ours_malloc_tuned "batch_$n" "$n" "$LOADGEN" --port "$port" \
      --path /api/v1/predictions --content-type application/x-ndjson \
      --connections 2 --body-file "$WORK/body_$n.ndjson" \
      --events-per-request "$n" --requests $((3000000 / n)) --max-seconds 8
  done
  stop_server
}

# OTLP span ingest on loopback, side by side with the JSON API on the same
# calls (issue target: >= 300k spans/s for protobuf). Rows go to
# otlp_macro.tsv in macro.tsv's columns.
run_otlp() {
  log "otlp: bodies, then one exporter for every encoding (load $(load1))"
  "$BUILD/bench/otlp_bodies" "$WORK" 100 1000
  local tsv=$OUT/otlp_macro.tsv port
  printf 'server\tphase\tevents\treq_per_s\tevents_per_s\tp50_us\tp99_us\tcpu_s_per_million_events\tload1\n' >"$tsv"
  port=$(free_port)
  cat >"$WORK/otlp.yaml" <<EOF
server:
  listen: "127.0.0.1:$port"
  threads: 8
models:
  - name: chatbot
    task: generation
    versions: [gpt-4o]
    cost_per_1k_prompt_tokens: 0.0025
    cost_per_1k_completion_tokens: 0.01
EOF
  LD_PRELOAD=$NODELAY "$EXPORTER" serve --config "$WORK/otlp.yaml" \
    >"$WORK/otlp.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$port/-/ready"
  local n name path type file
  for n in 100 1000; do
    for name in otlp_proto otlp_json json_api; do
      case $name in
        otlp_proto) path=/v1/traces type=application/x-protobuf file=traces_$n.pb ;;
        otlp_json) path=/v1/traces type=application/json file=traces_$n.json ;;
        json_api) path=/api/v1/predictions type=application/x-ndjson file=calls_$n.ndjson ;;
      esac
      MACRO=$tsv phase ours "${name}_$n" "$n" "$LOADGEN" --port "$port" \
        --path "$path" --content-type "$type" --connections 2 \
        --body-file "$WORK/$file" --events-per-request "$n" \
        --requests $((4000000 / n)) --max-seconds 8
    done
  done
  # A 200 may still refuse items (partial_success): none may be refused,
  # and every call must be counted.
  local scrape rejected counted sent
  scrape=$(curl -fsS "http://127.0.0.1:$port/metrics")
  rejected=$(awk '/^aiq_exporter_events_rejected_total/ {s += $2} END {print s + 0}' <<<"$scrape")
  counted=$(awk '/^aiq_predictions_total/ {s += $2} END {printf "%d", s}' <<<"$scrape")
  sent=$(awk -F'\t' 'NR > 1 {s += $3} END {printf "%d", s}' "$tsv")
  stop_server
  log "otlp: sent $sent calls, counted $counted, rejected $rejected"
  if [[ $rejected != 0 || $counted != "$sent" ]]; then
    echo "otlp: $rejected calls refused or $counted counted of $sent sent" >&2
    return 1
  fi
}

# Memory vs window.max_exact_samples: 2 x samples events (>= 200k) posted
# in 10k batches, then VmHWM / VmRSS.
run_memory() {
  log "memory vs max_exact_samples"
  printf 'max_exact_samples\tevents\tvm_hwm_kb\tvm_rss_kb\tidle_rss_kb\n' >"$OUT/memory.tsv"
  local s port events reqs idle
  for s in 1000 10000 100000 1000000; do
    port=$(free_port)
    write_config "$port" "$s" "$WORK/mem.yaml"
    LD_PRELOAD=$NODELAY "$EXPORTER" serve --config "$WORK/mem.yaml" >"$WORK/mem.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$port/-/ready"
    idle=$(vm "$SERVER_PID" VmRSS)
    events=$((2 * s > 200000 ? 2 * s : 200000))
    reqs=$((events / 10000))
    "$LOADGEN" --port "$port" --path /api/v1/predictions \
      --content-type application/x-ndjson --connections 2 \
      --body-file "$WORK/body_10000.ndjson" --events-per-request 10000 \
      --requests "$reqs" --max-seconds 60 >/dev/null
    curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
    printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$events" "$(vm "$SERVER_PID" VmHWM)" \
      "$(vm "$SERVER_PID" VmRSS)" "$idle" >>"$OUT/memory.tsv"
    stop_server
  done
}

run_stats() {
  log "stats library vs scipy"
  build_stats_driver
  $PY "$ROOT/bench/macro/stats_vs_scipy.py" "$WORK/stats_driver" "$WORK" \
    "$OUT/stats_vs_scipy.tsv"
}

# Google Benchmark records the binary's absolute path ("executable"); the
# stored results keep it relative to the repository (or just its name).
scrub_paths() {
  $PY - "$ROOT" "$@" <<'EOF'
import os, re, sys
root = sys.argv[1]
for path in sys.argv[2:]:
    with open(path) as f:
        text = f.read()
    def rel(m):
        p = m.group(2)
        p = os.path.relpath(p, root) if p.startswith(root + "/") else os.path.basename(p)
        return m.group(1) + p + '"'
    with open(path, "w") as f:
        f.write(re.sub(r'("executable": ")([^"]*)"', rel, text))
EOF
}

# Durable state off and on, in one run (docs/benchmarks.md "Durable
# state"): the same server and bodies, state.dir in $WORK (the file system
# of /tmp decides the fdatasync cost), 64 server threads so that concurrent
# requests can share one fdatasync. Rows go to state_macro.tsv; then
# bench/state_benchmark (in-process, incl. the restart with 100 models x 20
# features and 10M pending labels) to state_benchmark.json.
run_state() {
  log "state: our exporter with state off and on (load $(load1))"
  [[ -r $WORK/body_1000.ndjson ]] || $PY "$ROOT/bench/macro/gen_bodies.py" "$CUR" "$WORK"
  local saved=$MACRO port mode
  MACRO=$OUT/state_macro.tsv
  printf 'server\tphase\tevents\treq_per_s\tevents_per_s\tp50_us\tp99_us\tcpu_s_per_million_events\tload1\n' >"$MACRO"
  for mode in off on; do
    port=$(free_port)
    write_config "$port" 10000 "$WORK/aiq.yaml"
    sed -i 's/^  threads: 8$/  threads: 64/' "$WORK/aiq.yaml"
    local -a state_args=()
    if [[ $mode == on ]]; then
      rm -rf "$WORK/state"
      state_args=(--state-dir "$WORK/state")
    fi
    env LD_PRELOAD="$NODELAY" "$EXPORTER" serve --config "$WORK/aiq.yaml" \
      "${state_args[@]}" >"$WORK/ours_state_$mode.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$port/-/ready"
    local -a lg=("$LOADGEN" --port "$port" --path /api/v1/predictions
      --content-type application/x-ndjson --body-file "$WORK/body_1000.ndjson"
      --events-per-request 1000 --requests 6000 --max-seconds 10)
    phase "state_$mode" batch_1000_c2 1000 "${lg[@]}" --connections 2
    phase "state_$mode" batch_1000_c8 1000 "${lg[@]}" --connections 8
    phase "state_$mode" single_c64 1 env AIQ_BODY_FILE="$WORK/body_1.ndjson" \
      wrk -t2 -c64 -d8s --latency -s "$ROOT/bench/macro/post.lua" \
      "http://127.0.0.1:$port/api/v1/predictions"
    if [[ $mode == on ]]; then
      curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^aiq_state_' \
        >"$OUT/state_metrics.txt" || true
    fi
    stop_server
  done
  MACRO=$saved
  log "state: bench/state_benchmark (load $(load1))"
  TMPDIR=$WORK "$BUILD/bench/state_benchmark" \
    --benchmark_out="$OUT/state_benchmark.json" --benchmark_out_format=json \
    >"$OUT/state_benchmark.txt" 2>/dev/null
  scrub_paths "$OUT/state_benchmark.json"
}

run_micro() {
  log "micro: ingest_benchmark (load $(load1))"
  "$BUILD/bench/ingest_benchmark" --benchmark_min_time=0.5 \
    --benchmark_out="$OUT/ingest_benchmark.json" --benchmark_out_format=json \
    >"$OUT/ingest_benchmark.txt"
  log "micro: scrape_benchmark (load $(load1))"
  "$BUILD/bench/scrape_benchmark" --benchmark_min_time=0.2 \
    --benchmark_out="$OUT/scrape_benchmark.json" --benchmark_out_format=json \
    >"$OUT/scrape_benchmark.txt"
  log "micro: otlp_benchmark (load $(load1))"
  "$BUILD/bench/otlp_benchmark" --benchmark_min_time=0.5 \
    --benchmark_out="$OUT/otlp_benchmark.json" --benchmark_out_format=json \
    >"$OUT/otlp_benchmark.txt"
  scrub_paths "$OUT/ingest_benchmark.json" "$OUT/scrape_benchmark.json" \
    "$OUT/otlp_benchmark.json"
}

# backtest: replay speed in process (bench/backtest_benchmark.cc), then
# 7 days x 1 prediction/s of the demo model end to end with the shipped
# rules (docs/backtest.md), timed.
run_backtest() {
  "$BUILD/bench/backtest_benchmark" \
    --benchmark_out="$OUT/backtest_benchmark.json" --benchmark_out_format=json \
    >"$OUT/backtest_benchmark.txt"
  scrub_paths "$OUT/backtest_benchmark.json"
  local dir="$WORK/backtest"
  mkdir -p "$dir"
  /usr/bin/python3 "$ROOT/tools/backtest/churn_log.py" --out "$dir" \
    --hours 168 --rate 1 --seed 3
  local start=$SECONDS
  "$EXPORTER" backtest --predictions "$dir/predictions.ndjson" \
    --labels "$dir/labels.ndjson" \
    --rules "$ROOT/prometheus/rules" "$ROOT/alerts" --step 1m \
    --out "$dir/history.om" --format json >"$OUT/backtest_7d_alerts.json" \
    2>"$OUT/backtest_7d.log"
  echo "backtest_7d_seconds=$((SECONDS - start))" >>"$OUT/$MACHINE_FILE"
  rm -rf "$dir"
}

case "$WHAT" in
  all) run_macro; run_stats; run_memory; run_micro; run_state; run_otlp ;;
  macro) run_macro ;;
  state) run_state ;;
  stats) run_stats ;;
  memory) $PY "$ROOT/bench/macro/gen_bodies.py" "$CUR" "$WORK"; run_memory ;;
  micro) run_micro ;;
  otlp) run_otlp ;;
  backtest) run_backtest ;;
  *) echo "usage: $0 [all|macro|stats|memory|micro|state|otlp|backtest]" >&2; exit 2 ;;
esac
echo "load_at_end=$(cat /proc/loadavg)" >>"$OUT/$MACHINE_FILE"
[[ $WHAT == state || $WHAT == otlp || $WHAT == backtest ]] || $PY "$ROOT/bench/macro/summarize.py" "$OUT"
