// ns per Update() for each concept-drift detector on a Bernoulli(0.2) error
// stream. The stream is precomputed so the RNG is not timed; the detectors
// run with River's defaults, so ADWIN's cost is dominated by the cut scan it
// does every 32nd update over its O(log n) buckets.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "exporter/stats/concept_drift.h"

namespace {

const std::vector<double>& ErrorStream() {
  static const std::vector<double> kStream = [] {
    std::mt19937_64 rng(42);
    std::vector<double> xs(1 << 16);
    for (double& x : xs) {
      x = static_cast<double>(rng() >> 11) * 0x1.0p-53 < 0.2 ? 1.0 : 0.0;
    }
    return xs;
  }();
  return kStream;
}

template <typename Detector>
void BM_Update(benchmark::State& state) {
  const std::vector<double>& xs = ErrorStream();
  Detector detector;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.Update(xs[i]));
    i = (i + 1) & (xs.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["detections"] = static_cast<double>(detector.detections());
}

BENCHMARK_TEMPLATE(BM_Update, aiq::stats::Adwin);
BENCHMARK_TEMPLATE(BM_Update, aiq::stats::Ddm);
BENCHMARK_TEMPLATE(BM_Update, aiq::stats::PageHinkley);

// ADWIN on a window that has grown to ~1M items (20 bucket rows): the
// per-check scan is longer, showing the O(log n) growth.
void BM_AdwinUpdateLongWindow(benchmark::State& state) {
  const std::vector<double>& xs = ErrorStream();
  aiq::stats::Adwin detector;
  for (int k = 0; k < 16; ++k) {
    for (double x : xs) detector.Update(x);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.Update(xs[i]));
    i = (i + 1) & (xs.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rows"] = detector.rows();
}
BENCHMARK(BM_AdwinUpdateLongWindow);

}  // namespace

BENCHMARK_MAIN();
