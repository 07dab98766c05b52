// The statistics a scrape computes per (model, feature) window, at window
// sizes 1k / 10k / 100k: PSI and Jensen–Shannon (binning the current window
// into the reference deciles; the per-bucket streaming path only needs the
// counts), Wasserstein on sorted windows, chi-square over categories;
// confusion-matrix updates (the per-event ingest cost); PCA reconstruction
// error of a 10k x 20 window. Reference profiles are built outside the loop,
// as the exporter builds them once.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "exporter/stats/binned_drift.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/classification.h"
#include "exporter/stats/numeric_drift.h"
#include "exporter/stats/pca_drift.h"
#include "exporter/stats/wasserstein.h"

namespace {

using namespace aiq::stats;  // NOLINT(build/namespaces): benchmark file

std::vector<double> Normal(size_t n, double shift, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(shift, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = std::round(dist(rng) * 1e6) / 1e6;
  return v;
}

// Bin the current window (O(m log 10)) and compute PSI + JS from counts.
void BM_PsiJsBatch(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const NumericReference ref = *MakeNumericReference(Normal(n, 0, 1));
  const std::vector<double> cur = Normal(n, 0.1, 2);
  for (auto _ : state) {
    const std::vector<int64_t> counts = ref.bins.Count(cur);
    benchmark::DoNotOptimize(*NumericPsi(ref, counts));
    benchmark::DoNotOptimize(*NumericJensenShannon(ref, counts));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_PsiJsBatch)->Arg(1000)->Arg(10000)->Arg(100000);

// Scrape-time cost when buckets already hold counts: independent of n.
void BM_PsiJsFromCounts(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const NumericReference ref = *MakeNumericReference(Normal(n, 0, 1));
  const std::vector<int64_t> counts = ref.bins.Count(Normal(n, 0.1, 2));
  for (auto _ : state) {
    benchmark::DoNotOptimize(*NumericPsi(ref, counts));
    benchmark::DoNotOptimize(*NumericJensenShannon(ref, counts));
  }
}
BENCHMARK(BM_PsiJsFromCounts)->Arg(100000);

void BM_WassersteinSorted(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<double> a = Normal(n, 0, 1), b = Normal(n, 0.1, 2);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  for (auto _ : state) {
    benchmark::DoNotOptimize(*WassersteinDistanceSorted(a, b));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(2 * n));
}
BENCHMARK(BM_WassersteinSorted)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_WassersteinUnsorted(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<double> a = Normal(n, 0, 1), b = Normal(n, 0.1, 2);
  for (auto _ : state) benchmark::DoNotOptimize(*WassersteinDistance(a, b));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(2 * n));
}
BENCHMARK(BM_WassersteinUnsorted)->Arg(1000)->Arg(10000)->Arg(100000);

// Counting n values over 8 categories, then chi-square/PSI/JS.
void BM_ChiSquareCategories(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<std::string> names = {"a", "b", "c", "d",
                                          "e", "f", "g", "h"};
  std::mt19937_64 rng(5);
  std::discrete_distribution<int> d({8, 7, 6, 5, 4, 3, 2, 1});
  std::vector<int> cur(n);
  CategoryCounts ref;
  for (size_t i = 0; i < n; ++i) ref.Add(names[static_cast<size_t>(d(rng))]);
  for (int& c : cur) c = d(rng);
  for (auto _ : state) {
    // The window keeps per-code counts and turns them into a bag once.
    std::vector<int64_t> per_code(names.size(), 0);
    for (int c : cur) ++per_code[static_cast<size_t>(c)];
    CategoryCounts window;
    for (size_t k = 0; k < names.size(); ++k) window.Add(names[k], per_code[k]);
    benchmark::DoNotOptimize(*CompareCategories(ref, window));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_ChiSquareCategories)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_ChiSquareFromCounts(benchmark::State& state) {
  std::vector<int64_t> r = {800, 700, 600, 500, 400, 300, 200, 100};
  std::vector<int64_t> c = {700, 700, 650, 500, 420, 300, 150, 120};
  for (auto _ : state) benchmark::DoNotOptimize(*ChiSquareFromCounts(r, c));
}
BENCHMARK(BM_ChiSquareFromCounts);

void BM_ConfusionMatrixAdd(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  ConfusionMatrix m(k);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> d(0, k - 1);
  std::vector<std::pair<int, int>> rows(4096);
  for (auto& [t, p] : rows) t = d(rng), p = d(rng);
  size_t i = 0;
  for (auto _ : state) {
    const auto& [t, p] = rows[i++ & 4095];
    benchmark::DoNotOptimize(m.Add(t, p));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConfusionMatrixAdd)->Arg(2)->Arg(10)->Arg(100);

void BM_ClassificationMetrics(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  ConfusionMatrix m(k);
  for (int t = 0; t < k; ++t) {
    for (int p = 0; p < k; ++p) (void)m.Add(t, p, t == p ? 100 : 3);
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(*ComputeClassificationMetrics(m));
}
BENCHMARK(BM_ClassificationMetrics)->Arg(2)->Arg(10)->Arg(100);

// n rows x d columns, row-major, every column sharing one common factor.
std::vector<double> Correlated(int64_t n, int64_t d, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> m;
  m.reserve(static_cast<size_t>(n * d));
  for (int64_t r = 0; r < n; ++r) {
    const double common = g(rng);
    for (int64_t c = 0; c < d; ++c) m.push_back(common + 0.5 * g(rng));
  }
  return m;
}

void BM_PcaReconstructionError(benchmark::State& state) {
  const std::vector<double> ref = Correlated(10000, 20, 1);
  const PcaDriftModel model = *PcaDriftModel::Fit({ref, 10000, 20});
  const std::vector<double> window = Correlated(10000, 20, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(*model.ReconstructionError({window, 10000, 20}));
  }
  state.SetItemsProcessed(state.iterations() * 10000);
  state.counters["components"] = model.num_components();
}
BENCHMARK(BM_PcaReconstructionError)->Unit(benchmark::kMillisecond);

void BM_PcaFit(benchmark::State& state) {
  const std::vector<double> ref = Correlated(10000, 20, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(*PcaDriftModel::Fit({ref, 10000, 20}));
  }
}
BENCHMARK(BM_PcaFit)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
