// QualityWindow costs: ns per AddPrediction and per AddLabeled (which also
// runs the three concept-drift detectors), and the cost of a Snapshot
// (merging every live bucket) as the number of classes and segment values
// grows. Events advance time by 1 ms, so buckets are recycled as in
// production; the samples are precomputed so the RNG is not timed.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "exporter/model/quality_window.h"

namespace {

using aiq::model::LabeledSample;
using aiq::model::QualityWindow;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

aiq::config::ModelConfig Config(int classes, int segment_values) {
  aiq::config::ModelConfig m;
  m.name = "bench";
  for (int k = 0; k < classes; ++k)
    m.classes.push_back("c" + std::to_string(k));
  m.positive_class = m.classes[1];
  aiq::config::SegmentConfig s{"region", {}};
  for (int v = 0; v < segment_values; ++v) {
    s.values.push_back("r" + std::to_string(v));
  }
  m.segments = {s, s};  // two attributes
  return m;
}

std::vector<LabeledSample> Samples(int classes, int segment_values) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> cls(0, classes - 1),
      seg(-1, segment_values);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<LabeledSample> out(1 << 12);
  for (LabeledSample& s : out) {
    s.true_class = cls(rng);
    s.prediction.predicted_class = u(rng) < 0.8 ? s.true_class : cls(rng);
    const double top = 0.3 + 0.7 * u(rng);
    s.prediction.probabilities.assign(static_cast<size_t>(classes),
                                      (1 - top) / (classes - 1));
    s.prediction
        .probabilities[static_cast<size_t>(s.prediction.predicted_class)] = top;
    s.prediction.segment = {seg(rng), seg(rng)};
  }
  return out;
}

void BM_AddPrediction(benchmark::State& state) {
  const int classes = static_cast<int>(state.range(0));
  QualityWindow w(Config(classes, 10));
  const std::vector<LabeledSample> samples = Samples(classes, 10);
  int64_t i = 0;
  for (auto _ : state) {
    w.AddPrediction(
        kT0 + absl::Milliseconds(i),
        samples[static_cast<size_t>(i) & (samples.size() - 1)].prediction);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddPrediction)->Arg(2)->Arg(10)->Arg(100);

void BM_AddLabeled(benchmark::State& state) {
  const int classes = static_cast<int>(state.range(0));
  QualityWindow w(Config(classes, 10));
  const std::vector<LabeledSample> samples = Samples(classes, 10);
  int64_t i = 0;
  for (auto _ : state) {
    w.AddLabeled(kT0 + absl::Milliseconds(i),
                 samples[static_cast<size_t>(i) & (samples.size() - 1)]);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddLabeled)->Arg(2)->Arg(10)->Arg(100);

// A full window: 12 buckets, every class pair and segment value used.
void BM_Snapshot(benchmark::State& state) {
  const int classes = static_cast<int>(state.range(0));
  const int values = static_cast<int>(state.range(1));
  QualityWindow w(Config(classes, values));
  const std::vector<LabeledSample> samples = Samples(classes, values);
  const absl::Duration step = absl::Hours(1) / 20000;
  absl::Time t = kT0;
  for (int i = 0; i < 20000; ++i, t += step) {
    const LabeledSample& s = samples[static_cast<size_t>(i) & 4095];
    w.AddPrediction(t, s.prediction);
    w.AddLabeled(t, s);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.Snapshot(t));
  }
  state.counters["window_bytes"] = static_cast<double>(w.WindowBytes(t));
}
BENCHMARK(BM_Snapshot)->Args({2, 10})->Args({10, 10})->Args({100, 50});

}  // namespace

BENCHMARK_MAIN();
