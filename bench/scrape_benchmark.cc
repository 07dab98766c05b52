// A full /metrics render through ExporterApp::Handle (GET /metrics): self
// and process metrics, every model's counters, quality and drift families,
// and the text serialization. The brief's target: 100 models x 20 features
// in < 1 s.
//
// Each model has F numeric features, a reference of 2,000 rows (uploaded
// through PUT /api/v1/models/{m}/reference) and S events in its window
// (default S = 12,000 > window.max_exact_samples = 10,000, so KS and
// Wasserstein run on the sampled regime: 10,000 values per feature).
//   BM_ScrapeFirst/models/features/samples, BM_Scrape/.../mode
//     BM_ScrapeFirst: a fresh app, nothing cached: every window's drift is
//            computed (one iteration; the fixture is built untimed).
//     mode 1 "dirty": one new event per model before each scrape, so every
//            window is recomputed (the common case under live traffic).
//     mode 2 "cached": nothing changed since the last scrape.
//   BM_RenderText/series   serialization of N gauge series (3 labels each).
//   BM_GzipBody            gzip of a 10-model body (Accept-Encoding: gzip).
// CPU time is the whole process's (the scrape spreads models over threads).
// Counters: series (lines of the body that are samples), body_bytes.
#include <benchmark/benchmark.h>
#include <prometheus/metric_family.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/metrics/exposition.h"
#include "exporter/util/gzip.h"

namespace {

using aiq::app::ExporterApp;
using aiq::http::HttpRequest;
using aiq::http::HttpResponse;

HttpRequest Request(std::string method, std::string path, std::string body,
                    const char* content_type) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.header = [content_type](const char* name) -> std::string_view {
    return std::string_view(name) == "Content-Type" ? content_type : "";
  };
  return r;
}

struct Fixture {
  int models = 0, features = 0;
  int64_t samples = 0;
  aiq::util::FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app;
  std::mt19937_64 rng{1};
  std::string error;

  // One event per model (dirties every window).
  std::string OneEventPerModel() {
    std::normal_distribution<double> norm(0.1, 1);
    std::string body;
    char num[32];
    for (int m = 0; m < models; ++m) {
      absl::StrAppend(&body, "{\"model\":\"m", m,
                      "\",\"prediction\":\"a\",\"features\":{");
      for (int j = 0; j < features; ++j) {
        std::snprintf(num, sizeof(num), "%.6f", norm(rng));
        absl::StrAppend(&body, j ? "," : "", "\"f", j, "\":", num);
      }
      body += "}}\n";
    }
    return body;
  }
};

std::unique_ptr<Fixture> Build(int models, int features, int64_t samples) {
  auto fx = std::make_unique<Fixture>();
  fx->models = models;
  fx->features = features;
  fx->samples = samples;
  std::string yaml = absl::StrCat("limits: {max_models: ", models,
                                  ", max_events_per_request: 100000}\n"
                                  "models:\n");
  for (int m = 0; m < models; ++m) {
    absl::StrAppend(&yaml, "  - name: m", m,
                    "\n    task: classification\n    versions: [v1]\n"
                    "    classes: [a, b]\n"
                    "    window: {duration: 1h, buckets: 12}\n"
                    "    features:\n");
    for (int j = 0; j < features; ++j) {
      absl::StrAppend(&yaml, "      - {name: f", j, ", type: numeric}\n");
    }
  }
  std::vector<aiq::config::ConfigError> errors;
  std::optional<aiq::config::Config> c =
      aiq::config::ParseConfig(yaml, "bench.yaml", errors);
  if (!c) {
    fx->error = errors[0].ToString();
    return fx;
  }
  fx->app = std::make_unique<ExporterApp>(*std::move(c), &fx->clock);
  std::normal_distribution<double> ref(0, 1), cur(0.1, 1.1);
  std::string csv;
  for (int j = 0; j < features; ++j)
    absl::StrAppend(&csv, j ? "," : "", "f", j);
  csv += "\n";
  char num[32];
  for (int i = 0; i < 2000; ++i) {
    for (int j = 0; j < features; ++j) {
      std::snprintf(num, sizeof(num), "%s%.6f", j ? "," : "", ref(fx->rng));
      csv += num;
    }
    csv += "\n";
  }
  for (int m = 0; m < models; ++m) {
    HttpRequest put =
        Request("PUT", absl::StrCat("/api/v1/models/m", m, "/reference"), csv,
                "text/csv");
    if (HttpResponse r = fx->app->Handle(put); r.status != 200) {
      fx->error = r.body;
      return fx;
    }
  }
  // Fill the windows, 2,000 events per request.
  for (int m = 0; m < models; ++m) {
    for (int64_t done = 0; done < samples;) {
      const int64_t n = std::min<int64_t>(2000, samples - done);
      std::string body;
      for (int64_t i = 0; i < n; ++i) {
        absl::StrAppend(&body, "{\"model\":\"m", m, "\",\"prediction\":\"",
                        (i & 1) ? "a" : "b", "\",\"features\":{");
        for (int j = 0; j < features; ++j) {
          std::snprintf(num, sizeof(num), "%s\"f%d\":%.6f", j ? "," : "", j,
                        cur(fx->rng));
          body += num;
        }
        body += "}}\n";
      }
      HttpResponse r = fx->app->Handle(
          Request("POST", "/api/v1/predictions", body, "application/x-ndjson"));
      if (r.status != 200) {
        fx->error = r.body.substr(0, 300);
        return fx;
      }
      done += n;
    }
  }
  return fx;
}

std::unique_ptr<Fixture> g_fixture;

Fixture* Get(benchmark::State& state, int models, int features, int64_t samples,
             bool fresh) {
  if (fresh || !g_fixture || g_fixture->models != models ||
      g_fixture->features != features || g_fixture->samples != samples) {
    g_fixture.reset();
    g_fixture = Build(models, features, samples);
  }
  if (!g_fixture->error.empty()) {
    state.SkipWithError(g_fixture->error.c_str());
    return nullptr;
  }
  return g_fixture.get();
}

int64_t CountSeries(const std::string& body) {
  int64_t n = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    if (body[pos] != '#') ++n;
    pos = body.find('\n', pos);
    if (pos == std::string::npos) break;
    ++pos;
  }
  return n;
}

void BM_Scrape(benchmark::State& state) {
  const int models = static_cast<int>(state.range(0));
  const int features = static_cast<int>(state.range(1));
  const int64_t samples = state.range(2);
  const int mode = static_cast<int>(state.range(3));
  Fixture* fx = Get(state, models, features, samples, /*fresh=*/false);
  if (fx == nullptr) return;
  const HttpRequest scrape = Request("GET", "/metrics", "", "");
  if (mode == 2) fx->app->Handle(scrape);  // warm the drift cache
  HttpResponse last;
  for (auto _ : state) {
    if (mode == 1) {
      state.PauseTiming();
      HttpResponse r = fx->app->Handle(Request("POST", "/api/v1/predictions",
                                               fx->OneEventPerModel(),
                                               "application/x-ndjson"));
      if (r.status != 200) {
        state.SkipWithError(r.body.c_str());
        break;
      }
      state.ResumeTiming();
    }
    last = fx->app->Handle(scrape);
    benchmark::DoNotOptimize(last);
  }
  state.counters["series"] = static_cast<double>(CountSeries(last.body));
  state.counters["body_bytes"] = static_cast<double>(last.body.size());
  state.SetLabel(mode == 1 ? "dirty" : "cached");
}
// The first scrape of a fresh fixture is one iteration (everything
// recomputed once); the dirty and cached rows reuse that fixture, so each
// (models, features, samples) is built once, in this order.
void BM_ScrapeFirst(benchmark::State& state) {
  const int models = static_cast<int>(state.range(0));
  const int features = static_cast<int>(state.range(1));
  Fixture* fx = Get(state, models, features, state.range(2), /*fresh=*/true);
  if (fx == nullptr) return;
  const HttpRequest scrape = Request("GET", "/metrics", "", "");
  HttpResponse last;
  for (auto _ : state) {
    last = fx->app->Handle(scrape);
    benchmark::DoNotOptimize(last);
  }
  state.counters["series"] = static_cast<double>(CountSeries(last.body));
  state.counters["body_bytes"] = static_cast<double>(last.body.size());
  state.SetLabel("first");
}

#define AIQ_SCRAPE_GRID(m, f, s)                            \
  BENCHMARK(BM_ScrapeFirst)                                 \
      ->ArgNames({"models", "features", "samples"})         \
      ->Args({m, f, s})                                     \
      ->Unit(benchmark::kMillisecond)                       \
      ->UseRealTime()                                       \
      ->MeasureProcessCPUTime()                             \
      ->Iterations(1);                                      \
  BENCHMARK(BM_Scrape)                                      \
      ->ArgNames({"models", "features", "samples", "mode"}) \
      ->Args({m, f, s, 1})                                  \
      ->Args({m, f, s, 2})                                  \
      ->Unit(benchmark::kMillisecond)                       \
      ->UseRealTime()                                       \
      ->MeasureProcessCPUTime()                             \
      ->Iterations(3)

AIQ_SCRAPE_GRID(1, 20, 12000);
AIQ_SCRAPE_GRID(10, 20, 12000);
AIQ_SCRAPE_GRID(100, 1, 12000);
AIQ_SCRAPE_GRID(100, 5, 12000);
AIQ_SCRAPE_GRID(100, 20, 5000);
AIQ_SCRAPE_GRID(50, 20, 12000);
AIQ_SCRAPE_GRID(100, 20, 12000);

// Serialization alone: one gauge family of N series with 3 labels.
void BM_RenderText(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<prometheus::MetricFamily> families(1);
  prometheus::MetricFamily& f = families[0];
  f.name = "aiq_drift_ks_statistic";
  f.help = "KS statistic";
  f.type = prometheus::MetricType::Gauge;
  for (int64_t i = 0; i < n; ++i) {
    prometheus::ClientMetric m;
    m.label = {{"model", absl::StrCat("m", i / 20)},
               {"version", "v1"},
               {"feature", absl::StrCat("f", i % 20)}};
    m.gauge.value = 0.001 * static_cast<double>(i);
    f.metric.push_back(std::move(m));
  }
  std::string body;
  for (auto _ : state) {
    body = aiq::metrics::RenderText(families);
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_RenderText)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

void BM_GzipBody(benchmark::State& state) {
  Fixture* fx = Get(state, 10, 20, 2000, false);
  if (fx == nullptr) return;
  const std::string body =
      fx->app->Handle(Request("GET", "/metrics", "", "")).body;
  for (auto _ : state) {
    benchmark::DoNotOptimize(*aiq::util::Gzip(body));
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_GzipBody)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
