#!/usr/bin/env bash
# Quick start (2): install what is missing, build, run every test, then the
# developer checks (scripts/check.sh: format, lint, clang thread-safety
# build; docs/development.md). Arguments go to ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${AIQ_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" test
"$root/scripts/build.sh"
tests=passed checks=passed
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" "$@" ||
  tests=FAILED
echo
"$root/scripts/check.sh" || checks=FAILED
echo
echo "test.sh: tests $tests, checks $checks"
[[ $tests == passed && $checks == passed ]]
