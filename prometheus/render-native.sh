#!/usr/bin/env bash
# Render the Prometheus configuration for a native (non-compose) run.
#
#   prometheus/render-native.sh OUTDIR [EXPORTER [PROMETHEUS [ALERTMANAGER]]]
#
# Copies prometheus/ and alerts/ into OUTDIR (keeping them siblings, as
# prometheus.yml's relative paths require) and rewrites the three file_sd
# target files -- the only places an address is written. Defaults:
# 127.0.0.1:9477, 127.0.0.1:9090, 127.0.0.1:9093. Several exporters: pass
# them comma-separated ("127.0.0.1:9477,127.0.0.1:9478").
# Then: prometheus --config.file=OUTDIR/prometheus/prometheus.yml ...
# Prometheus re-reads file_sd files on change, so a running server can be
# re-pointed by rewriting OUTDIR/prometheus/targets/*.yml alone.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
out=$1
exporter=${2:-127.0.0.1:9477}
prom=${3:-127.0.0.1:9090}
am=${4:-127.0.0.1:9093}
root=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$out"
rm -rf "$out/prometheus" "$out/alerts"
cp -R "$root/prometheus" "$out/prometheus"
cp -R "$root/alerts" "$out/alerts"

write_targets() {  # file addr[,addr...]
  local list="" a
  IFS=',' read -ra addrs <<<"$2"
  for a in "${addrs[@]}"; do list+="${list:+, }'$a'"; done
  printf '# rendered by prometheus/render-native.sh\n- targets: [%s]\n' "$list" >"$1"
}
write_targets "$out/prometheus/targets/exporter.yml" "$exporter"
write_targets "$out/prometheus/targets/prometheus.yml" "$prom"
write_targets "$out/prometheus/targets/alertmanager.yml" "$am"
echo "$out/prometheus/prometheus.yml"
