#!/usr/bin/env bash
# The developer checks (docs/development.md), run by scripts/test.sh after
# the tests; each can run alone:
#
#   scripts/check.sh            all of them
#   scripts/check.sh format     clang-format --dry-run -Werror on all C/C++
#   scripts/check.sh lint       pyflakes (Python), shellcheck (shell), and
#                               every exporter/ header's usage example parses
#   scripts/check.sh clang      clang-14 build of everything with
#                               -Wthread-safety -Werror, AddressSanitizer and
#                               UndefinedBehaviorSanitizer, in ./build-clang
#                               (or $AIQ_CLANG_BUILD_DIR)
#   scripts/check.sh asan       every test but the load figures, run in that
#                               build (after clang)
#   scripts/check.sh tsan       the unit tests of the threaded components,
#                               built with ThreadSanitizer in ./build-tsan
#                               (or $AIQ_TSAN_BUILD_DIR), and run
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

# configure_clang DIR LOG CMAKE_ARGS...: (re)configures a clang build tree.
configure_clang() {
  local dir=$1 log=$2 launcher=()
  shift 2
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  mkdir -p "$dir"
  if ! CXX=$clang_cxx cmake -S "$root" -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "$@" >"$log" 2>&1; then
    cat "$log"
    return 1
  fi
}

# build_clang DIR LOG [TARGETS...]: builds, printing only the diagnostics.
build_clang() {
  local dir=$1 log=$2 targets=()
  shift 2
  (($#)) && targets=(--target "$@")
  # -k 0: report every file that fails, not only the first.
  if cmake --build "$dir" --parallel "$(nproc)" "${targets[@]}" -- -k 0 \
    >"$log" 2>&1; then
    return 0
  fi
  # The diagnostics, without ninja's progress lines (full log: $log).
  grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | head -150
  echo "  (full log: $log)"
  return 1
}

# One build serves the thread-safety analysis and the ASan+UBSan test run.
check_clang() {
  local log="$clang_build/check-clang.log"
  configure_clang "$clang_build" "$log" -DAIQ_WERROR=ON \
    -DAIQ_SANITIZE=address,undefined || return 1
  build_clang "$clang_build" "$log" || return 1
  echo "  $("$clang_cxx" --version | head -1): built with" \
    "-Wthread-safety -Werror -fsanitize=address,undefined"
}

# What a sanitizer finding does: stop the process with a report, so the
# test (or the server a test started) fails. Suppressions, each with its
# reason, are in tests/sanitizers/.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp:print_suppressions=0}

# Every CTest test in the clang build (ASan+UBSan), but the "load" ones:
# their figures (latency, RSS) measure the sanitizers, not the code.
check_asan() {
  if [[ ! -f "$clang_build/CTestTestfile.cmake" ]]; then
    echo "  no build in $clang_build: run the clang check first"
    return 1
  fi
  local out="$clang_build/check-asan.log"
  if ctest --test-dir "$clang_build" --parallel "$(nproc)" -LE load \
    --timeout 900 --output-on-failure >"$out" 2>&1; then
    echo "  $(grep -E 'tests passed' "$out" | tail -1)"
    return 0
  fi
  grep -E -A60 'Failed|\*\*\*' "$out" | head -300
  grep -E 'tests passed|The following tests' -A30 "$out" | tail -40
  echo "  (full log: $out)"
  return 1
}

# The unit tests of the components that run threads, built with TSan. Each
# binary runs whole (one process): TSan makes a process start cost more
# than most tests.
tsan_tests=(util_test http_test state_test app_test model_test review_test
  ingest_test)
check_tsan() {
  local dir=${AIQ_TSAN_BUILD_DIR:-$root/build-tsan} rc=0 t bin
  local log="$dir/check-tsan.log"
  configure_clang "$dir" "$log" -DAIQ_SANITIZE=thread \
    -DAIQ_BUILD_BENCHMARKS=OFF || return 1
  build_clang "$dir" "$log" tsan_selftest "${tsan_tests[@]}" || return 1
  # The absl::Mutex shim (tests/sanitizers/tsan_absl_sync.cc) must make
  # locked code quiet and still let a real race through.
  if ! "$dir/tsan_selftest" >"$dir/tsan-selftest.log" 2>&1; then
    head -40 "$dir/tsan-selftest.log"
    echo "  tsan_selftest: TSan reported code that holds its absl::Mutex"
    return 1
  fi
  "$dir/tsan_selftest" --race >>"$dir/tsan-selftest.log" 2>&1
  if ! grep -q 'WARNING: ThreadSanitizer: data race' "$dir/tsan-selftest.log"
  then
    echo "  tsan_selftest --race: TSan missed a real race"
    return 1
  fi
  echo "  tsan_selftest: locked code quiet, a real race reported"
  for t in "${tsan_tests[@]}"; do
    bin=$(find "$dir/exporter" -name "$t" -type f -executable | head -1)
    if ! (cd "$dir" && "$bin" --gtest_brief=1 >"$dir/tsan-$t.log" 2>&1); then
      grep -E -B5 -A40 'WARNING: ThreadSanitizer|FAILED|Failure' \
        "$dir/tsan-$t.log" | head -200
      echo "  $t FAILED under TSan (log: $dir/tsan-$t.log)"
      rc=1
    else
      echo "  $t: $(grep -Eo '[0-9]+ tests? from [0-9]+ test suites? ran' \
        "$dir/tsan-$t.log" | tail -1), no race"
    fi
  done
  return "$rc"
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
  for name in decoder csv config log_record otlp_proto otlp_json; do
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
((${#checks[@]})) || checks=(format lint clang asan tsan fuzz)
failed=()
for c in "${checks[@]}"; do
  case "$c" in
    format | lint | clang | asan | tsan | fuzz) ;;
    *)
      echo "usage: $0 [format] [lint] [clang] [asan] [tsan] [fuzz]" >&2
      exit 2
      ;;
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
