// OTLP/HTTP span ingest (docs/otlp.md) through the whole request path
// without sockets, side by side with the JSON API on the same calls
// (exporter/testing/otlp_bodies.h: ChatSpansBody, ChatSpansJsonBody and
// ChatCallsNdjson; golden_bodies_test.cc proves they map to the same
// events). Each call is a chat span with tokens, a response id and a 1 s
// duration, of a generation model.
//   BM_IngestOtlpTraces/<spans>/<json>  POST /v1/traces: routing, decode
//                                       (protobuf or JSON), GenAI mapping,
//                                       apply, the partial_success reply.
//   BM_IngestJsonApi/<events>           POST /api/v1/predictions, NDJSON.
//   BM_DecodeOtlpTraces/<spans>/<json>  the OTLP decoder alone.
//   BM_MapOtlpTraces/<spans>            the GenAI mapping alone.
// items_per_second is spans (events) per second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/otlp/genai_mapping.h"
#include "exporter/otlp/otlp_decoder.h"
#include "exporter/testing/otlp_bodies.h"

namespace {

namespace bodies = aiq::testing::otlp_bodies;
using aiq::app::ExporterApp;
using aiq::http::HttpRequest;
using aiq::http::HttpResponse;

constexpr int64_t kNowSeconds = 1'800'000'000;
// An hour before the clock, so every span is in the past.
constexpr uint64_t kStart =
    static_cast<uint64_t>(kNowSeconds - 3600) * 1'000'000'000;

const char kYaml[] = R"(
models:
  - name: chatbot
    task: generation
    versions: [gpt-4o]
    cost_per_1k_prompt_tokens: 0.0025
    cost_per_1k_completion_tokens: 0.01
)";

aiq::config::Config BenchConfig() {
  std::vector<aiq::config::ConfigError> errors;
  std::optional<aiq::config::Config> c =
      aiq::config::ParseConfig(kYaml, "bench.yaml", errors);
  if (!c) {
    std::fprintf(stderr, "config: %s\n", errors[0].ToString().c_str());
    std::abort();
  }
  return *std::move(c);
}

struct App {
  aiq::util::FakeClock clock{absl::FromUnixSeconds(kNowSeconds)};
  std::unique_ptr<ExporterApp> app =
      std::make_unique<ExporterApp>(BenchConfig(), &clock);
};

HttpRequest Post(std::string path, std::string body, const char* type) {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.header = [type](const char* name) -> std::string_view {
    return std::string_view(name) == "Content-Type" ? type : "";
  };
  return r;
}

// Every item must be accepted: an OTLP reply without partial_success ("" or
// "{}"), a JSON API reply with "rejected":0.
void Run(benchmark::State& state, const HttpRequest& request, int64_t items) {
  App a;
  for (auto _ : state) {
    HttpResponse r = a.app->Handle(request);
    const bool all_accepted =
        r.body.empty() || r.body == "{}" ||
        r.body.find("\"rejected\":0") != std::string::npos;
    if (r.status != 200 || !all_accepted) {
      state.SkipWithError(
          ("status " + std::to_string(r.status) + ": " + r.body.substr(0, 200))
              .c_str());
      return;
    }
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(request.body.size()));
}

// Without response ids, so that posting the same body again is not a
// batch of duplicate ids (refused).
std::vector<bodies::ChatCall> Calls(int n) {
  return bodies::ChatCalls(n, kStart, /*response_ids=*/false);
}

std::string TracesBody(int spans, bool json) {
  return json ? bodies::ChatSpansJsonBody("chatbot", Calls(spans))
              : bodies::ChatSpansBody("chatbot", Calls(spans));
}

void BM_IngestOtlpTraces(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  const bool json = state.range(1) != 0;
  Run(state,
      Post("/v1/traces", TracesBody(spans, json),
           json ? "application/json" : "application/x-protobuf"),
      spans);
}
BENCHMARK(BM_IngestOtlpTraces)
    ->ArgNames({"spans", "json"})
    ->ArgsProduct({{1, 100, 1000, 10000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

void BM_IngestJsonApi(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  Run(state,
      Post("/api/v1/predictions",
           bodies::ChatCallsNdjson("chatbot", Calls(events)),
           "application/x-ndjson"),
      events);
}
BENCHMARK(BM_IngestJsonApi)
    ->ArgName("events")
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);

void BM_DecodeOtlpTraces(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  const bool json = state.range(1) != 0;
  const std::string body = TracesBody(spans, json);
  const auto encoding =
      json ? aiq::otlp::Encoding::kJson : aiq::otlp::Encoding::kProtobuf;
  for (auto _ : state) {
    absl::StatusOr<aiq::otlp::TracesRequest> r =
        aiq::otlp::DecodeTraces(encoding, body, {});
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(r->resource_spans.data());
  }
  state.SetItemsProcessed(state.iterations() * spans);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_DecodeOtlpTraces)
    ->ArgNames({"spans", "json"})
    ->ArgsProduct({{1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

void BM_MapOtlpTraces(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  const aiq::config::Config config = BenchConfig();
  const std::string body = TracesBody(spans, /*json=*/false);
  absl::StatusOr<aiq::otlp::TracesRequest> request =
      aiq::otlp::DecodeTraces(aiq::otlp::Encoding::kProtobuf, body, {});
  if (!request.ok()) {
    state.SkipWithError(std::string(request.status().message()).c_str());
    return;
  }
  const aiq::otlp::GenAiMapper mapper(config);
  const absl::Time now = absl::FromUnixSeconds(kNowSeconds);
  for (auto _ : state) {
    aiq::otlp::MappedRequest m = mapper.MapTraces(*request, now);
    benchmark::DoNotOptimize(m.decoded.events.data());
  }
  state.SetItemsProcessed(state.iterations() * spans);
}
BENCHMARK(BM_MapOtlpTraces)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
BENCHMARK_MAIN();
