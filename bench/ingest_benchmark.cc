// Ingest through the whole request path without sockets: ExporterApp::Handle
// on POST /api/v1/predictions (and /labels), i.e. routing, authentication,
// simdjson decode + validation, grouping by model, the per-model lock, the
// counters, histograms, quality and drift windows, and the JSON response.
//
// Events look like the demo churn model's: 6 features (4 numeric, 2
// categorical), a predicted class, a confidence and a latency. Variants:
//   BM_IngestNdjson/<events>/<ref>   batch of 1 / 100 / 10000 NDJSON events;
//                                    ref=1: the model has the oracle's 6-
//                                    feature reference, so every event also
//                                    goes into the drift window (sampled
//                                    regime once past max_exact_samples).
//   BM_IngestJsonArray/<events>      the same events as one JSON array.
//   BM_IngestFeatures/<features>     events/s vs number of numeric features
//                                    (1, 10, 50, 200) with a reference.
//   BM_LabelJoin/<events>            predictions with ids, then their labels:
//                                    the confusion-matrix join (both bodies
//                                    counted: items = 2 x events).
//   BM_DecodeOnly/<events>           the simdjson decoder alone.
// items_per_second is events/s; the clock is a FakeClock, so every event
// lands in one bucket of a 1 h window.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/ingest/decoder.h"

namespace {

using aiq::app::ExporterApp;
using aiq::http::HttpRequest;
using aiq::http::HttpResponse;

const char kReference[] = AIQ_ORACLE_DIR "/datasets/large_stable_reference.csv";

struct App {
  aiq::util::FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app;
};

std::unique_ptr<App> MakeApp(const std::string& yaml) {
  auto a = std::make_unique<App>();
  std::vector<aiq::config::ConfigError> errors;
  std::optional<aiq::config::Config> c =
      aiq::config::ParseConfig(yaml, "bench.yaml", errors);
  if (!c) {
    std::fprintf(stderr, "config: %s\n", errors[0].ToString().c_str());
    std::abort();
  }
  a->app = std::make_unique<ExporterApp>(*std::move(c), &a->clock);
  if (absl::Status st = a->app->LoadReferences(); !st.ok()) {
    // The reference is the generated test data (docs/testdata.md).
    std::fprintf(stderr,
                 "reference: %s\nIf %s is missing, regenerate the test data "
                 "with tools/oracle/generate.py or configure with "
                 "-DAIQ_ORACLE_DIR=<copy>.\n",
                 st.ToString().c_str(), kReference);
    std::exit(1);
  }
  return a;
}

HttpRequest Post(std::string path, std::string body, bool ndjson) {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  const char* type = ndjson ? "application/x-ndjson" : "application/json";
  r.header = [type](const char* name) -> std::string_view {
    return std::string_view(name) == "Content-Type" ? type : "";
  };
  return r;
}

std::string ChurnYaml(bool reference) {
  std::string y =
      "models:\n"
      "  - name: churn\n"
      "    task: classification\n"
      "    versions: [v1]\n"
      "    classes: [churn, stay]\n"
      "    features:\n"
      "      - {name: income, type: numeric}\n"
      "      - {name: age, type: numeric}\n"
      "      - {name: score, type: numeric}\n"
      "      - {name: rooms, type: numeric}\n"
      "      - {name: plan, type: categorical}\n"
      "      - {name: channel, type: categorical}\n"
      "    label_ttl: 24h\n"
      "    window: {duration: 1h, buckets: 12, min_samples: 100}\n";
  if (reference) {
    absl::StrAppend(&y, "    reference: {csv: \"", kReference,
                    "\", target: target, prediction: prediction}\n");
  }
  return y;
}

// One churn event; `id` < 0 leaves the id out.
std::string ChurnEvent(std::mt19937_64& rng, int64_t id) {
  std::normal_distribution<double> income(30000, 8000), age(45, 12),
      score(0, 1);
  std::uniform_int_distribution<int> rooms(1, 6), pick(0, 2);
  std::uniform_real_distribution<double> conf(0.5, 1.0), lat(2, 80);
  static const char* kPlans[] = {"basic", "plus", "pro"};
  static const char* kChannels[] = {"app", "web", "store"};
  char buf[512];
  std::snprintf(
      buf, sizeof(buf),
      "{\"model\":\"churn\",\"version\":\"v1\",%s\"prediction\":\"%s\","
      "\"confidence\":%.4f,\"latency_ms\":%.2f,\"features\":{\"income\":%.2f,"
      "\"age\":%.1f,\"score\":%.6f,\"rooms\":%d,\"plan\":\"%s\","
      "\"channel\":\"%s\"}}",
      id < 0 ? "" : absl::StrCat("\"id\":\"p", id, "\",").c_str(),
      pick(rng) == 0 ? "churn" : "stay", conf(rng), lat(rng), income(rng),
      age(rng), score(rng), rooms(rng), kPlans[pick(rng)],
      kChannels[pick(rng)]);
  return buf;
}

std::string NdjsonBody(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string body;
  for (int64_t i = 0; i < n; ++i)
    absl::StrAppend(&body, ChurnEvent(rng, -1), "\n");
  return body;
}

void CheckAccepted(const HttpResponse& r, benchmark::State& state) {
  if (r.status != 200)
    state.SkipWithError(
        ("status " + std::to_string(r.status) + ": " + r.body.substr(0, 200))
            .c_str());
}

void BM_IngestNdjson(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto a = MakeApp(ChurnYaml(state.range(1) != 0));
  const HttpRequest req =
      Post("/api/v1/predictions", NdjsonBody(n, 42), /*ndjson=*/true);
  for (auto _ : state) {
    HttpResponse r = a->app->Handle(req);
    if (r.status != 200) {
      CheckAccepted(r, state);
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(req.body.size()));
}
BENCHMARK(BM_IngestNdjson)
    ->ArgNames({"events", "ref"})
    ->ArgsProduct({{1, 100, 10000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

void BM_IngestJsonArray(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto a = MakeApp(ChurnYaml(true));
  std::mt19937_64 rng(7);
  std::string body = "[";
  for (int64_t i = 0; i < n; ++i) {
    absl::StrAppend(&body, i ? "," : "", ChurnEvent(rng, -1));
  }
  body += "]";
  const HttpRequest req = Post("/api/v1/predictions", body, false);
  for (auto _ : state) {
    HttpResponse r = a->app->Handle(req);
    if (r.status != 200) {
      CheckAccepted(r, state);
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_IngestJsonArray)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Events/s vs number of numeric features, each with a reference column.
void BM_IngestFeatures(benchmark::State& state) {
  const int f = static_cast<int>(state.range(0));
  constexpr int64_t kEvents = 1000;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> norm(0, 1);
  // Reference CSV (uploaded through PUT /reference) and the config.
  std::string yaml =
      "models:\n  - name: m\n    task: classification\n    versions: [v1]\n"
      "    classes: [a, b]\n    window: {duration: 1h, buckets: 12}\n"
      "    features:\n";
  std::string csv;
  for (int j = 0; j < f; ++j) {
    absl::StrAppend(&yaml, "      - {name: f", j, ", type: numeric}\n");
    absl::StrAppend(&csv, j ? "," : "", "f", j);
  }
  csv += "\n";
  for (int i = 0; i < 2000; ++i) {
    for (int j = 0; j < f; ++j) {
      absl::StrAppend(&csv, j ? "," : "", norm(rng));
    }
    csv += "\n";
  }
  auto a = MakeApp(yaml);
  HttpRequest put = Post("/api/v1/models/m/reference", csv, false);
  put.method = "PUT";
  if (HttpResponse r = a->app->Handle(put); r.status != 200) {
    state.SkipWithError(r.body.c_str());
    return;
  }
  std::string body;
  char num[32];
  for (int64_t i = 0; i < kEvents; ++i) {
    body += "{\"model\":\"m\",\"prediction\":\"a\",\"features\":{";
    for (int j = 0; j < f; ++j) {
      std::snprintf(num, sizeof(num), "%.6f", norm(rng));
      absl::StrAppend(&body, j ? "," : "", "\"f", j, "\":", num);
    }
    body += "}}\n";
  }
  const HttpRequest req = Post("/api/v1/predictions", body, true);
  for (auto _ : state) {
    HttpResponse r = a->app->Handle(req);
    if (r.status != 200) {
      CheckAccepted(r, state);
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.counters["features"] = f;
}
BENCHMARK(BM_IngestFeatures)
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Arg(200)
    ->Unit(benchmark::kMicrosecond);

// Predictions with unique ids, then a label for each: the join table and
// the confusion matrix / quality window. Bodies are built untimed.
void BM_LabelJoin(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto a = MakeApp(ChurnYaml(true));
  std::mt19937_64 rng(11);
  int64_t next_id = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string preds, labels;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t id = next_id++;
      absl::StrAppend(&preds, ChurnEvent(rng, id), "\n");
      absl::StrAppend(&labels, "{\"model\":\"churn\",\"id\":\"p", id,
                      "\",\"label\":\"", (rng() & 1) ? "churn" : "stay",
                      "\"}\n");
    }
    const HttpRequest p = Post("/api/v1/predictions", std::move(preds), true);
    const HttpRequest l = Post("/api/v1/labels", std::move(labels), true);
    state.ResumeTiming();
    HttpResponse rp = a->app->Handle(p);
    HttpResponse rl = a->app->Handle(l);
    if (rp.status != 200 || rl.status != 200) {
      CheckAccepted(rp.status != 200 ? rp : rl, state);
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * 2 * n);
}
BENCHMARK(BM_LabelJoin)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_DecodeOnly(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<aiq::config::ConfigError> errors;
  const aiq::config::Config c =
      *aiq::config::ParseConfig(ChurnYaml(false), "bench.yaml", errors);
  aiq::ingest::Decoder decoder(c);
  const std::string body = NdjsonBody(n, 5);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (auto _ : state) {
    auto r = decoder.Decode(aiq::ingest::EventKind::kPrediction,
                            aiq::ingest::BodyFormat::kNdjson, body, now);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_DecodeOnly)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
