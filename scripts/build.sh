#!/usr/bin/env bash
# Configures (once) and builds the project into ./build (or $AIQ_BUILD_DIR).
# Uses ccache when it is installed; extra arguments go to the first cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${AIQ_BUILD_DIR:-$root/build}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "${launcher[@]}" "$@"
fi
cmake --build "$build" --parallel "$(nproc)"
