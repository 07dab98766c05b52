#!/usr/bin/env bash
# A/B of two exporter binaries on the same ingest load, in the same run,
# alternating A and B for ROUNDS rounds so drifting machine load hits both:
#
#   bench/http_ab.sh OLD_BINARY NEW_BINARY [ROUNDS]     # default 3 rounds
#
# Phases per binary and round (the macro run's, bench/run_benchmarks.sh):
# NDJSON batches of 1,000 events (loadgen, 2 keep-alive connections),
# single-event requests (wrk + post.lua, 16 and 64 connections), and a
# 3,000-event batch posted by curl with its defaults (bookworm's curl sends
# "Expect: 100-continue" with it, and waits 1 s when no 100 comes). Prints one TSV line per phase and
# the median per binary. Needs wrk and curl (scripts/setup.sh bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=${1:?usage: $0 OLD_BINARY NEW_BINARY [ROUNDS]}
B=${2:?usage: $0 OLD_BINARY NEW_BINARY [ROUNDS]}
ROUNDS=${3:-3}
PY=/usr/bin/python3
ORACLE=$ROOT/testdata/oracle
REF=$ORACLE/datasets/large_stable_reference.csv
# free_port, wait_http, write_config
# shellcheck source=bench/macro/lib.sh
source "$ROOT/bench/macro/lib.sh"
WORK=$(mktemp -d /tmp/aiq-http-ab.XXXXXX)
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

g++ -O2 -std=c++20 -pthread "$ROOT/bench/macro/loadgen.cc" -o "$WORK/loadgen"
$PY "$ROOT/bench/macro/gen_bodies.py" \
  "$ORACLE/datasets/large_stable_current.csv" "$WORK" >/dev/null
head -3000 "$WORK/body_10000.ndjson" >"$WORK/body_3000.ndjson"

start() {  # binary port
  write_config "$2" 10000 "$WORK/aiq.yaml"
  "$1" serve --config "$WORK/aiq.yaml" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$2/-/ready"
}

stop() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Prints: events/s (batches, single) or seconds (curl).
run_phases() {  # label port
  local url="http://127.0.0.1:$2" line rps t
  line=$("$WORK/loadgen" --port "$2" --path /api/v1/predictions \
    --content-type application/x-ndjson --connections 2 \
    --body-file "$WORK/body_1000.ndjson" --events-per-request 1000 \
    --requests 3000 --max-seconds 8 2>&1 | grep -E '^requests=' | tail -1)
  rps=$(sed -E 's/.*req_per_s=([0-9.]+).*/\1/' <<<"$line")
  printf '%s\tbatch_1000_events_per_s\t%.0f\n' "$1" "$(awk -v r="$rps" 'BEGIN {print r * 1000}')"
  for c in 16 64; do
    line=$(AIQ_BODY_FILE="$WORK/body_1.ndjson" wrk -t2 -c"$c" -d6s --latency \
      -s "$ROOT/bench/macro/post.lua" "$url/api/v1/predictions" 2>&1 |
      grep -E '^(WRK )?requests=' | tail -1)
    rps=$(sed -E 's/.*req_per_s=([0-9.]+).*/\1/' <<<"$line")
    printf '%s\tsingle_c%s_req_per_s\t%.0f\n' "$1" "$c" "$rps"
  done
  # curl's defaults: Expect: 100-continue on a large body. Median of 5.
  local times=()
  for _ in 1 2 3 4 5; do
    t=$(curl -fsS -o /dev/null -w '%{time_total}' \
      -H 'Content-Type: application/x-ndjson' \
      --data-binary "@$WORK/body_3000.ndjson" "$url/api/v1/predictions")
    times+=("$t")
  done
  printf '%s\tcurl_3000_batch_s\t%s\n' "$1" \
    "$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)"
}

echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) load $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for label in A B; do
    bin=$A
    [[ $label == B ]] && bin=$B
    port=$(free_port)
    start "$bin" "$port"
    run_phases "$label" "$port" | tee -a "$WORK/all.tsv" | sed "s/^/round $round\t/"
    stop
  done
done
echo "# medians (A = $A, B = $B)"
$PY - "$WORK/all.tsv" <<'EOF'
import collections, statistics, sys
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, phase, value = line.split("\t")
    v[(phase, label)].append(float(value))
for phase in sorted({p for p, _ in v}):
    a, b = statistics.median(v[(phase, "A")]), statistics.median(v[(phase, "B")])
    print(f"{phase}\tA {a:.4g}\tB {b:.4g}\tB/A {b / a:.2f}")
EOF
