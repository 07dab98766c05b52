// Durable state (docs/state.md, docs/benchmarks.md "Durable state"): the
// whole request path through ExporterApp::Handle, without sockets, with
// state.dir off and on, in one run.
//
//   BM_StateIngestNdjson/<state>/threads:N   1000-event NDJSON requests;
//                                            state=1 logs and fsyncs each
//                                            request (group commit shares
//                                            fsyncs between threads).
//   BM_StateSingleEvent/<state>/threads:N    one event per request.
//   BM_StateRestart                          100 models x 20 numeric
//                                            features with full windows
//                                            (reservoirs past
//                                            max_exact_samples) and 10M
//                                            predictions waiting for labels
//                                            (100k per model); then a
//                                            checkpoint, a restart (new app,
//                                            Init: load + replay), and label
//                                            joins against the 10M pending
//                                            (join tables on disk), from one
//                                            client and from two, in
//                                            alternating rounds.
// items_per_second is events/s. The state directory is under $TMPDIR
// (default /tmp); its file system decides the fsync cost.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/metrics/process_metrics.h"

namespace {

namespace fs = std::filesystem;
using aiq::app::ExporterApp;
using aiq::http::HttpRequest;
using aiq::http::HttpResponse;

const char kReference[] = AIQ_ORACLE_DIR "/datasets/large_stable_reference.csv";

std::string TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() /
                     absl::StrCat("aiq_state_bench_", ::getpid(), "_", name);
  fs::remove_all(p);
  return p.string();
}

std::unique_ptr<ExporterApp> MakeApp(const std::string& yaml,
                                     const std::string& state_dir,
                                     aiq::util::Clock* clock) {
  std::vector<aiq::config::ConfigError> errors;
  std::optional<aiq::config::Config> c =
      aiq::config::ParseConfig(yaml, "bench.yaml", errors);
  if (!c) {
    std::fprintf(stderr, "config: %s\n", errors[0].ToString().c_str());
    std::abort();
  }
  c->state.dir = state_dir;
  c->state.min_free_bytes = 0;
  c->state.checkpoint_interval = absl::Hours(1);  // only when asked
  // AIQ_BENCH_JOIN_MEMORY_MB: state.join_memory_bytes (default: the
  // config's default), to measure what the join store's RAM buys.
  if (const char* mb = std::getenv("AIQ_BENCH_JOIN_MEMORY_MB")) {
    c->state.join_memory_bytes = std::atoll(mb) << 20;
  }
  auto app = std::make_unique<ExporterApp>(*std::move(c), clock);
  if (absl::Status st = app->Init(); !st.ok()) {
    std::fprintf(stderr, "init: %s\n", std::string(st.message()).c_str());
    std::abort();
  }
  return app;
}

int64_t RssBytes() {
  const std::optional<aiq::metrics::ProcessStats> s =
      aiq::metrics::ReadSelfStats();
  return s ? static_cast<int64_t>(s->resident_bytes) : 0;
}

double CpuSeconds() {
  const std::optional<aiq::metrics::ProcessStats> s =
      aiq::metrics::ReadSelfStats();
  return s ? s->cpu_seconds : 0;
}

HttpResponse Post(ExporterApp& app, const char* path, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  r.header = [](const char* name) -> std::string_view {
    return std::string_view(name) == "Content-Type" ? "application/x-ndjson"
                                                    : "";
  };
  return app.Handle(r);
}

// The demo churn model's 6 features, as ingest_benchmark uses them.
std::string ChurnEvents(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::string body;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&body, R"({"model":"churn","features":{"income":)",
                    50000 + 20000 * z(rng), R"(,"age":)", 40 + 10 * z(rng),
                    R"(,"score":)", z(rng), R"(,"rooms":)", 3 + z(rng),
                    R"(,"plan":"pro","channel":"app"},"prediction":"stay",)",
                    R"("confidence":0.9,"latency_ms":12})", "\n");
  }
  return body;
}

std::string ChurnYaml() {
  return absl::StrCat(R"(
models:
  - name: churn
    classes: [churn, stay]
    features:
      - {name: income, type: numeric}
      - {name: age, type: numeric}
      - {name: score, type: numeric}
      - {name: rooms, type: numeric}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    reference: {csv: ")",
                      kReference, R"(", target: target}
)");
}

// Shared by the threads of one run.
struct Shared {
  aiq::util::FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app;
  std::string dir;
};
Shared* shared = nullptr;

void Ingest(benchmark::State& state, int events_per_request) {
  const bool durable = state.range(0) == 1;
  if (state.thread_index() == 0) {
    shared = new Shared;
    shared->dir = durable ? TempDir("ingest") : "";
    shared->app = MakeApp(ChurnYaml(), shared->dir, &shared->clock);
  }
  const std::string body = ChurnEvents(
      events_per_request, static_cast<uint64_t>(state.thread_index()) + 1);
  for (auto _ : state) {
    HttpResponse r = Post(*shared->app, "/api/v1/predictions", body);
    if (r.status != 200) state.SkipWithError(r.body.c_str());
  }
  state.SetItemsProcessed(state.iterations() * events_per_request);
  if (state.thread_index() == 0) {
    if (durable) {
      const aiq::app::DurableStateStats s = shared->app->durable()->Stats();
      state.counters["requests_per_fsync"] =
          s.store.syncs == 0 ? 0
                             : static_cast<double>(s.store.records_appended) /
                                   static_cast<double>(s.store.syncs);
      state.counters["log_bytes_per_event"] =
          static_cast<double>(s.store.log_bytes_appended) /
          (static_cast<double>(s.store.records_appended) * events_per_request);
    }
    shared->app.reset();
    if (!shared->dir.empty()) fs::remove_all(shared->dir);
    delete shared;
    shared = nullptr;
  }
}

void BM_StateIngestNdjson(benchmark::State& state) { Ingest(state, 1000); }
BENCHMARK(BM_StateIngestNdjson)
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(2)
    ->Threads(8)
    ->UseRealTime()
    ->MinTime(2);

void BM_StateSingleEvent(benchmark::State& state) { Ingest(state, 1); }
BENCHMARK(BM_StateSingleEvent)
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime()
    ->MinTime(2);

constexpr int kModels = 100;
constexpr int kFeatures = 20;
constexpr int kWindowEvents = 12000;  // past max_exact_samples (10000)
constexpr int kPendingPerModel = 100000;
constexpr int kBatch = 1000;

std::string RestartYaml(const std::string& reference) {
  std::string features;
  for (int f = 0; f < kFeatures; ++f) absl::StrAppend(&features, "f", f, ", ");
  features.resize(features.size() - 2);
  std::string yaml = "models:\n";
  for (int m = 0; m < kModels; ++m) {
    absl::StrAppend(&yaml, "  - name: m", m,
                    "\n    classes: [a, b]\n    features: [", features,
                    "]\n    reference: {csv: \"", reference, "\"}\n");
  }
  return yaml;
}

void BM_StateRestart(benchmark::State& state) {
  const std::string dir = TempDir("restart");
  const std::string reference = dir + ".reference.csv";
  {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> z(0, 1);
    std::ofstream out(reference);
    for (int f = 0; f < kFeatures; ++f) out << (f ? "," : "") << "f" << f;
    out << "\n";
    for (int r = 0; r < 2000; ++r) {
      for (int f = 0; f < kFeatures; ++f) out << (f ? "," : "") << z(rng);
      out << "\n";
    }
  }
  const std::string yaml = RestartYaml(reference);
  aiq::util::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  auto app = MakeApp(yaml, dir, &clock);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0, 1);
  int64_t events = 0;
  for (int m = 0; m < kModels; ++m) {
    for (int done = 0; done < kWindowEvents; done += kBatch) {
      std::string body;
      for (int i = 0; i < kBatch; ++i) {
        absl::StrAppend(&body, R"({"model":"m)", m, R"(","features":{)");
        for (int f = 0; f < kFeatures; ++f) {
          absl::StrAppend(&body, f ? "," : "", "\"f", f, "\":", z(rng));
        }
        absl::StrAppend(&body, R"(},"prediction":"a"})", "\n");
      }
      if (Post(*app, "/api/v1/predictions", body).status != 200) std::abort();
      events += kBatch;
    }
    for (int done = 0; done < kPendingPerModel; done += kBatch) {
      std::string body;
      for (int i = 0; i < kBatch; ++i) {
        absl::StrAppend(&body, R"({"model":"m)", m, R"(","id":"p)", done + i,
                        R"(","prediction":"a"})", "\n");
      }
      if (Post(*app, "/api/v1/predictions", body).status != 200) std::abort();
      events += kBatch;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!app->durable()->CheckpointNow().ok()) std::abort();
  const double checkpoint_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  const aiq::app::DurableStateStats before = app->durable()->Stats();
  app.reset();

  double restart_s = 0;
  for (auto _ : state) {
    t0 = std::chrono::steady_clock::now();
    app = MakeApp(yaml, dir, &clock);
    restart_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
  }
  // Label joins against the 10M pending predictions, in 1000-label
  // requests, spread over every model.
  constexpr int kLabels = 1'000'000;
  std::vector<std::string> bodies;
  for (int done = 0; done < kLabels; done += kBatch) {
    std::string body;
    const int m = (done / kBatch) % kModels;
    for (int i = 0; i < kBatch; ++i) {
      absl::StrAppend(&body, R"({"model":"m)", m, R"(","id":"p)",
                      (done / kBatch / kModels) * kBatch + i,
                      R"(","label":"b"})", "\n");
    }
    bodies.push_back(std::move(body));
  }
  // Half from one client, half from two at once (as a server's
  // connections would: decoding and the join store's reads run in
  // parallel, the apply under the commit lock one at a time), in
  // alternating rounds so that both see the block cache warm up alike.
  constexpr size_t kRounds = 5;
  const size_t per_phase = bodies.size() / (2 * kRounds);
  // The setup's gigabytes still being written back would slow every
  // fsync of the joins; let them land first. Likewise the compaction the
  // setup's 10M inserts (at 200k/s) left owing: it would take half the
  // CPU for a minute, which is the inserts' cost, not the joins'.
  ::sync();
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 600; ++i) {
    const aiq::state::JoinStoreStats s = app->durable()->Stats().join;
    if (!s.compaction_pending && s.running_compactions == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double compaction_wait_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  // For a profiler to attach to the label phase alone.
  if (const char* mark = std::getenv("AIQ_BENCH_LABELS_MARK")) {
    std::ofstream(mark) << "labels\n";
  }
  // Wall and CPU seconds of the one-client and the two-client phases.
  double join_s = 0, join_cpu_s = 0, join2_s = 0, join2_cpu_s = 0;
  auto timed = [&](double& wall, double& cpu, auto&& phase) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = CpuSeconds();
    phase();
    wall +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    cpu += CpuSeconds() - cpu_start;
  };
  size_t next = 0;
  for (size_t round = 0; round < kRounds; ++round) {
    timed(join_s, join_cpu_s, [&] {
      for (size_t i = next; i < next + per_phase; ++i) {
        if (Post(*app, "/api/v1/labels", bodies[i]).status != 200) {
          std::abort();
        }
      }
    });
    next += per_phase;
    timed(join2_s, join2_cpu_s, [&] {
      std::vector<std::thread> clients;
      for (size_t c = 0; c < 2; ++c) {
        clients.emplace_back([&, c] {
          for (size_t i = next + c; i < next + per_phase; i += 2) {
            if (Post(*app, "/api/v1/labels", bodies[i]).status != 200) {
              std::abort();
            }
          }
        });
      }
      for (std::thread& t : clients) t.join();
    });
    next += per_phase;
  }
  const double phase_labels = static_cast<double>(kRounds * per_phase) * kBatch;
  // CPU seconds per wall second of each phase: above 1 with one client
  // means a background thread (a RocksDB compaction) was busy too.
  const double join_cpu = join_cpu_s / join_s;
  const double join2_cpu = join2_cpu_s / join2_s;
  state.counters["events"] = static_cast<double>(events);
  state.counters["pending"] = kModels * kPendingPerModel;
  state.counters["restart_s"] = restart_s;
  state.counters["checkpoint_s"] = checkpoint_s;
  state.counters["checkpoint_pause_s"] = before.last_checkpoint_pause_seconds;
  const aiq::app::RecoveryReport& rec = app->durable()->Stats().recovery;
  state.counters["restore_log_open_s"] = absl::ToDoubleSeconds(rec.log_open);
  state.counters["restore_read_s"] = absl::ToDoubleSeconds(rec.checkpoint_read);
  state.counters["restore_decode_s"] =
      absl::ToDoubleSeconds(rec.checkpoint_decode);
  state.counters["checkpoint_MB"] =
      static_cast<double>(before.last_checkpoint_bytes) / 1e6;
  state.counters["store_bytes_per_event"] =
      static_cast<double>(before.store.store_bytes) /
      static_cast<double>(events);
  state.counters["compaction_wait_s"] = compaction_wait_s;
  state.counters["label_joins_per_s"] = phase_labels / join_s;
  state.counters["label_joins_per_s_2_clients"] = phase_labels / join2_s;
  state.counters["label_joins_cpu_per_s"] = join_cpu;
  state.counters["label_joins_cpu_per_s_2_clients"] = join2_cpu;
  // RAM with 10M entries pending, joined at random: the join tables are on
  // disk, so this stays near what the windows need plus
  // state.join_memory_bytes (docs/state.md, "Bounds").
  state.counters["rss_MB"] = static_cast<double>(RssBytes()) / 1e6;
  const aiq::state::JoinStoreStats join = app->durable()->Stats().join;
  state.counters["join_memory_MB"] =
      static_cast<double>(join.memtable_bytes + join.block_cache_bytes) / 1e6;
  app.reset();
  fs::remove_all(dir);
  fs::remove(reference);
}
BENCHMARK(BM_StateRestart)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
