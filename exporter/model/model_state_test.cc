#include "exporter/model/model_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "exporter/config/config_loader.h"
#include "exporter/model/model_registry.h"

namespace aiq::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ModelStateTest : public ::testing::Test {
 protected:
  ModelStateTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
server: {latency_buckets_seconds: [0.1, 1]}
limits: {max_error_reasons: 2, max_join_entries: 3, max_classes: 3}
models:
  - name: llm
    task: generation
    cost_per_1k_prompt_tokens: 0.5
    cost_per_1k_completion_tokens: 2
    safety_categories: [pii]
    label_ttl: 1h
  - name: clf
    versions: [v1, v2]
    classes: [a, b]
  - name: auto
)",
                                   "t", errors);
    registry_ = std::make_unique<ModelRegistry>(config_, &clock_);
  }

  ApplyResult Post(ingest::EventKind kind, std::string_view body) {
    ingest::Decoder d(config_);
    absl::StatusOr<ingest::DecodeResult> r =
        d.Decode(kind, ingest::BodyFormat::kNdjson, body, clock_.Now());
    EXPECT_TRUE(r.ok());
    ingest::DecodeResult decoded = *std::move(r);
    return registry_->Apply(decoded);
  }
  ModelSnapshot Snap(int m) { return registry_->models()[m]->Snapshot(); }

  util::FakeClock clock_;
  config::Config config_;
  std::unique_ptr<ModelRegistry> registry_;
};

TEST_F(ModelStateTest, OperationalCountersAreExact) {
  ApplyResult r = Post(ingest::EventKind::kPrediction, R"(
{"model":"llm","latency_ms":50,"tokens":{"prompt":1000,"completion":500}}
{"model":"llm","latency_ms":500,"error":"timeout","safety":["pii","toxicity"]}
{"model":"llm","latency_ms":5000,"error":"rate_limited"}
{"model":"llm","error":"oom"}
{"model":"llm","error":"disk"}
)");
  EXPECT_EQ(r.accepted, 5);
  EXPECT_TRUE(r.errors.empty());
  ModelSnapshot s = Snap(0);
  ASSERT_EQ(s.versions, std::vector<std::string>{"default"});
  const VersionStats& v = s.per_version[0];
  EXPECT_EQ(v.predictions, 5u);
  EXPECT_THAT(s.error_reasons, ElementsAre("timeout", "rate_limited", "other"));
  EXPECT_THAT(v.errors_by_reason, ElementsAre(1, 1, 2));
  EXPECT_THAT(v.latency.counts(), ElementsAre(1, 1, 1));
  EXPECT_DOUBLE_EQ(v.latency.sum(), 5.55);
  EXPECT_EQ(v.prompt_tokens, 1000u);
  EXPECT_EQ(v.completion_tokens, 500u);
  EXPECT_DOUBLE_EQ(v.cost, 0.5 + 1.0);
  EXPECT_THAT(s.safety_categories, ElementsAre("pii", "other"));
  EXPECT_THAT(v.safety_by_category, ElementsAre(1, 1));
}

TEST_F(ModelStateTest, LearnedVersionsKeepTheLastSlotForTheDefault) {
  config_.limits.max_versions_per_model = 3;
  registry_ = std::make_unique<ModelRegistry>(config_, &clock_);
  ApplyResult r = Post(ingest::EventKind::kPrediction, R"(
{"model":"auto","version":"a"}
{"model":"auto","version":"b"}
{"model":"auto","version":"c"}
{"model":"auto"}
{"model":"auto","version":"c"}
{"model":"auto","version":"a"}
)");
  EXPECT_EQ(r.accepted, 4);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].index, 2);
  EXPECT_EQ(r.errors[0].message,
            "version: more than limits.max_versions_per_model (3) versions, "
            "the last one kept for the default version \"default\"");
  EXPECT_EQ(r.errors[1].index, 4);  // full now: "c" has no place at all
  ModelSnapshot s = Snap(2);
  EXPECT_THAT(s.versions, ElementsAre("a", "b", "default"));
  EXPECT_EQ(s.per_version[0].predictions, 2u);
  EXPECT_EQ(s.per_version[2].predictions, 1u);
}

TEST_F(ModelStateTest, TokenCountersSaturateInsteadOfWrapping) {
  Post(ingest::EventKind::kPrediction, R"(
{"model":"llm","tokens":{"prompt":9223372036854775807,"completion":1}}
{"model":"llm","tokens":{"prompt":9223372036854775807}}
{"model":"llm","tokens":{"prompt":9223372036854775807}}
)");
  const ModelSnapshot s = Snap(0);  // a reference into Snap(0) would dangle
  const VersionStats& v = s.per_version[0];
  EXPECT_EQ(v.prompt_tokens, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(v.completion_tokens, 1u);
}

TEST_F(ModelStateTest, RejectedEventsChangeNothing) {
  ApplyResult r = Post(ingest::EventKind::kPrediction, R"(
{"model":"clf","version":"v3","prediction":"a"}
{"model":"clf","prediction":"zzz"}
{"model":"clf","id":"p1","prediction":"a"}
{"model":"clf","id":"p1","prediction":"b"}
)");
  EXPECT_EQ(r.accepted, 1);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].index, 0);
  EXPECT_EQ(r.errors[0].reason, ingest::RejectReason::kUnknownVersion);
  EXPECT_EQ(r.errors[0].message,
            "version: \"v3\" is not declared for this model");
  EXPECT_EQ(r.errors[1].reason, ingest::RejectReason::kUnknownClass);
  EXPECT_EQ(r.errors[2].index, 3);
  EXPECT_EQ(r.errors[2].reason, ingest::RejectReason::kDuplicateId);
  ModelSnapshot s = Snap(1);
  EXPECT_THAT(s.versions, ElementsAre("v1", "v2"));
  EXPECT_EQ(s.per_version[0].predictions, 1u);
  EXPECT_EQ(s.per_version[1].predictions, 0u);
}

TEST_F(ModelStateTest, AutoRegisteredClassesAndVersionsAreCapped) {
  ApplyResult r = Post(ingest::EventKind::kPrediction, R"(
{"model":"auto","prediction":"x","version":"1"}
{"model":"auto","prediction":"y","version":"2"}
{"model":"auto","prediction":"z"}
{"model":"auto","prediction":"w"}
)");
  EXPECT_EQ(r.accepted, 3);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("exceeds limits.max_classes (3)"));
  ModelSnapshot s = Snap(2);
  EXPECT_THAT(s.classes, ElementsAre("x", "y", "z"));
  EXPECT_THAT(s.versions, ElementsAre("1", "2", "default"));
}

TEST_F(ModelStateTest, LabelsJoinWithDelayAndTtl) {
  Post(ingest::EventKind::kPrediction, R"(
{"model":"llm","id":"a","timestamp":1799999990}
{"model":"llm","id":"b"}
)");
  ApplyResult r = Post(ingest::EventKind::kLabel, R"(
{"model":"llm","id":"a","label":"ok"}
{"model":"llm","id":"a","label":"ok"}
{"model":"llm","id":"nope","label":"ok"}
)");
  EXPECT_EQ(r.accepted, 2);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, ingest::RejectReason::kDuplicateId);
  ModelSnapshot s = Snap(0);
  EXPECT_EQ(s.per_version[0].labels, 1u);
  EXPECT_EQ(s.per_version[0].label_delay.sum(), 10.0);
  EXPECT_EQ(s.labels_unmatched, 1u);
  EXPECT_EQ(s.join_pending, 1);  // "b" still waits
  EXPECT_EQ(s.join_entries, 2);

  clock_.Advance(absl::Minutes(61));  // past the 1h TTL
  s = Snap(0);
  EXPECT_EQ(s.join_pending, 0);
  EXPECT_EQ(s.join_evicted, 1u);  // "b" never got its label
  Post(ingest::EventKind::kLabel, R"({"model":"llm","id":"b","label":"ok"})");
  EXPECT_EQ(Snap(0).labels_unmatched, 2u);
}

TEST_F(ModelStateTest, FeedbackJoinsOrCountsUnmatched) {
  Post(ingest::EventKind::kPrediction,
       R"({"model":"clf","version":"v2","id":"q"})");
  Post(ingest::EventKind::kFeedback, R"(
{"model":"clf","id":"q","score":4,"value":10.5}
{"model":"clf","id":"zz","score":1}
)");
  ModelSnapshot s = Snap(1);
  EXPECT_EQ(s.per_version[1].feedback.count(), 1u);
  EXPECT_EQ(s.per_version[1].feedback.sum(), 4.0);
  EXPECT_EQ(s.per_version[1].outcome_value, 10.5);
  EXPECT_EQ(s.unmatched_feedback.feedback.count(), 1u);
  EXPECT_EQ(s.feedback_unmatched, 1u);
}

TEST_F(ModelStateTest, JoinTableIsBounded) {
  for (int i = 0; i < 10; ++i) {
    Post(ingest::EventKind::kPrediction,
         R"({"model":"llm","id":"id)" + std::to_string(i) + "\"}");
  }
  ModelSnapshot s = Snap(0);
  EXPECT_EQ(s.join_pending, 3);
  EXPECT_EQ(s.join_evicted, 7u);
}

}  // namespace
}  // namespace aiq::model
