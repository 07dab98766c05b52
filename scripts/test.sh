#!/usr/bin/env bash
# Quick start (2): install what is missing, build, run every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${AIQ_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" test
"$root/scripts/build.sh"
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" "$@"
