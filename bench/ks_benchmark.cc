// KS two-sample test at the window sizes the exporter scrapes: 1k, 10k (exact
// p-value, equal and unequal sizes, where scipy's lattice DP is the cost) and
// 100k (kstwo branch). "Sorted" is the scrape-time path (windows are kept
// sorted); "Unsorted" includes the copy and sort.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "exporter/stats/ks.h"

namespace {

std::vector<double> Normal(size_t n, double shift, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(shift, 1.0);
  std::vector<double> v(n);
  // Rounded to 6 decimals like the oracle data, so ties occur.
  for (double& x : v) x = std::round(dist(rng) * 1e6) / 1e6;
  return v;
}

void BM_KsSorted(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto m = static_cast<size_t>(state.range(1));
  const double shift = static_cast<double>(state.range(2)) / 100.0;
  std::vector<double> a = Normal(n, 0.0, 1), b = Normal(m, shift, 2);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double p = 0;
  for (auto _ : state) {
    auto r = aiq::stats::KsTwoSampleSorted(a, b);
    p = r->p_value;
    benchmark::DoNotOptimize(p);
  }
  state.counters["p"] = p;
}

void BM_KsUnsorted(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto m = static_cast<size_t>(state.range(1));
  const double shift = static_cast<double>(state.range(2)) / 100.0;
  const std::vector<double> a = Normal(n, 0.0, 1), b = Normal(m, shift, 2);
  for (auto _ : state) {
    auto r = aiq::stats::KsTwoSample(a, b);
    benchmark::DoNotOptimize(r->p_value);
  }
}

// {n, m, shift in hundredths of a standard deviation}
#define KS_SIZES                  \
  Args({1000, 1000, 0})           \
      ->Args({10000, 10000, 0})   \
      ->Args({10000, 9999, 0})    \
      ->Args({10000, 7000, 0})    \
      ->Args({10000, 9999, 10})   \
      ->Args({100000, 100000, 0}) \
      ->Args({100000, 80000, 0})  \
      ->Args({100000, 100000, 3}) \
      ->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_KsSorted)->KS_SIZES;
BENCHMARK(BM_KsUnsorted)->KS_SIZES;

void BM_KsExactSurvival(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1);
  const double d = static_cast<double>(state.range(2)) / 1000.0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(aiq::stats::KsExactSurvival(d, n, m));
  }
}
// d = 0.02 (typical no-drift at 10k), 0.1, 0.5 (worst case: wide band).
BENCHMARK(BM_KsExactSurvival)
    ->Args({10000, 9999, 20})
    ->Args({10000, 9999, 100})
    ->Args({10000, 9999, 500})
    ->Args({10000, 10000, 18})
    ->Args({10000, 10000, 500})
    ->Unit(benchmark::kMicrosecond);

void BM_KsTwoSurvival(benchmark::State& state) {
  const int64_t n = state.range(0);
  const double d = std::sqrt(static_cast<double>(state.range(1)) / 10.0 /
                             static_cast<double>(n));
  for (auto _ : state) {
    benchmark::DoNotOptimize(aiq::stats::KsTwoSurvival(d, n));
  }
}
// n*d^2 = 1 (Pelz-Good), 3 and 10 (Smirnov sum, ~n terms).
BENCHMARK(BM_KsTwoSurvival)
    ->Args({50000, 10})
    ->Args({50000, 30})
    ->Args({50000, 100})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
