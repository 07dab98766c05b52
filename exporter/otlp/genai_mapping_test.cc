#include "exporter/otlp/genai_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "exporter/config/config_loader.h"

namespace aiq::otlp {
namespace {

using ingest::EvaluationEvent;
using ingest::EventKind;
using ingest::PredictionEvent;
using ingest::RejectReason;
using ::testing::HasSubstr;

constexpr uint64_t kSecond = 1'000'000'000;
// 2027-01-15T08:00:00Z, before `now_`.
constexpr uint64_t kStart = 1'800'000'000ull * kSecond - 3600 * kSecond;

class GenAiMappingTest : public ::testing::Test {
 protected:
  GenAiMappingTest() {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
limits: {max_string_bytes: 32}
models:
  - name: chatbot
    task: generation
  - name: support
    task: generation
    otlp: {service_name: support-svc, version_attribute: ""}
  - name: clf
    classes: [a, b]
)",
                                   "t", errors);
  }

  MappedRequest Traces(std::vector<Span> spans,
                       std::string_view service = "chatbot") {
    TracesRequest request;
    request.resource_spans.push_back(
        {{{"service.name", service}}, std::move(spans)});
    return GenAiMapper(config_).MapTraces(request, now_);
  }

  // A chat span of `seconds` with the GenAI attributes.
  static Span Chat(double seconds, Attributes more = {}) {
    Span s;
    s.name = "chat gpt-4o";
    s.start_time_unix_nano = kStart;
    s.end_time_unix_nano = kStart + static_cast<uint64_t>(seconds * kSecond);
    s.attributes = {{"gen_ai.operation.name", std::string_view("chat")},
                    {"gen_ai.request.model", std::string_view("gpt-4o")}};
    s.attributes.insert(s.attributes.end(), more.begin(), more.end());
    return s;
  }

  config::Config config_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(GenAiMappingTest, ChatSpanBecomesPrediction) {
  MappedRequest m = Traces(
      {Chat(1.25, {{"gen_ai.usage.input_tokens", int64_t{120}},
                   {"gen_ai.usage.output_tokens", int64_t{30}},
                   {"gen_ai.response.id", std::string_view("resp-1")},
                   {"gen_ai.provider.name", std::string_view("openai")}})});
  ASSERT_EQ(m.decoded.total, 1);
  ASSERT_TRUE(m.decoded.errors.empty()) << m.decoded.errors[0].message;
  ASSERT_EQ(m.decoded.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(m.decoded.events[0].event);
  EXPECT_EQ(p.model, 0);
  EXPECT_EQ(p.version, "gpt-4o");
  EXPECT_EQ(p.id, "resp-1");
  EXPECT_DOUBLE_EQ(*p.latency_seconds, 1.25);
  EXPECT_EQ(p.prompt_tokens, 120);
  EXPECT_EQ(p.completion_tokens, 30);
  EXPECT_FALSE(p.error.has_value());
  EXPECT_EQ(p.timestamp, absl::FromUnixNanos(
                             static_cast<int64_t>(kStart + 5 * kSecond / 4)));
  EXPECT_EQ(m.items[0].kind, EventKind::kPrediction);
  EXPECT_EQ(m.ignored, 0);
}

TEST_F(GenAiMappingTest, DeprecatedTokenNamesAndDoublesAreAccepted) {
  MappedRequest m =
      Traces({Chat(1, {{"gen_ai.system", std::string_view("openai")},
                       {"gen_ai.usage.prompt_tokens", 7.0},
                       {"gen_ai.usage.completion_tokens", int64_t{3}}})});
  ASSERT_EQ(m.decoded.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(m.decoded.events[0].event);
  EXPECT_EQ(p.prompt_tokens, 7);
  EXPECT_EQ(p.completion_tokens, 3);
}

TEST_F(GenAiMappingTest, ErrorTypeAndErrorStatus) {
  Span failed = Chat(1);
  failed.status_code = StatusCode::kError;
  MappedRequest m =
      Traces({Chat(1, {{"error.type", std::string_view("timeout")}}), failed});
  ASSERT_EQ(m.decoded.events.size(), 2u);
  EXPECT_EQ(std::get<PredictionEvent>(m.decoded.events[0].event).error,
            "timeout");
  EXPECT_EQ(std::get<PredictionEvent>(m.decoded.events[1].event).error,
            "_OTHER");
}

TEST_F(GenAiMappingTest, SpansWithoutOperationNameAreIgnored) {
  Span http;
  http.name = "GET /";
  http.start_time_unix_nano = kStart;
  http.end_time_unix_nano = kStart + kSecond;
  MappedRequest m = Traces({http, Chat(1), http});
  EXPECT_EQ(m.ignored, 2);
  EXPECT_EQ(m.decoded.total, 1);
  EXPECT_EQ(m.decoded.events.size(), 1u);
}

TEST_F(GenAiMappingTest, ServiceNameSelectsTheModel) {
  MappedRequest m = Traces({Chat(1)}, "support-svc");
  ASSERT_EQ(m.decoded.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(m.decoded.events[0].event);
  EXPECT_EQ(p.model, 1);
  // version_attribute "" -> always the default version.
  EXPECT_EQ(p.version, "");
}

TEST_F(GenAiMappingTest, UnknownServiceIsRefusedPerSpan) {
  MappedRequest m = Traces({Chat(1), Chat(2)}, "nobody");
  ASSERT_EQ(m.decoded.errors.size(), 2u);
  EXPECT_EQ(m.decoded.errors[0].reason, RejectReason::kUnknownModel);
  EXPECT_EQ(m.Describe(m.decoded.errors[1]),
            "resource_spans[0].spans[1]: service.name: \"nobody\" is no "
            "model's otlp.service_name");
  // The model name "support" is not its service name.
  EXPECT_EQ(Traces({Chat(1)}, "support").decoded.errors.size(), 1u);

  TracesRequest no_service;
  no_service.resource_spans.push_back({{}, {Chat(1)}});
  MappedRequest n = GenAiMapper(config_).MapTraces(no_service, now_);
  ASSERT_EQ(n.decoded.errors.size(), 1u);
  EXPECT_THAT(n.decoded.errors[0].message, HasSubstr("no service.name"));
}

TEST_F(GenAiMappingTest, LongServiceNameIsQuotedBounded) {
  const std::string name(1000, 's');
  MappedRequest m = Traces({Chat(1)}, name);  // views `name`
  ASSERT_EQ(m.decoded.errors.size(), 1u);
  EXPECT_LT(m.decoded.errors[0].message.size(), 200u);
  EXPECT_THAT(m.decoded.errors[0].message, HasSubstr("(1000 bytes)"));
}

TEST_F(GenAiMappingTest, CallSpansNeedAGenerationModel) {
  MappedRequest m = Traces({Chat(1)}, "clf");
  ASSERT_EQ(m.decoded.errors.size(), 1u);
  EXPECT_EQ(m.decoded.errors[0].message,
            "service.name: model \"clf\" is a classification model; LLM "
            "call spans need task: generation");
}

TEST_F(GenAiMappingTest, BadAttributesRefuseOnlyTheirSpan) {
  Span backwards = Chat(1);
  std::swap(backwards.start_time_unix_nano, backwards.end_time_unix_nano);
  Span far_future = Chat(1);
  far_future.end_time_unix_nano = 4'000'000'000ull * kSecond;
  const std::string long_id(40, 'x');
  struct Case {
    Span span;
    RejectReason reason;
    const char* message;
  };
  const Case cases[] = {
      {Chat(1, {{"gen_ai.usage.input_tokens", int64_t{-1}}}),
       RejectReason::kOutOfRange, "gen_ai.usage.input_tokens: must be >= 0"},
      {Chat(1, {{"gen_ai.usage.output_tokens", 2.5}}),
       RejectReason::kOutOfRange,
       "gen_ai.usage.output_tokens: must be a non-negative integer (exact "
       "up to 2^53 as a double, 2^63 - 1 as an int)"},
      {Chat(1, {{"gen_ai.usage.output_tokens", std::string_view("3")}}),
       RejectReason::kInvalidField,
       "gen_ai.usage.output_tokens: must be an int, got string"},
      {Chat(1, {{"error.type", std::string_view("a\nb")}}),
       RejectReason::kInvalidField,
       "error.type: must not contain control characters (byte 0x0a at "
       "offset 1)"},
      {Chat(1, {{"gen_ai.response.id", std::string_view(long_id)}}),
       RejectReason::kTooLarge,
       "gen_ai.response.id: longer than limits.max_string_bytes (32)"},
      {backwards, RejectReason::kInvalidField,
       "end_time_unix_nano: before start_time_unix_nano"},
      {far_future, RejectReason::kOutOfRange,
       "end_time_unix_nano: must be after 2000-01-01 and at most 24h in the "
       "future"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    MappedRequest m = Traces({Chat(1), cases[i].span});
    ASSERT_EQ(m.decoded.events.size(), 1u) << i;
    ASSERT_EQ(m.decoded.errors.size(), 1u) << i;
    EXPECT_EQ(m.decoded.errors[0].index, 1) << i;
    EXPECT_EQ(m.decoded.errors[0].reason, cases[i].reason) << i;
    EXPECT_EQ(m.decoded.errors[0].message, cases[i].message) << i;
  }
  // The version becomes a label value: checked as one.
  Span version = Chat(1);
  version.attributes[1].value = std::string_view("gpt\t4");
  MappedRequest m = Traces({version});
  ASSERT_EQ(m.decoded.errors.size(), 1u);
  EXPECT_EQ(m.decoded.errors[0].message,
            "gen_ai.request.model: must not contain control characters (byte "
            "0x09 at offset 3)");
}

TEST_F(GenAiMappingTest, EvaluationSpanEventsInheritTheCall) {
  Span span = Chat(1, {{"gen_ai.response.id", std::string_view("resp-7")}});
  span.events.push_back(
      {kStart + kSecond,
       "gen_ai.evaluation.result",
       {{"gen_ai.evaluation.name", std::string_view("relevance")},
        {"gen_ai.evaluation.score.value", 0.8},
        {"gen_ai.evaluation.score.label", std::string_view("relevant")}}});
  span.events.push_back({kStart, "other event", {}});
  span.events.push_back(
      {kStart + kSecond,
       "gen_ai.evaluation.result",
       {{"gen_ai.evaluation.name", std::string_view("toxicity")},
        {"gen_ai.evaluation.score.value", int64_t{0}}}});
  MappedRequest m = Traces({span});
  ASSERT_TRUE(m.decoded.errors.empty()) << m.decoded.errors[0].message;
  ASSERT_EQ(m.decoded.events.size(), 3u);
  EXPECT_EQ(m.items[1].kind, EventKind::kEvaluation);
  EXPECT_EQ(m.items[1].event, 0);
  EXPECT_EQ(m.items[2].event, 2);
  const auto& e = std::get<EvaluationEvent>(m.decoded.events[1].event);
  EXPECT_EQ(e.evaluator, "relevance");
  EXPECT_EQ(e.score, 0.8);
  EXPECT_EQ(e.label, "relevant");
  EXPECT_EQ(e.id, "resp-7");
  EXPECT_EQ(e.version, "gpt-4o");
  EXPECT_EQ(e.timestamp,
            absl::FromUnixNanos(static_cast<int64_t>(kStart + kSecond)));
  const auto& t = std::get<EvaluationEvent>(m.decoded.events[2].event);
  EXPECT_EQ(t.score, 0.0);
  EXPECT_FALSE(t.label.has_value());
}

TEST_F(GenAiMappingTest, EvaluationOnASpanThatIsNoCall) {
  Span span;
  span.attributes = {{"gen_ai.response.id", std::string_view("resp-1")}};
  span.events.push_back(
      {0,
       "gen_ai.evaluation.result",
       {{"gen_ai.evaluation.name", std::string_view("faithfulness")},
        {"gen_ai.evaluation.score.label", std::string_view("yes")}}});
  span.events.push_back({0, "gen_ai.evaluation.result", {}});
  MappedRequest m = Traces({span});
  EXPECT_EQ(m.ignored, 0);
  ASSERT_EQ(m.decoded.events.size(), 1u);
  const auto& e = std::get<EvaluationEvent>(m.decoded.events[0].event);
  EXPECT_EQ(e.id, "resp-1");
  EXPECT_EQ(e.version, "");  // taken from the joined call, if any
  EXPECT_EQ(e.timestamp, now_);
  ASSERT_EQ(m.decoded.errors.size(), 1u);
  EXPECT_EQ(m.Describe(m.decoded.errors[0]),
            "resource_spans[0].spans[0].events[1]: gen_ai.evaluation.name: "
            "required");
}

TEST_F(GenAiMappingTest, EvaluationLogRecords) {
  LogsRequest request;
  LogRecord eval;
  eval.time_unix_nano = kStart;
  eval.event_name = "gen_ai.evaluation.result";
  eval.attributes = {{"gen_ai.evaluation.name", std::string_view("relevance")},
                     {"gen_ai.evaluation.score.value", 0.25},
                     {"gen_ai.response.id", std::string_view("resp-2")}};
  LogRecord by_attribute;
  by_attribute.observed_time_unix_nano = kStart + kSecond;
  by_attribute.attributes = {
      {"event.name", std::string_view("gen_ai.evaluation.result")},
      {"gen_ai.evaluation.name", std::string_view("human")},
      {"gen_ai.evaluation.score.label", std::string_view("good")}};
  LogRecord plain;
  plain.body = std::string_view("hello");
  LogRecord no_score = eval;
  no_score.attributes = {
      {"gen_ai.evaluation.name", std::string_view("relevance")},
      {"gen_ai.evaluation.score.value", std::string_view("high")}};
  request.resource_logs.push_back(
      {{{"service.name", std::string_view("chatbot")}},
       {eval, by_attribute, plain, no_score}});
  MappedRequest m = GenAiMapper(config_).MapLogs(request, now_);
  EXPECT_EQ(m.ignored, 1);
  EXPECT_EQ(m.decoded.total, 3);
  ASSERT_EQ(m.decoded.events.size(), 2u);
  const auto& e = std::get<EvaluationEvent>(m.decoded.events[0].event);
  EXPECT_EQ(e.evaluator, "relevance");
  EXPECT_EQ(e.score, 0.25);
  EXPECT_EQ(e.id, "resp-2");
  EXPECT_EQ(e.version, "");
  const auto& h = std::get<EvaluationEvent>(m.decoded.events[1].event);
  EXPECT_EQ(h.evaluator, "human");
  EXPECT_EQ(h.label, "good");
  EXPECT_EQ(h.timestamp,
            absl::FromUnixNanos(static_cast<int64_t>(kStart + kSecond)));
  ASSERT_EQ(m.decoded.errors.size(), 1u);
  EXPECT_EQ(m.Describe(m.decoded.errors[0]),
            "resource_logs[0].log_records[3]: gen_ai.evaluation.score.value: "
            "must be a number, got string");
}

}  // namespace
}  // namespace aiq::otlp
