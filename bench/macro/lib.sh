# shellcheck shell=bash
# Shell helpers the benchmark scripts share (bench/run_benchmarks.sh,
# bench/http_ab.sh); sourced, not run. Needs PY (a python3) and REF (the
# reference CSV the config names) set by the caller.

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() {  # url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2
  return 1
}

# The macro runs' model: the 6 features of large_stable_*.csv, reference
# $REF, a 1 h window.
write_config() {  # port max_exact_samples file
  cat >"$3" <<EOF
server:
  listen: "127.0.0.1:$1"
  threads: 8
models:
  - name: churn
    task: classification
    versions: [v1]
    classes: [churn, stay]
    features:
      - {name: income, type: numeric}
      - {name: age, type: numeric}
      - {name: score, type: numeric}
      - {name: rooms, type: numeric}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    reference: {csv: "$REF", target: target, prediction: prediction}
    window: {duration: 1h, buckets: 12, max_exact_samples: $2}
EOF
}
