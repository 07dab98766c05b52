#!/usr/bin/env bash
# Installs, from Debian's packages, whatever this project needs and the
# machine lacks. Idempotent: apt runs only when something is missing.
#
#   scripts/setup.sh          build + run dependencies
#   scripts/setup.sh test     ... plus the tools the tests and checks use
#   scripts/setup.sh bench    ... plus the tools the benchmarks use
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libabsl-dev prometheus-cpp-dev libssl-dev libyaml-cpp-dev
  libsimdjson-dev nlohmann-json3-dev libeigen3-dev libboost-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librocksdb-dev  # durable state (docs/state.md)
  libgoogle-perftools-dev  # tcmalloc, the allocator (CMakeLists.txt)
  libcrypt-dev  # bcrypt for basic auth (exporter/http/basic_auth.h)
  python3  # tools/header_examples.py: the headers' examples are compiled
)
# promtool/amtool and servers for the rule and end-to-end tests; chromium
# renders the HTML report; python3 drives the end-to-end test; numpy, scipy
# and scikit-learn regenerate the test data (tools/oracle, oracle_reproducible).
test_pkgs=(prometheus prometheus-alertmanager curl openssl chromium python3 python3-yaml
  docker-compose python3-numpy python3-scipy python3-sklearn)
# Node.js and npm run the OpenTelemetry JS SDK client (tests/otlp_client);
# a node from elsewhere (e.g. nodesource, which bundles npm and conflicts
# with Debian's npm) is used as it is.
if ! command -v node >/dev/null 2>&1; then test_pkgs+=(nodejs npm); fi
# The developer checks (scripts/check.sh): the clang thread-safety build,
# the format check, the Python and shell lint, and the fuzzers (libFuzzer
# and the sanitizers' runtimes are in libclang-rt-14-dev, only recommended
# by clang-14).
check_pkgs=(clang-14 clang-format-14 libclang-rt-14-dev python3-pyflakes
  shellcheck)
# The Python peer and the plots in docs/benchmarks.md.
bench_pkgs=(python3-numpy python3-scipy python3-prometheus-client wrk
  gnuplot-nox linux-perf)

wanted=("${build_pkgs[@]}")
case "${1:-}" in
  "") ;;
  test) wanted+=("${test_pkgs[@]}" "${check_pkgs[@]}") ;;
  bench) wanted+=("${test_pkgs[@]}" "${check_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The OTLP test client's npm packages, pinned by its package-lock.json.
case "${1:-}" in
  test | bench) "$(dirname "$0")/../tests/otlp_client/install.sh" ;;
esac
