#include "exporter/metrics/model_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exporter/config/config_loader.h"
#include "exporter/metrics/exposition.h"
#include "exporter/model/model_registry.h"

namespace aiq::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ModelMetricsTest, ExposesEveryOperationalSeries) {
  std::vector<config::ConfigError> errors;
  config::Config cfg = *config::ParseConfig(R"(
server: {latency_buckets_seconds: [1]}
models:
  - name: llm
    task: generation
    versions: [v1]
    cost_per_1k_prompt_tokens: 1
    budget: {cost_per_day: 5}
    safety_categories: [pii, toxicity]
)",
                                            "t", errors);
  util::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  model::ModelRegistry registry(cfg, &clock);
  ingest::Decoder d(cfg);
  auto post = [&](ingest::EventKind k, std::string_view body) {
    ingest::DecodeResult decoded =
        *d.Decode(k, ingest::BodyFormat::kNdjson, body, clock.Now());
    registry.Apply(decoded);
  };
  post(ingest::EventKind::kPrediction, R"(
{"model":"llm","id":"a","latency_ms":2000,"tokens":{"prompt":2000,"completion":3},"safety":["pii"],"error":"timeout","timestamp":1799999940}
)");
  post(ingest::EventKind::kPrediction, R"(
{"model":"llm","latency_ms":1500,"ttft_ms":500,"tokens":{"completion":5}}
)");
  post(ingest::EventKind::kEvaluation, R"(
{"model":"llm","id":"a","evaluator":"relevance","score":0.75,"label":"good"}
{"model":"llm","evaluator":"relevance","label":"good"}
{"model":"llm","evaluator":"relevance","score":0.25}
)");
  post(ingest::EventKind::kLabel, R"({"model":"llm","id":"a","label":"x"})");
  post(ingest::EventKind::kFeedback,
       R"({"model":"llm","id":"a","score":2,"value":3.5})");
  const std::string text = RenderText(ModelFamilies(registry.Snapshot()));
  const std::string mv = R"(model="llm",version="v1")";
  for (const std::string& line : std::vector<std::string>{
           "aiq_predictions_total{" + mv + "} 2",
           "aiq_prediction_errors_total{" + mv + ",reason=\"timeout\"} 1",
           "aiq_prediction_latency_seconds_bucket{" + mv + ",le=\"1\"} 0",
           "aiq_prediction_latency_seconds_bucket{" + mv + ",le=\"+Inf\"} 2",
           "aiq_prediction_latency_seconds_sum{" + mv + "} 3.5",
           "aiq_time_to_first_token_seconds_bucket{" + mv + ",le=\"0.25\"} 0",
           "aiq_time_to_first_token_seconds_bucket{" + mv + ",le=\"0.5\"} 1",
           "aiq_time_to_first_token_seconds_sum{" + mv + "} 0.5",
           "aiq_time_to_first_token_seconds_count{" + mv + "} 1",
           // (1.5 - 0.5) / 4 = 0.25 s per output token after the first.
           "aiq_time_per_output_token_seconds_bucket{" + mv + ",le=\"0.2\"} 0",
           "aiq_time_per_output_token_seconds_bucket{" + mv + ",le=\"0.3\"} 1",
           "aiq_time_per_output_token_seconds_sum{" + mv + "} 0.25",
           "aiq_evaluation_score_bucket{" + mv +
               ",evaluator=\"relevance\",le=\"0.3\"} 1",
           "aiq_evaluation_score_bucket{" + mv +
               ",evaluator=\"relevance\",le=\"0.8\"} 2",
           "aiq_evaluation_score_sum{" + mv + ",evaluator=\"relevance\"} 1",
           "aiq_evaluation_score_count{" + mv + ",evaluator=\"relevance\"} 2",
           "aiq_evaluations_total{model=\"llm\",evaluator=\"relevance\","
           "label=\"good\"} 2",
           "aiq_evaluations_total{model=\"llm\",evaluator=\"relevance\","
           "label=\"\"} 1",
           "aiq_tokens_total{" + mv + ",type=\"prompt\"} 2000",
           "aiq_tokens_total{" + mv + ",type=\"completion\"} 8",
           "aiq_cost_total{" + mv + "} 2",
           "aiq_cost_budget{model=\"llm\"} 5",
           "aiq_feedback_score_bucket{" + mv + ",le=\"2\"} 1",
           "aiq_feedback_score_bucket{" + mv + ",le=\"1\"} 0",
           "aiq_feedback_score_sum{" + mv + "} 2",
           "aiq_outcome_value_total{" + mv + "} 3.5",
           "aiq_safety_violations_total{" + mv + ",category=\"pii\"} 1",
           "aiq_safety_violations_total{" + mv + ",category=\"toxicity\"} 0",
           "aiq_labels_total{" + mv + "} 1",
           "aiq_label_delay_seconds_sum{" + mv + "} 60",
           "aiq_labels_unmatched_total{model=\"llm\"} 0",
           "aiq_join_pending{model=\"llm\"} 0",
           "aiq_join_entries{model=\"llm\"} 1",
           "aiq_join_capacity{model=\"llm\"} 100000",
           "aiq_join_evicted_total{model=\"llm\"} 0",
       }) {
    EXPECT_THAT(text, HasSubstr(line + "\n")) << line;
  }
  EXPECT_THAT(text, Not(HasSubstr("aiq_token_budget")));
}

}  // namespace
}  // namespace aiq::metrics
