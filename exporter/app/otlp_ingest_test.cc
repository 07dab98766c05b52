// ExporterApp's OTLP/HTTP endpoints, in process: what a request does to
// /metrics (exact values), what it answers, and that a restart with
// state.dir replays OTLP requests to the same state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/otlp/detail/wire_reader.h"
#include "exporter/testing/otlp_bodies.h"
#include "exporter/util/gzip.h"

namespace aiq::app {
namespace {

namespace b = aiq::testing::otlp_bodies;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kSecond = 1'000'000'000;
// An hour before the test clock's now.
constexpr uint64_t kStart = (1'800'000'000ull - 3600) * kSecond;

constexpr char kConfig[] = R"(
server: {ingest_tokens: [secret]}
models:
  - name: chatbot
    task: generation
    cost_per_1k_prompt_tokens: 1
    cost_per_1k_completion_tokens: 2
  - name: churn
    classes: [yes, no]
)";

class OtlpIngestTest : public ::testing::Test {
 protected:
  void Start(std::string_view yaml = kConfig, std::string state_dir = "") {
    std::vector<config::ConfigError> errors;
    std::optional<config::Config> c = config::ParseConfig(yaml, "t", errors);
    ASSERT_TRUE(c.has_value()) << errors[0].ToString();
    c->review.path = "";
    if (!state_dir.empty()) {
      c->state.dir = state_dir;
      c->state.min_free_bytes = 0;
      c->state.checkpoint_interval = absl::Hours(1);
    }
    app_.reset();
    app_ = std::make_unique<ExporterApp>(*std::move(c), &clock_);
    ASSERT_TRUE(app_->Init().ok());
  }

  http::HttpResponse Post(std::string path, std::string body,
                          std::string content_type = "application/x-protobuf",
                          std::map<std::string, std::string> headers = {}) {
    headers.emplace("Content-Type", content_type);
    headers.emplace("Authorization", "Bearer secret");
    http::HttpRequest r;
    r.method = "POST";
    r.path = std::move(path);
    r.body = std::move(body);
    r.header = [headers](const char* name) -> std::string_view {
      auto it = headers.find(name);
      return it == headers.end() ? std::string_view() : it->second;
    };
    return app_->Handle(r);
  }

  std::string Scrape() {
    http::HttpRequest r;
    r.method = "GET";
    r.path = "/metrics";
    r.header = [](const char*) { return std::string_view(); };
    return app_->Handle(r).body;
  }

  // A chat span of `seconds`, with tokens and a response id.
  static b::WireWriter Chat(double seconds, int64_t in, int64_t out,
                            std::string id, b::Writers more = {},
                            b::Writers events = {}, int status = 0) {
    b::Writers attributes = {
        b::KeyValue("gen_ai.operation.name", b::Str("chat")),
        b::KeyValue("gen_ai.request.model", b::Str("gpt-4o")),
        b::KeyValue("gen_ai.usage.input_tokens", b::Int(in)),
        b::KeyValue("gen_ai.usage.output_tokens", b::Int(out)),
        b::KeyValue("gen_ai.response.id", b::Str(id))};
    attributes.insert(attributes.end(), more.begin(), more.end());
    return b::Span("chat gpt-4o", kStart,
                   kStart + static_cast<uint64_t>(seconds * kSecond),
                   attributes, events, status);
  }

  // partial_success of a protobuf ExportTraceServiceResponse: rejected
  // count and message (0, "" when absent).
  static std::pair<int64_t, std::string> PartialSuccess(std::string_view pb) {
    otlp::detail::WireReader top(pb);
    otlp::detail::WireField f;
    std::pair<int64_t, std::string> out{0, ""};
    while (top.Next(f)) {
      otlp::detail::WireReader inner(f.bytes);
      otlp::detail::WireField g;
      while (inner.Next(g)) {
        if (g.number == 1) out.first = static_cast<int64_t>(g.value);
        if (g.number == 2) out.second = std::string(g.bytes);
      }
    }
    return out;
  }

  util::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app_;
};

TEST_F(OtlpIngestTest, SpansBecomeLatencyTokensCostAndErrors) {
  Start();
  const std::string body = b::TracesBody(
      "chatbot", {Chat(0.5, 100, 10, "r1"), Chat(1.0, 200, 20, "r2"),
                  Chat(2.0, 300, 30, "r3",
                       {b::KeyValue("error.type", b::Str("timeout"))}, {}, 2),
                  Chat(0.25, 0, 0, "r4", {}, {}, /*status_code=*/2),
                  b::Span("GET /health", kStart, kStart + kSecond, {})});
  http::HttpResponse r = Post("/v1/traces", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.body, "");  // nothing refused: the empty response
  const std::string m = Scrape();
  const std::string mv = R"(model="chatbot",version="gpt-4o")";
  for (const std::string& line : {
           "aiq_predictions_total{" + mv + "} 4",
           "aiq_prediction_latency_seconds_sum{" + mv + "} 3.75",
           "aiq_prediction_latency_seconds_count{" + mv + "} 4",
           "aiq_prediction_latency_seconds_bucket{" + mv + ",le=\"0.5\"} 2",
           "aiq_tokens_total{" + mv + ",type=\"prompt\"} 600",
           "aiq_tokens_total{" + mv + ",type=\"completion\"} 60",
           "aiq_cost_total{" + mv + "} 0.72",
           "aiq_prediction_errors_total{" + mv + ",reason=\"timeout\"} 1",
           "aiq_prediction_errors_total{" + mv + ",reason=\"_OTHER\"} 1",
           std::string(
               "aiq_exporter_events_received_total{kind=\"prediction\"} "
               "4"),
           std::string("aiq_exporter_otlp_ignored_total{signal=\"traces\"} 1"),
           std::string("aiq_exporter_http_requests_total{code=\"200\","
                       "handler=\"/v1/traces\"} 1"),
       }) {
    EXPECT_THAT(m, HasSubstr(line + "\n")) << line;
  }
}

TEST_F(OtlpIngestTest, EvaluationsFromSpanEventsAndLogsJoinTheirCall) {
  Start();
  b::WireWriter judged = Chat(
      1, 10, 5, "r1", {},
      {b::SpanEvent(
          "gen_ai.evaluation.result", kStart + kSecond,
          {b::KeyValue("gen_ai.evaluation.name", b::Str("relevance")),
           b::KeyValue("gen_ai.evaluation.score.value", b::Double(0.8)),
           b::KeyValue("gen_ai.evaluation.score.label", b::Str("relevant"))})});
  ASSERT_EQ(Post("/v1/traces", b::TracesBody("chatbot", {judged})).status, 200);
  const std::string logs = b::LogsBody(
      "chatbot",
      {b::LogRecord(
           "gen_ai.evaluation.result", kStart,
           {b::KeyValue("gen_ai.evaluation.name", b::Str("relevance")),
            b::KeyValue("gen_ai.evaluation.score.value", b::Double(0.3)),
            b::KeyValue("gen_ai.response.id", b::Str("r1"))}),
       b::LogRecord(
           "gen_ai.evaluation.result", kStart,
           {b::KeyValue("gen_ai.evaluation.name", b::Str("toxicity")),
            b::KeyValue("gen_ai.evaluation.score.label", b::Str("safe"))}),
       b::LogRecord("", kStart, {})});
  http::HttpResponse r = Post("/v1/logs", logs);
  EXPECT_EQ(r.status, 200);
  const std::string m = Scrape();
  for (const std::string& line : {
           // Both relevance scores under the call's version: the span
           // event's directly, the log record's through gen_ai.response.id.
           std::string("aiq_evaluation_score_count{model=\"chatbot\","
                       "version=\"gpt-4o\",evaluator=\"relevance\"} 2"),
           std::string("aiq_evaluation_score_sum{model=\"chatbot\","
                       "version=\"gpt-4o\",evaluator=\"relevance\"} 1.1"),
           std::string("aiq_evaluation_score_bucket{model=\"chatbot\","
                       "version=\"gpt-4o\",evaluator=\"relevance\",le=\"0.3\"} "
                       "1"),
           std::string("aiq_evaluations_total{model=\"chatbot\",evaluator="
                       "\"relevance\",label=\"relevant\"} 1"),
           std::string("aiq_evaluations_total{model=\"chatbot\",evaluator="
                       "\"relevance\",label=\"\"} 1"),
           std::string("aiq_evaluations_total{model=\"chatbot\",evaluator="
                       "\"toxicity\",label=\"safe\"} 1"),
           std::string("aiq_exporter_events_received_total{kind="
                       "\"evaluation\"} 3"),
           std::string("aiq_exporter_otlp_ignored_total{signal=\"logs\"} 1"),
       }) {
    EXPECT_THAT(m, HasSubstr(line + "\n")) << line;
  }
}

TEST_F(OtlpIngestTest, RefusedItemsArePartialSuccessAndCounted) {
  Start();
  const std::string known =
      b::TracesBody("chatbot", {Chat(1, 1, 1, "a"), Chat(1, 1, 1, "a")});
  const std::string unknown = b::TracesBody("nobody", {Chat(1, 1, 1, "b")});
  http::HttpResponse r = Post("/v1/traces", known + unknown);
  EXPECT_EQ(r.status, 200);
  const auto [rejected, message] = PartialSuccess(r.body);
  EXPECT_EQ(rejected, 2);
  EXPECT_EQ(message,
            "2 of 3 rejected (duplicate_id 1, unknown_model 1); first: "
            "resource_spans[0].spans[1]: id: a prediction with id \"a\" was "
            "already received");
  const std::string m = Scrape();
  EXPECT_THAT(m, HasSubstr("aiq_exporter_events_rejected_total{kind="
                           "\"prediction\",reason=\"unknown_model\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("aiq_predictions_total{model=\"chatbot\","
                           "version=\"gpt-4o\"} 1\n"));

  // JSON in, JSON out.
  r = Post("/v1/traces", R"({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"churn"}}]},
      "scopeSpans":[{"spans":[{"name":"chat","attributes":[
      {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]})",
           "application/json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  const nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["partialSuccess"]["rejectedSpans"], "1");
  EXPECT_THAT(j["partialSuccess"]["errorMessage"].get<std::string>(),
              HasSubstr("is a classification model"));
}

TEST_F(OtlpIngestTest, UndecodableBodiesAre400AndApplyNothing) {
  Start();
  const std::string good = b::TracesBody("chatbot", {Chat(1, 1, 1, "x")});
  http::HttpResponse r = Post("/v1/traces", good.substr(0, good.size() - 3));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  otlp::detail::WireReader status(r.body);
  otlp::detail::WireField f;
  ASSERT_TRUE(status.Next(f));
  EXPECT_EQ(f.value, 3u);  // INVALID_ARGUMENT
  r = Post("/v1/traces", "{\"resourceSpans\": [", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(nlohmann::json::parse(r.body)["message"].get<std::string>(),
              HasSubstr("not JSON"));
  EXPECT_THAT(Scrape(), Not(HasSubstr("aiq_predictions_total{model="
                                      "\"chatbot\",version=\"gpt-4o\"}")));
}

TEST_F(OtlpIngestTest, ContentTypeAuthAndGzip) {
  Start();
  const std::string body = b::TracesBody("chatbot", {Chat(1, 1, 1, "x")});
  http::HttpResponse r = Post("/v1/traces", body, "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(nlohmann::json::parse(r.body)["code"], 3);
  // Refusals are google.rpc.Status in the request's encoding.
  r = Post("/v1/traces", body, "application/x-protobuf",
           {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  r = Post("/v1/traces", body, "application/x-protobuf",
           {{"Content-Encoding", "br"}});
  EXPECT_EQ(r.status, 415);
  r = Post("/v1/traces", body.substr(0, 10), "application/x-protobuf",
           {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 400);
  r = Post("/v1/traces", *util::Gzip(body), "application/x-protobuf",
           {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200) << r.body;
  // A body that inflates past limits.max_body_bytes.
  r = Post("/v1/traces", *util::Gzip(std::string(17 << 20, '\0')),
           "application/x-protobuf", {{"Content-Encoding", "GZIP"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(Scrape(), HasSubstr("aiq_predictions_total{model=\"chatbot\","
                                  "version=\"gpt-4o\"} 1\n"));
}

TEST_F(OtlpIngestTest, LatencyHistogramsDeltaAndCumulative) {
  Start();
  const std::vector<double> ttft = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06,
                                    0.08,  0.1,   0.25, 0.5,  0.75, 1.0,
                                    2.5,   5.0,   7.5,  10.0};
  auto counts = [](std::map<size_t, uint64_t> at) {
    std::vector<uint64_t> c(17, 0);
    for (auto [i, n] : at) c[i] = n;
    return c;
  };
  const b::Writers version = {
      b::KeyValue("gen_ai.request.model", b::Str("gpt-4o"))};
  // Delta: added as they come. Cumulative: the difference from the last.
  auto post = [&](int temporality, std::vector<uint64_t> c, double sum) {
    return Post(
        "/v1/metrics",
        b::MetricsBody(
            "chatbot",
            {b::HistogramMetric(
                "gen_ai.server.time_to_first_token", "s", temporality,
                {b::HistogramPoint(version, kStart, kStart + 60 * kSecond, c,
                                   ttft, sum)})}));
  };
  EXPECT_EQ(post(1, counts({{8, 2}}), 0.4).status, 200);
  EXPECT_EQ(post(1, counts({{8, 1}}), 0.2).status, 200);
  EXPECT_EQ(post(2, counts({{9, 1}}), 0.5).status, 200);
  EXPECT_EQ(post(2, counts({{9, 3}, {11, 1}}), 2.4).status, 200);
  // TPOT with other bounds: mapped to ours, upward.
  http::HttpResponse r = Post(
      "/v1/metrics",
      b::MetricsBody(
          "chatbot",
          {b::HistogramMetric("gen_ai.server.time_per_output_token", "s", 1,
                              {b::HistogramPoint(version, kStart, kStart,
                                                 {1, 1, 0}, {0.03, 0.5}, 0.2)}),
           b::HistogramMetric("http.server.duration", "s", 1,
                              {b::HistogramPoint({}, 1, 2, {1}, {}, 1)}),
           b::HistogramMetric("gen_ai.server.time_to_first_token", "ms", 1,
                              {b::HistogramPoint({}, 1, 2, {1}, {}, 1)})}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(PartialSuccess(r.body).first, 1);
  EXPECT_THAT(PartialSuccess(r.body).second,
              HasSubstr("resource_metrics[0].metrics[2].data_points[0]: unit: "
                        "must be \"s\" (seconds), got \"ms\""));
  const std::string m = Scrape();
  const std::string mv = R"(model="chatbot",version="gpt-4o")";
  for (const std::string& line : {
           // 2 + 1 (delta) + 1 + (4 - 1) (cumulative) = 7 calls.
           "aiq_time_to_first_token_seconds_count{" + mv + "} 7",
           "aiq_time_to_first_token_seconds_sum{" + mv + "} 3",
           "aiq_time_to_first_token_seconds_bucket{" + mv + ",le=\"0.25\"} 3",
           "aiq_time_to_first_token_seconds_bucket{" + mv + ",le=\"0.5\"} 6",
           "aiq_time_to_first_token_seconds_bucket{" + mv + ",le=\"1\"} 7",
           "aiq_time_per_output_token_seconds_bucket{" + mv +
               ",le=\"0.025\"} 0",
           "aiq_time_per_output_token_seconds_bucket{" + mv + ",le=\"0.05\"} 1",
           "aiq_time_per_output_token_seconds_bucket{" + mv + ",le=\"0.5\"} 2",
           std::string("aiq_exporter_otlp_ignored_total{signal=\"metrics\"} 1"),
           std::string("aiq_exporter_events_received_total{kind="
                       "\"data_point\"} 6"),
       }) {
    EXPECT_THAT(m, HasSubstr(line + "\n")) << line;
  }
}

TEST_F(OtlpIngestTest, RestartReplaysOtlpRequestsToTheSameMetrics) {
  const std::string dir =
      (fs::temp_directory_path() / absl::StrCat("aiq_otlp_", ::getpid()))
          .string();
  fs::remove_all(dir);
  Start(kConfig, dir);
  ASSERT_EQ(Post("/v1/traces",
                 *util::Gzip(b::TracesBody(
                     "chatbot", {Chat(1, 5, 6, "r1"), Chat(2, 7, 8, "r2")})),
                 "application/x-protobuf", {{"Content-Encoding", "gzip"}})
                .status,
            200);
  ASSERT_EQ(Post("/v1/logs", R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"chatbot"}}]},
      "scopeLogs":[{"logRecords":[{"eventName":"gen_ai.evaluation.result",
      "attributes":[{"key":"gen_ai.evaluation.name","value":{"stringValue":"j"}},
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.5}},
      {"key":"gen_ai.response.id","value":{"stringValue":"r2"}}]}]}]}]})",
                 "application/json")
                .status,
            200);
  ASSERT_EQ(Post("/v1/metrics",
                 b::MetricsBody("chatbot",
                                {b::HistogramMetric(
                                    "gen_ai.server.time_to_first_token", "s", 2,
                                    {b::HistogramPoint({}, kStart, kStart,
                                                       {2, 1}, {0.1}, 0.3)})}))
                .status,
            200);
  const std::string before = Scrape();
  ASSERT_THAT(before, HasSubstr("aiq_evaluation_score_count{model=\"chatbot\","
                                "version=\"gpt-4o\",evaluator=\"j\"} 1\n"));
  auto model_lines = [](const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("aiq_", 0) == 0 && line.rfind("aiq_exporter", 0) != 0 &&
          line.rfind("aiq_state", 0) != 0) {
        out += line + "\n";
      }
    }
    return out;
  };
  Start(kConfig, dir);  // replays the log
  EXPECT_EQ(model_lines(Scrape()), model_lines(before));
  // The cumulative stream continues: the same totals again add nothing.
  ASSERT_TRUE(app_->durable()->CheckpointNow().ok());
  Start(kConfig, dir);  // from the checkpoint
  ASSERT_EQ(Post("/v1/metrics",
                 b::MetricsBody("chatbot",
                                {b::HistogramMetric(
                                    "gen_ai.server.time_to_first_token", "s", 2,
                                    {b::HistogramPoint({}, kStart, kStart,
                                                       {2, 1}, {0.1}, 0.3)})}))
                .status,
            200);
  EXPECT_EQ(model_lines(Scrape()), model_lines(before));
  app_.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aiq::app
