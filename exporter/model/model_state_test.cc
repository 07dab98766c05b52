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
limits: {max_error_reasons: 2, max_join_entries: 3, max_classes: 3,
         max_evaluators: 2, max_evaluation_labels: 2}
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
    evaluators: [{name: judge, buckets: [1, 2, 3]}]
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

TEST_F(ModelStateTest, StreamingLatencyFromTimeToFirstToken) {
  ApplyResult r = Post(ingest::EventKind::kPrediction, R"(
{"model":"llm","latency_ms":2000,"ttft_ms":250,"tokens":{"completion":8}}
{"model":"llm","latency_ms":1000,"ttft_ms":1000,"tokens":{"completion":1}}
{"model":"llm","ttft_ms":30}
{"model":"llm","latency_ms":500}
)");
  EXPECT_EQ(r.accepted, 4);
  const ModelSnapshot s = Snap(0);
  const VersionStats& v = s.per_version[0];
  // Three calls streamed; bounds 0.001 ... 10 (the conventions').
  EXPECT_EQ(v.time_to_first_token.count(), 3u);
  EXPECT_DOUBLE_EQ(v.time_to_first_token.sum(), 1.28);
  // Only the first has tokens after the first: (2 - 0.25) / 7 = 0.25 s.
  EXPECT_EQ(v.time_per_output_token.count(), 1u);
  EXPECT_EQ(v.time_per_output_token.sum(), 0.25);
  EXPECT_EQ(v.time_per_output_token.counts()[7], 1u);  // le 0.3
  EXPECT_EQ(v.time_to_first_token.counts()[4], 1u);    // le 0.04: 0.03
  EXPECT_EQ(v.time_to_first_token.counts()[8], 1u);    // le 0.25: 0.25
  EXPECT_EQ(v.time_to_first_token.counts()[11], 1u);   // le 1: 1
}

TEST_F(ModelStateTest, EvaluationsTakeTheVersionOfTheEvaluatedCall) {
  Post(ingest::EventKind::kPrediction, R"(
{"model":"auto","version":"a","id":"c1"}
{"model":"auto","version":"b","id":"c2"}
)");
  ApplyResult r = Post(ingest::EventKind::kEvaluation, R"(
{"model":"auto","evaluator":"relevance","id":"c1","score":0.9,"label":"good"}
{"model":"auto","evaluator":"relevance","id":"c2","score":0.3,"label":"bad"}
{"model":"auto","evaluator":"relevance","id":"nope","score":0.5}
{"model":"auto","evaluator":"relevance","version":"b","label":"meh"}
{"model":"auto","evaluator":"toxicity","score":0.05}
{"model":"auto","evaluator":"third","score":1}
)");
  EXPECT_EQ(r.accepted, 5);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 5);
  EXPECT_EQ(r.errors[0].reason, ingest::RejectReason::kInvalidField);
  EXPECT_EQ(r.errors[0].message,
            "evaluator: more than limits.max_evaluators (2) evaluators");
  const ModelSnapshot s = Snap(2);
  EXPECT_THAT(s.versions, ElementsAre("a", "b", "default"));
  EXPECT_THAT(s.evaluators, ElementsAre("relevance", "toxicity"));
  // Two labels, then "other" (limits.max_evaluation_labels: 2).
  EXPECT_THAT(s.evaluation_labels, ElementsAre("good", "bad", "other"));
  ASSERT_EQ(s.evaluations.size(), 2u);
  // [no label, good, bad, other]
  EXPECT_THAT(s.evaluations[0], ElementsAre(1, 1, 1, 1));
  EXPECT_THAT(s.evaluations[1], ElementsAre(1));
  const auto scores = [&](int version, int evaluator) {
    const VersionStats& v = s.per_version[static_cast<size_t>(version)];
    return static_cast<int>(v.evaluation_scores.size()) > evaluator
               ? v.evaluation_scores[static_cast<size_t>(evaluator)].count()
               : 0u;
  };
  EXPECT_EQ(scores(0, 0), 1u);  // c1 -> a
  EXPECT_DOUBLE_EQ(s.per_version[0].evaluation_scores[0].sum(), 0.9);
  EXPECT_EQ(scores(1, 0), 1u);  // c2 -> b; the "meh" one has no score
  EXPECT_EQ(scores(2, 0), 1u);  // unjoined -> the default version
  EXPECT_EQ(scores(2, 1), 1u);
  // Default buckets 0.1 ... 1.0: 0.05 is in the first.
  EXPECT_EQ(s.per_version[2].evaluation_scores[1].counts()[0], 1u);
}

TEST_F(ModelStateTest, DeclaredEvaluatorsHaveTheirBucketsAndNoOthers) {
  ApplyResult r = Post(ingest::EventKind::kEvaluation, R"(
{"model":"clf","evaluator":"judge","score":2.5}
{"model":"clf","evaluator":"other-judge","score":2}
{"model":"clf","evaluator":"judge","version":"v9","score":1}
)");
  EXPECT_EQ(r.accepted, 1);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].message,
            "evaluator: \"other-judge\" is not declared for this model");
  // A label-only evaluation of a new version (the default, first seen
  // here) gives it its windows too: the snapshot reads them.
  Post(ingest::EventKind::kEvaluation,
       R"({"model":"auto","evaluator":"x","label":"fine"})");
  EXPECT_THAT(Snap(2).versions, ElementsAre("default"));
  EXPECT_EQ(r.errors[1].reason, ingest::RejectReason::kUnknownVersion);
  const ModelSnapshot s = Snap(1);
  EXPECT_THAT(s.evaluators, ElementsAre("judge"));
  const Histogram& h = s.per_version[0].evaluation_scores[0];
  EXPECT_THAT(h.counts(), ElementsAre(0, 0, 1, 0));  // buckets 1, 2, 3, +Inf
}

// The state codec keeps evaluations and streaming latency, and still reads
// a state written before they existed (without the trailing block).
TEST_F(ModelStateTest, CodecKeepsEvaluationsAndReadsOlderStates) {
  Post(ingest::EventKind::kPrediction, R"(
{"model":"llm","id":"x","latency_ms":900,"ttft_ms":100,"tokens":{"completion":5}}
)");
  Post(ingest::EventKind::kEvaluation, R"(
{"model":"llm","evaluator":"relevance","id":"x","score":0.7,"label":"ok"}
{"model":"llm","evaluator":"human","label":"ok"}
)");
  ModelState& original = *registry_->models()[0];
  util::BinaryWriter w;
  original.EncodeTo(w);
  std::string bytes = w.Release();

  ModelRegistry other(config_, &clock_);
  ModelState& restored = *other.models()[0];
  util::BinaryReader r(bytes);
  std::vector<std::string> dropped;
  ASSERT_TRUE(restored.DecodeFrom(r, dropped).ok());
  EXPECT_TRUE(dropped.empty());
  const ModelSnapshot a = original.Snapshot();
  const ModelSnapshot b = restored.Snapshot();
  EXPECT_EQ(b.evaluators, a.evaluators);
  EXPECT_EQ(b.evaluation_labels, a.evaluation_labels);
  EXPECT_EQ(b.evaluations, a.evaluations);
  EXPECT_THAT(b.evaluations[0], ElementsAre(0, 1));
  ASSERT_EQ(b.per_version[0].evaluation_scores.size(), 1u);
  EXPECT_EQ(b.per_version[0].evaluation_scores[0].counts(),
            a.per_version[0].evaluation_scores[0].counts());
  EXPECT_EQ(b.per_version[0].time_to_first_token.counts(),
            a.per_version[0].time_to_first_token.counts());
  EXPECT_DOUBLE_EQ(b.per_version[0].time_per_output_token.sum(), 0.2);

  // A state from before event time: without the last block (a fixed64
  // length, then a varint of 0 per event kind).
  ASSERT_GT(bytes.size(), 8u + ingest::kNumEventKinds);
  bytes.resize(bytes.size() - 8 - ingest::kNumEventKinds);
  {
    ModelRegistry fresh(config_, &clock_);
    util::BinaryReader rd(bytes);
    std::vector<std::string> d;
    ASSERT_TRUE(fresh.models()[0]->DecodeFrom(rd, d).ok());
    EXPECT_EQ(fresh.models()[0]->Snapshot().evaluators, a.evaluators);
  }
  // The older format still: also without the GenAI block. Exactly one cut
  // decodes, to the same counts without the GenAI part.
  int decoded = 0;
  for (size_t at = 0; at + 8 <= bytes.size(); ++at) {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) {
      length = length << 8 | static_cast<unsigned char>(bytes[at + i]);
    }
    if (length != bytes.size() - at - 8) continue;
    ModelRegistry fresh(config_, &clock_);
    ModelState& old = *fresh.models()[0];
    util::BinaryReader rd(std::string_view(bytes).substr(0, at));
    std::vector<std::string> d;
    if (!old.DecodeFrom(rd, d).ok()) continue;
    ++decoded;
    const ModelSnapshot o = old.Snapshot();
    EXPECT_EQ(o.per_version[0].predictions, 1u);
    EXPECT_DOUBLE_EQ(o.per_version[0].latency.sum(), 0.9);
    EXPECT_TRUE(o.evaluators.empty());
    EXPECT_EQ(o.per_version[0].time_to_first_token.count(), 0u);
  }
  EXPECT_EQ(decoded, 1);
}

}  // namespace
}  // namespace aiq::model
