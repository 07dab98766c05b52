#!/usr/bin/env bash
# Renders the HTML report of an oracle dataset in headless Chromium and fails
# if the screenshot is blank (one colour, or almost only background).
#
#   html_screenshot.sh REPORT_TOOL DATASETS_DIR
#
# Set AIQ_REPORT_SCREENSHOT=path.png to keep the screenshot. Exits 77 (CTest
# "skipped") when Chromium is not installed.
set -euo pipefail
tool=$1
data=$2
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
python=/usr/bin/python3
[[ -x $python ]] || python=python3
if [[ ! -x $chromium ]]; then
  echo "SKIP: $chromium not installed"
  exit 77
fi

for f in small_drift_reference.csv small_drift_current.csv; do
  if [[ ! -r $data/$f ]]; then
    echo "missing test data $data/$f: regenerate it with" \
      "tools/oracle/generate.py (docs/testdata.md)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$tool" --reference "$data/small_drift_reference.csv" \
  --current "$data/small_drift_current.csv" --target target \
  --prediction prediction --format html --output "$tmp/report.html"
grep -q '<svg' "$tmp/report.html"
if grep -qiE '(src|href)="(https?:)?//' "$tmp/report.html"; then
  echo "report.html references the network" >&2
  exit 1
fi

# Bounded: a hung browser must not hang the test run.
timeout --kill-after=10 90 "$chromium" --headless --no-sandbox --disable-gpu \
  --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$tmp/profile" --screenshot="$tmp/out.png" \
  --window-size=1280,2000 "file://$tmp/report.html" \
  >"$tmp/chromium.log" 2>&1 || {
  echo "chromium failed:" >&2
  tail -20 "$tmp/chromium.log" >&2
  exit 1
}
[[ -s $tmp/out.png ]] || { echo "no screenshot" >&2; exit 1; }
"$python" "$here/png_check.py" "$tmp/out.png"
if [[ -n ${AIQ_REPORT_SCREENSHOT:-} ]]; then
  cp "$tmp/out.png" "$AIQ_REPORT_SCREENSHOT"
  cp "$tmp/report.html" "${AIQ_REPORT_SCREENSHOT%.png}.html"
fi
echo "ok"
