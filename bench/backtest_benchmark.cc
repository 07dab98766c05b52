// `backtest` replay speed (docs/backtest.md, docs/benchmarks.md): reading
// NDJSON prediction and label files, ordering them by time, replaying them
// through the models and writing the OpenMetrics history, without the
// Prometheus evaluation. The traffic is the embedded demo model's
// (churn-classifier: 6 features against its built-in reference, a 10 min
// window), every prediction labelled two minutes later.
//   BM_Replay/<events>/<seconds>  <events> predictions (and as many
//                                 labels) spread over <seconds>, scraped
//                                 every minute, streamed from the files
//                                 (EventStream: what `backtest` does with
//                                 files in time order). items_per_second
//                                 counts predictions and labels.
//   BM_ReplaySorted/...           the same read into memory and sorted
//                                 first (EventLog: files out of order).
// 20,000 over 10 minutes is a quick check; 1,000,000 over an hour measures the
// replay; 604,800 over 7 days (1 event per second) is dominated by its 10,081
// scrapes.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/backtest/event_log.h"
#include "exporter/backtest/event_stream.h"
#include "exporter/backtest/replay.h"
#include "exporter/config/config_loader.h"

namespace {

constexpr int64_t kStartSeconds = 1'793'577'600;  // 2026-11-02T00:00:00Z

// Discards what it is given (the history's size is still counted).
class NullBuffer : public std::streambuf {
 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  int overflow(int c) override { return c; }
};

std::string WriteFile(const std::string& name, const std::string& data) {
  const std::string path = absl::StrCat("/tmp/aiq_backtest_bench_", name);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr ||
      std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
    std::abort();
  }
  std::fclose(f);
  return path;
}

// Stationary demo traffic: the reference's distributions.
void MakeLog(int64_t events, int64_t seconds, std::string& predictions,
             std::string& labels) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> income(10.8, 0.45), age(40, 12), score(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  const char* plans[] = {"basic", "plus", "pro"};
  for (int64_t i = 0; i < events; ++i) {
    const double t = static_cast<double>(kStartSeconds) +
                     static_cast<double>(seconds) * static_cast<double>(i) /
                         static_cast<double>(events);
    const double p = u(rng);
    absl::StrAppendFormat(
        &predictions,
        "{\"model\":\"churn-classifier\",\"version\":\"v1\",\"id\":\"c%d\","
        "\"timestamp\":%.3f,\"features\":{\"income\":%.2f,\"age\":%.1f,"
        "\"score\":%.3f,\"rooms\":%d,\"plan\":\"%s\",\"channel\":\"%s\"},"
        "\"prediction\":\"%s\",\"probabilities\":{\"churn\":%.4f,"
        "\"stay\":%.4f},\"latency_ms\":%.1f}\n",
        i, t, std::exp(income(rng)), age(rng), score(rng),
        1 + static_cast<int>(u(rng) * 5), plans[static_cast<int>(u(rng) * 3)],
        u(rng) < 0.6 ? "web" : "app", p >= 0.5 ? "churn" : "stay", p, 1 - p,
        5 + 35 * u(rng));
    absl::StrAppendFormat(&labels,
                          "{\"model\":\"churn-classifier\",\"id\":\"c%d\","
                          "\"timestamp\":%.3f,\"label\":\"%s\"}\n",
                          i, t + 120, u(rng) < p ? "churn" : "stay");
  }
}

// The backtest's path: files in time order streamed (decoding on the other
// core while the replay runs), or read into memory and sorted first.
void Replay(benchmark::State& state, bool streamed) {
  const int64_t events = state.range(0);
  const int64_t seconds = state.range(1);
  std::string predictions, labels;
  MakeLog(events, seconds, predictions, labels);
  const std::string p = WriteFile("p.ndjson", predictions);
  const std::string l = WriteFile("l.ndjson", labels);
  const aiq::config::Config config = *aiq::config::LoadDefaultConfig();
  int64_t history_bytes = 0, steps = 0;
  double read_s = 0, replay_s = 0;
  const auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
        .count();
  };
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    aiq::backtest::EventLog log(config);
    aiq::backtest::EventStream stream(config);
    aiq::backtest::EventSource* source = &stream;
    if (streamed) {
      if (!stream.Add(p, aiq::ingest::EventKind::kPrediction).ok() ||
          !stream.Add(l, aiq::ingest::EventKind::kLabel).ok()) {
        state.SkipWithError("cannot open the log");
        return;
      }
    } else {
      if (!log.Read(p, aiq::ingest::EventKind::kPrediction).ok() ||
          !log.Read(l, aiq::ingest::EventKind::kLabel).ok()) {
        state.SkipWithError("cannot read the log");
        return;
      }
      log.SortByTime();
      source = &log;
    }
    read_s += since(t);
    t = std::chrono::steady_clock::now();
    aiq::backtest::Replay replay(config);
    if (!replay.LoadReferences().ok()) std::abort();
    NullBuffer null;
    std::ostream history(&null);
    aiq::backtest::ReplayOptions options;
    options.step = absl::Minutes(1);
    absl::StatusOr<aiq::backtest::ReplaySummary> s =
        replay.Run(*source, options, history);
    if (!s.ok() || s->applied != 2 * events) {
      state.SkipWithError("replay failed");
      return;
    }
    replay_s += since(t);
    history_bytes = s->history_bytes;
    steps = s->steps;
  }
  state.SetItemsProcessed(state.iterations() * 2 * events);
  state.counters["steps"] = static_cast<double>(steps);
  // Seconds per iteration in each phase (streamed: reading is opening the
  // files; decoding overlaps the replay).
  const double n = static_cast<double>(state.iterations());
  state.counters["read_s"] = read_s / n;
  state.counters["replay_s"] = replay_s / n;
  state.counters["history_MB"] = static_cast<double>(history_bytes) / 1e6;
  std::remove(p.c_str());
  std::remove(l.c_str());
}

void BM_Replay(benchmark::State& state) { Replay(state, /*streamed=*/true); }
void BM_ReplaySorted(benchmark::State& state) {
  Replay(state, /*streamed=*/false);
}
BENCHMARK(BM_Replay)
    ->Args({20'000, 600})  // the smoke test's (tests/bench_smoke)
    ->Args({1'000'000, 3600})
    ->Args({604'800, 7 * 86400})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()  // decoding runs on other threads
    ->Iterations(1);
BENCHMARK(BM_ReplaySorted)
    ->Args({1'000'000, 3600})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()  // decoding runs on other threads
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
