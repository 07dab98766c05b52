#!/usr/bin/env bash
# Prometheus rules, alerts and Alertmanager routing, proven by tests
# (CTest: promtool_rules_and_alerts). Runs from any cwd; exits non-zero on
# any failure; last line "N passed, M failed".
#
#   1. promtool check config   prometheus/prometheus.yml (as shipped and as
#                               rendered for a native run)
#   2. promtool check rules    every prometheus/rules/*.yml and alerts/*.yml
#   3. promtool test rules     every prometheus/rules/tests/*_test.yml and
#                               alerts/tests/*_test.yml
#   4. catalogue lint          tests/rules/check_catalogue.py (naming, labels,
#                               annotations, runbooks, test coverage)
#   5. amtool check-config     alertmanager/alertmanager.yml
#   6. amtool routes test      every case in alertmanager/tests/routes.txt
#   7. live Alertmanager       grouping and inhibition
#                               (tests/rules/alertmanager_live.py)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
passed=0
failed=0
failures=()

missing=()
for tool in promtool amtool prometheus-alertmanager python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} == 0)) && ! python3 -c 'import yaml' 2>/dev/null; then
  missing+=("python3-yaml (python3 module yaml)")
fi
if ((${#missing[@]})); then
  echo "rules tests: missing ${missing[*]} (Debian: prometheus, prometheus-alertmanager, python3, python3-yaml; scripts/setup.sh test)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aiq-rules.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# run NAME CMD... : one test case, bounded to 120 s, output shown on failure.
run() {
  local name=$1
  shift
  if timeout 120 "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL $name"
    sed 's/^/    /' "$tmp/out"
  fi
}

cd "$root" || exit 1

# 1. config (rule files and file_sd target files are checked with it)
run "promtool check config prometheus/prometheus.yml" \
  promtool check config prometheus/prometheus.yml
if prometheus/render-native.sh "$tmp/native" 127.0.0.1:9477 127.0.0.1:9090 127.0.0.1:9093 >/dev/null 2>"$tmp/out"; then
  run "promtool check config (native render)" promtool check config "$tmp/native/prometheus/prometheus.yml"
  run "native render points at loopback" grep -q "127.0.0.1:9477" "$tmp/native/prometheus/targets/exporter.yml"
else
  run "prometheus/render-native.sh" false
fi

# 2. rules syntax
for f in prometheus/rules/*.yml alerts/*.yml; do
  run "promtool check rules $f" promtool check rules "$f"
done

# 3. rule unit tests
for f in prometheus/rules/tests/*_test.yml alerts/tests/*_test.yml; do
  run "promtool test rules $f" promtool test rules "$f"
done

# 4. catalogue
run "catalogue lint (tests/rules/check_catalogue.py)" python3 tests/rules/check_catalogue.py "$root"

# 5. alertmanager config. amtool does not open secret files; the live run
#    below starts Alertmanager with them present.
run "amtool check-config alertmanager/alertmanager.yml" amtool check-config alertmanager/alertmanager.yml

# 6. routes: "<receivers> | <labels>" per line
while IFS= read -r line; do
  [[ -z "${line// /}" || "$line" == \#* ]] && continue
  want=$(sed 's/|.*//; s/^ *//; s/ *$//' <<<"$line")
  labels=${line#*|}
  # shellcheck disable=SC2086  # labels are space-separated words
  run "route [$labels ] -> $want" amtool config routes test \
    --config.file=alertmanager/alertmanager.yml --verify.receivers="$want" $labels
done <alertmanager/tests/routes.txt

# 7. grouping and inhibition on a live Alertmanager
mkdir -p "$tmp/live"
run "live Alertmanager: grouping and inhibition" python3 tests/rules/alertmanager_live.py "$root" "$tmp/live"

echo
if ((failed)); then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
((failed == 0))
