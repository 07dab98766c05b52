#!/usr/bin/env bash
# The developer checks (docs/development.md), run by scripts/test.sh after
# the tests; each can run alone:
#
#   scripts/check.sh            all of them
#   scripts/check.sh format     clang-format --dry-run -Werror on all C/C++
#   scripts/check.sh lint       pyflakes (Python), shellcheck (shell), and
#                               every exporter/ header's usage example parses
#   scripts/check.sh clang      clang-14 build of everything with
#                               -Wthread-safety -Werror, in ./build-clang
#                               (or $AIQ_CLANG_BUILD_DIR)
#   scripts/check.sh fuzz       the libFuzzer targets in fuzz/, built with
#                               clang, ASan and UBSan in ./build-fuzz, each
#                               run for $AIQ_FUZZ_RUNS (50000) inputs
#
# Every check runs even when an earlier one fails; the last line says which
# failed, and the exit code is non-zero if any did. Everything goes to
# stdout, so a CI log keeps it in order.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
clang_build=${AIQ_CLANG_BUILD_DIR:-$root/build-clang}
clang_format=${AIQ_CLANG_FORMAT:-clang-format-14}
clang_cxx=${AIQ_CLANG_CXX:-clang++-14}

# Tracked files matching the patterns (every file when not a git checkout).
tracked() {
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files -- "$@"
  else
    local args=() p
    for p in "$@"; do args+=(-o -name "$p"); done
    find . -path ./build\* -prune -o -path ./.git -prune \
      -o -type f \( "${args[@]:1}" \) -print | sed 's|^\./||' | sort
  fi
}

check_format() {
  local files bad
  mapfile -t files < <(tracked '*.cc' '*.h' '*.c' '*.cpp' '*.hpp' '*.h.in')
  # One run; each unformatted spot is "FILE:LINE:COL: error: ...".
  mapfile -t bad < <("$clang_format" --dry-run -Werror "${files[@]}" 2>&1 |
    sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
  if ((${#bad[@]})); then
    echo "  ${#bad[@]} of ${#files[@]} files are not clang-formatted" \
      "(.clang-format); fix with: $clang_format -i FILE"
    printf '    %s\n' "${bad[@]}"
    return 1
  fi
  echo "  ${#files[@]} C/C++ files formatted"
}

check_lint() {
  local py sh rc=0
  mapfile -t py < <(tracked '*.py')
  mapfile -t sh < <(tracked '*.sh')
  pyflakes3 "${py[@]}" || rc=1
  shellcheck "${sh[@]}" .ci/run || rc=1
  python3 tools/header_examples.py --source-dir "$root" --check || rc=1
  ((rc == 0)) && echo "  ${#py[@]} Python, $((${#sh[@]} + 1)) shell files" \
    "clean; every header has a usage example"
  return "$rc"
}

check_clang() {
  local launcher=() log="$clang_build/check-clang.log"
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  if [[ ! -f "$clang_build/CMakeCache.txt" ]]; then
    mkdir -p "$clang_build"
    if ! CXX=$clang_cxx cmake -S "$root" -B "$clang_build" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIQ_WERROR=ON "${launcher[@]}" \
      >"$log" 2>&1; then
      cat "$log"
      return 1
    fi
  fi
  # -k 0: report every file that fails, not only the first.
  if cmake --build "$clang_build" --parallel "$(nproc)" -- -k 0 \
    >"$log" 2>&1; then
    echo "  $("$clang_cxx" --version | head -1): built with" \
      "-Wthread-safety -Werror"
    return 0
  fi
  # The diagnostics, without ninja's progress lines (full log: $log).
  grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | head -150
  echo "  (full log: $log)"
  return 1
}

# libFuzzer targets (fuzz/): built with clang, ASan and UBSan in
# build-fuzz/ (or $AIQ_FUZZ_BUILD_DIR), each run for a fixed number of
# inputs from a fixed seed, starting from a copy of the committed corpus,
# so a run is repeatable and bounded in time.
check_fuzz() {
  local dir=${AIQ_FUZZ_BUILD_DIR:-$root/build-fuzz} log runs=${AIQ_FUZZ_RUNS:-50000}
  log="$dir/check-fuzz.log"
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    mkdir -p "$dir"
    if ! CXX=$clang_cxx cmake -S "$root" -B "$dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIQ_FUZZ=ON -DAIQ_TCMALLOC=OFF \
      -DAIQ_BUILD_TESTS=OFF -DAIQ_BUILD_BENCHMARKS=OFF >"$log" 2>&1; then
      cat "$log"
      return 1
    fi
  fi
  if ! cmake --build "$dir" --parallel "$(nproc)" --target aiq_fuzzers \
    >"$log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | head -150
    return 1
  fi
  local rc=0 name corpus
  for name in decoder csv config log_record; do
    corpus=$(mktemp -d)
    cp "$root/fuzz/corpus/$name/"* "$corpus/"
    if ! (cd "$dir" && "./fuzz/${name}_fuzzer" -seed=1 -runs="$runs" \
      -max_len=4096 -rss_limit_mb=2048 -timeout=10 "$corpus" \
      >"$dir/fuzz-$name.log" 2>&1); then
      tail -40 "$dir/fuzz-$name.log"
      echo "  ${name}_fuzzer FAILED (log: $dir/fuzz-$name.log; the input is" \
        "in $dir)"
      rc=1
    else
      echo "  ${name}_fuzzer: $runs inputs, $(grep -o 'cov: [0-9]*' \
        "$dir/fuzz-$name.log" | tail -1)"
    fi
    rm -rf "$corpus"
  done
  return "$rc"
}

checks=("$@")
((${#checks[@]})) || checks=(format lint clang fuzz)
failed=()
for c in "${checks[@]}"; do
  case "$c" in
    format | lint | clang | fuzz) ;;
    *) echo "usage: $0 [format] [lint] [clang] [fuzz]" >&2; exit 2 ;;
  esac
  echo "check: $c"
  start=$SECONDS
  if "check_$c"; then
    echo "check: $c ok ($((SECONDS - start)) s)"
  else
    echo "check: $c FAILED ($((SECONDS - start)) s)"
    failed+=("$c")
  fi
done
if ((${#failed[@]})); then
  echo "check: FAILED: ${failed[*]} (docs/development.md)"
  exit 1
fi
echo "check: all passed (${checks[*]})"
