#!/usr/bin/env bash
# Quick start (1): install what is missing, build, serve.
# With no arguments the exporter serves its embedded demo config on
# 0.0.0.0:9477; any arguments are passed to `ai_quality_exporter serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exec "${AIQ_BUILD_DIR:-$root/build}/ai_quality_exporter" serve "$@"
