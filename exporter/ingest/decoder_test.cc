#include "exporter/ingest/decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "exporter/config/config_loader.h"

namespace aiq::ingest {
namespace {

using ::testing::HasSubstr;

// A one-event body and the message of its error.
struct BodyAndError {
  const char* body;
  const char* message;
};

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
limits: {max_string_bytes: 32, max_events_per_request: 5}
models:
  - name: clf
    classes: [a, b]
    features: [{name: x}, {name: c, type: categorical}, {name: f, type: boolean}]
  - name: reg
    task: regression
)",
                                   "t", errors);
  }

  DecodeResult Decode(EventKind kind, std::string_view body,
                      BodyFormat format = BodyFormat::kJson) {
    Decoder d(config_);
    absl::StatusOr<DecodeResult> r = d.Decode(kind, format, body, now_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : DecodeResult{};
  }

  // The single error of a one-event body.
  std::string ErrorOf(EventKind kind, std::string_view body) {
    DecodeResult r = Decode(kind, body);
    EXPECT_EQ(r.total, 1);
    EXPECT_EQ(r.errors.size(), 1u) << body;
    return r.errors.empty() ? "" : r.errors[0].message;
  }

  config::Config config_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(DecoderTest, FullPrediction) {
  DecodeResult r = Decode(EventKind::kPrediction, R"({
    "model": "clf", "version": "v2", "id": "r-1",
    "timestamp": "2026-11-01T10:00:00.5Z",
    "features": {"x": 1.5, "c": "gold", "f": true},
    "prediction": "a", "probabilities": {"a": 0.8, "b": 0.2},
    "latency_ms": 120, "tokens": {"prompt": 10, "completion": 5},
    "error": "timeout", "safety": ["pii"], "segment": {"region": "eu"}})");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(r.events[0].event);
  EXPECT_EQ(p.model, 0);
  EXPECT_EQ(p.version, "v2");
  EXPECT_EQ(p.id, "r-1");
  EXPECT_EQ(p.timestamp, absl::FromUnixMillis(1'793'527'200'500));
  ASSERT_EQ(p.features.size(), 3u);
  EXPECT_EQ(std::get<double>(p.features[0].value), 1.5);
  EXPECT_EQ(std::get<std::string>(p.features[1].value), "gold");
  EXPECT_EQ(std::get<bool>(p.features[2].value), true);
  EXPECT_EQ(p.predicted_class, "a");
  EXPECT_EQ(p.confidence, 0.8);  // max probability when not given
  EXPECT_EQ(p.latency_seconds, 0.12);
  EXPECT_EQ(p.prompt_tokens, 10);
  EXPECT_EQ(p.completion_tokens, 5);
  EXPECT_EQ(p.error, "timeout");
  EXPECT_EQ(p.safety, std::vector<std::string>{"pii"});
  ASSERT_EQ(p.segment.size(), 1u);
  EXPECT_EQ(p.segment[0].second, "eu");
}

TEST_F(DecoderTest, DefaultsAndUnixTimestamp) {
  DecodeResult r = Decode(EventKind::kPrediction, R"({"model": "reg"})");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(std::get<PredictionEvent>(r.events[0].event).timestamp, now_);
  r = Decode(
      EventKind::kPrediction,
      R"({"model": "reg", "timestamp": 1700000000.25, "prediction": 3})");
  ASSERT_EQ(r.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(r.events[0].event);
  EXPECT_EQ(p.timestamp, absl::FromUnixMillis(1'700'000'000'250));
  EXPECT_EQ(p.predicted_value, 3.0);
}

TEST_F(DecoderTest, TimeToFirstToken) {
  DecodeResult r =
      Decode(EventKind::kPrediction,
             R"({"model": "reg", "latency_ms": 900, "ttft_ms": 150})");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(std::get<PredictionEvent>(r.events[0].event).ttft_seconds, 0.15);
  EXPECT_EQ(ErrorOf(EventKind::kPrediction,
                    R"({"model": "reg", "latency_ms": 100, "ttft_ms": 150})"),
            "ttft_ms: must be at most latency_ms (the first token is part of "
            "the call)");
  EXPECT_EQ(
      ErrorOf(EventKind::kPrediction, R"({"model": "reg", "ttft_ms": -1})"),
      "ttft_ms: must be >= 0");
}

TEST_F(DecoderTest, Evaluation) {
  DecodeResult r = Decode(EventKind::kEvaluation, R"({
    "model": "clf", "evaluator": "relevance", "id": 42, "version": "v1",
    "score": 0.75, "label": "relevant", "timestamp": 1700000000})");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.events.size(), 1u);
  const auto& e = std::get<EvaluationEvent>(r.events[0].event);
  EXPECT_EQ(e.model, 0);
  EXPECT_EQ(e.evaluator, "relevance");
  EXPECT_EQ(e.id, "42");
  EXPECT_EQ(e.version, "v1");
  EXPECT_EQ(e.score, 0.75);
  EXPECT_EQ(e.label, "relevant");
  EXPECT_EQ(e.timestamp, absl::FromUnixSeconds(1'700'000'000));
  r = Decode(EventKind::kEvaluation,
             R"({"model": "reg", "evaluator": "human", "label": "ok"})");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_FALSE(std::get<EvaluationEvent>(r.events[0].event).score);
  EXPECT_EQ(std::get<EvaluationEvent>(r.events[0].event).timestamp, now_);

  const EventKind E = EventKind::kEvaluation;
  EXPECT_EQ(ErrorOf(E, R"({"model": "clf", "score": 1})"),
            "evaluator: required");
  EXPECT_EQ(ErrorOf(E, R"({"model": "clf", "evaluator": "j"})"),
            "score: an evaluation needs a score, a label, or both");
  EXPECT_EQ(ErrorOf(E, R"({"model": "clf", "evaluator": "j", "score": null})"),
            "score: an evaluation needs a score, a label, or both");
  EXPECT_EQ(
      ErrorOf(E, R"({"model": "clf", "evaluator": "a\u0001", "score": 1})"),
      "evaluator: must not contain control characters (byte 0x01 at "
      "offset 1)");
  EXPECT_EQ(
      ErrorOf(E, R"({"model": "clf", "evaluator": "j", "score": "high"})"),
      "score: must be a number, got string");
  EXPECT_EQ(ErrorOf(E, R"({"model": "clf", "evaluator": "j", "label": ""})"),
            "label: must not be empty");
  EXPECT_EQ(
      ErrorOf(E,
              R"({"model": "clf", "evaluator": "j", "score": 1, "score": 2})"),
      "score: duplicate key");
  EXPECT_EQ(ErrorOf(E, R"({"model": "clf", "evaluator": "j", "scor": 1})"),
            "scor: unknown field (expected model, id, version, evaluator, "
            "score, label, timestamp)");
}

// The names are label values and API fields: a contract.
TEST(EventNamesTest, WireNamesAreFixed) {
  std::vector<std::string> kinds, reasons, type_errors;
  for (int k = 0; k < kNumEventKinds; ++k) {
    kinds.push_back(EventKindName(static_cast<EventKind>(k)));
  }
  for (int r = 0; r < kNumRejectReasons; ++r) {
    reasons.push_back(RejectReasonName(static_cast<RejectReason>(r)));
  }
  for (int r = 0; r < kNumTypeErrorReasons; ++r) {
    type_errors.push_back(TypeErrorReasonName(static_cast<TypeErrorReason>(r)));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"prediction", "label", "feedback",
                                             "evaluation", "data_point"}));
  EXPECT_EQ(reasons, (std::vector<std::string>{
                         "invalid_json", "invalid_field", "missing_field",
                         "unknown_model", "unknown_version", "unknown_class",
                         "unknown_feature", "out_of_range", "too_large",
                         "duplicate_id"}));
  EXPECT_EQ(type_errors,
            (std::vector<std::string>{"expected_number", "expected_string",
                                      "expected_bool"}));
}

TEST_F(DecoderTest, FeatureTypeErrorsKeepTheEvent) {
  DecodeResult r = Decode(
      EventKind::kPrediction,
      R"({"model": "clf", "features": {"x": "high", "c": 7, "f": null}})");
  ASSERT_EQ(r.events.size(), 1u);
  const auto& p = std::get<PredictionEvent>(r.events[0].event);
  ASSERT_EQ(p.feature_type_errors.size(), 1u);
  EXPECT_EQ(p.feature_type_errors[0].reason, TypeErrorReason::kExpectedNumber);
  EXPECT_STREQ(TypeErrorReasonName(p.feature_type_errors[0].reason),
               "expected_number");
  ASSERT_EQ(p.features.size(), 2u);
  EXPECT_EQ(std::get<std::string>(p.features[0].value), "7");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p.features[1].value));
}

TEST_F(DecoderTest, EveryBadFieldIsNamed) {
  const EventKind P = EventKind::kPrediction;
  EXPECT_EQ(ErrorOf(P, R"({"id": "x"})"), "model: required");
  EXPECT_EQ(ErrorOf(P, R"({"model": "nope"})"),
            "model: unknown model \"nope\" (not in the config)");
  EXPECT_EQ(ErrorOf(P, R"({"model": 5})"),
            "model: must be a string, got number");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "latency_ms": -1})"),
            "latency_ms: must be >= 0");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "confidence": 1.5})"),
            "confidence: must be in [0, 1]");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "features": {"zz": 1}})"),
            "features.zz: not declared for this model");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "tokens": {"prompt": 1.5}})"),
            "tokens.prompt: must be a non-negative integer");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "probabilities": {"a": 0.5}})"),
            "probabilities: must sum to 1 over all classes, got 0.5");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "latncy_ms": 3})"),
            "latncy_ms: unknown field (see docs/api.md for the event schema)");
  EXPECT_THAT(
      ErrorOf(
          P, R"({"model": "clf", "id": "0123456789012345678901234567890123"})"),
      HasSubstr("id: longer than limits.max_string_bytes (32)"));
  EXPECT_THAT(ErrorOf(P, R"({"model": "clf", "timestamp": 1700000000000})"),
              HasSubstr("looks like milliseconds"));
  EXPECT_THAT(ErrorOf(P, R"({"model": "clf", "timestamp": "yesterday"})"),
              HasSubstr("timestamp: not RFC 3339"));
  EXPECT_EQ(ErrorOf(P, R"([1])"), "event: must be a JSON object, got number");

  const EventKind F = EventKind::kFeedback;
  EXPECT_EQ(ErrorOf(F, R"({"model": "clf", "id": "a", "score": 6})"),
            "score: must be between 1 and 5");
  EXPECT_EQ(ErrorOf(F, R"({"model": "clf", "score": 3})"), "id: required");
  EXPECT_EQ(ErrorOf(F, R"({"model": "clf", "id": "a"})"), "score: required");

  const EventKind L = EventKind::kLabel;
  EXPECT_EQ(ErrorOf(L, R"({"model": "clf", "id": "a"})"), "label: required");
  EXPECT_EQ(ErrorOf(L, R"({"model": "reg", "id": "a", "label": "x"})"),
            "label: must be a number, got string");
}

TEST_F(DecoderTest, DuplicateKeysAreRefusedNamingTheKey) {
  const EventKind P = EventKind::kPrediction;
  const BodyAndError cases[] = {
      {R"({"model": "clf", "model": "reg"})", "model: duplicate key"},
      {R"({"model": "clf", "version": "a", "version": "b"})",
       "version: duplicate key"},
      {R"({"model": "clf", "tokens": {"prompt": 1, "prompt": 9}})",
       "tokens.prompt: duplicate key"},
      {R"({"model": "clf", "features": {"x": 1, "x": 2}})",
       "features.x: duplicate key"},
      {R"({"model": "clf", "probabilities": {"a": 0.5, "a": 0.5}})",
       "probabilities.a: duplicate key"},
      {R"({"model": "clf", "segment": {"r": "eu", "r": "us"}})",
       "segment.r: duplicate key"},
  };
  for (const BodyAndError& c : cases) {
    DecodeResult r = Decode(P, c.body);
    ASSERT_EQ(r.errors.size(), 1u) << c.body;
    EXPECT_EQ(r.errors[0].reason, RejectReason::kInvalidField) << c.body;
    EXPECT_EQ(r.errors[0].message, c.message);
  }
  DecodeResult r = Decode(EventKind::kLabel,
                          R"({"model": "clf", "id": "a", "label": "a",
                              "label": "b"})");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "label: duplicate key");
  r = Decode(EventKind::kFeedback,
             R"({"model": "clf", "id": "a", "score": 1, "score": 5})");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "score: duplicate key");
}

TEST_F(DecoderTest, ErrorsQuoteABoundedPrefixOfClientText) {
  const std::string key(1 << 20, 'k');
  const std::string message =
      ErrorOf(EventKind::kPrediction,
              absl::StrCat(R"({"model": "clf", ")", key, R"(": 1})"));
  EXPECT_EQ(message, absl::StrCat(std::string(64, 'k'),
                                  "... (1048576 bytes): unknown field (see "
                                  "docs/api.md for the event schema)"));
  // Cut on a character boundary: 63 ASCII bytes, then a 2-byte character
  // whose second byte would be the 64th.
  EXPECT_EQ(ErrorOf(EventKind::kPrediction,
                    absl::StrCat(R"({"model": "clf", ")", std::string(63, 'a'),
                                 "\u00e9", R"(": 1})")),
            absl::StrCat(std::string(63, 'a'),
                         "... (65 bytes): unknown field (see docs/api.md for "
                         "the event schema)"));
}

TEST_F(DecoderTest, LabelValuesRefuseControlCharacters) {
  const EventKind P = EventKind::kPrediction;
  const BodyAndError cases[] = {
      {R"({"model": "clf", "version": "v\u0001"})",
       "version: must not contain control characters (byte 0x01 at offset 1)"},
      {R"({"model": "clf", "error": "a\u0000b"})",
       "error: must not contain control characters (byte 0x00 at offset 1)"},
      {R"({"model": "clf", "safety": ["pii", "x\ty"]})",
       "safety[]: must not contain control characters (byte 0x09 at offset "
       "1)"},
      {R"({"model": "clf", "prediction": "a\u007f"})",
       "prediction: must not contain control characters (byte 0x7f at offset "
       "1)"},
      {R"({"model": "clf", "segment": {"r": "e\nu"}})",
       "segment.r: must not contain control characters (byte 0x0a at offset "
       "1)"},
  };
  for (const BodyAndError& c : cases) EXPECT_EQ(ErrorOf(P, c.body), c.message);
  EXPECT_EQ(
      ErrorOf(P, R"({"model": "clf", "probabilities": {"a\n": 1}})"),
      "probabilities.a\n: must not contain control characters (byte 0x0a at "
      "offset 1)");
  EXPECT_EQ(ErrorOf(EventKind::kLabel,
                    R"({"model": "clf", "id": "a", "label": "\u001b[31m"})"),
            "label: must not contain control characters (byte 0x1b at offset "
            "0)");
  // Not a label value: ids and categorical features may hold anything.
  DecodeResult r =
      Decode(P, R"({"model": "clf", "id": "a\tb", "features": {"c": "x\ty"}})");
  EXPECT_TRUE(r.errors.empty());
}

TEST_F(DecoderTest, ListsAndNumbersAreBounded) {
  const EventKind P = EventKind::kPrediction;
  std::string safety;
  for (int i = 0; i < 21; ++i) absl::StrAppend(&safety, i ? "," : "", "\"s\"");
  DecodeResult r =
      Decode(P, absl::StrCat(R"({"model": "clf", "safety": [)", safety, "]}"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, RejectReason::kTooLarge);
  EXPECT_EQ(r.errors[0].message,
            "safety: more than limits.max_safety_categories (20) entries");
  // Token counts are exact up to 2^63 - 1.
  r = Decode(P, R"({"model": "clf", "tokens": {"prompt": 9007199254740993,
                    "completion": 9223372036854775807}})");
  ASSERT_TRUE(r.errors.empty());
  const auto& p = std::get<PredictionEvent>(r.events[0].event);
  EXPECT_EQ(p.prompt_tokens, int64_t{9007199254740993});
  EXPECT_EQ(p.completion_tokens, int64_t{9223372036854775807});
  EXPECT_EQ(
      ErrorOf(P,
              R"({"model": "clf", "tokens": {"prompt": 9223372036854775808}})"),
      "tokens.prompt: must be at most 9223372036854775807 (2^63 - 1)");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "tokens": {"prompt": 1e17}})"),
            "tokens.prompt: above 2^53, write the integer without a fraction "
            "or exponent (up to 2^63 - 1)");
  EXPECT_EQ(ErrorOf(P, R"({"model": "clf", "tokens": {"prompt": -3}})"),
            "tokens.prompt: must be a non-negative integer");
  r = Decode(P, R"({"model": "clf", "tokens": {"prompt": 2e3}})");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(std::get<PredictionEvent>(r.events[0].event).prompt_tokens, 2000);
  // The outcome value adds to a counter: never negative, never to +Inf.
  const EventKind F = EventKind::kFeedback;
  EXPECT_EQ(ErrorOf(F, R"({"model": "clf", "id": "a", "score": 3,
                           "value": -5})"),
            "value: must be between 0 and 1e15 (it adds to a counter)");
  EXPECT_EQ(ErrorOf(F, R"({"model": "clf", "id": "a", "score": 3,
                           "value": 1e308})"),
            "value: must be between 0 and 1e15 (it adds to a counter)");
  r = Decode(F, R"({"model": "clf", "id": "a", "score": 3, "value": 3.5})");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[0].event).value, 3.5);
}

TEST_F(DecoderTest, ArrayKeepsValidEventsAndIndexesErrors) {
  DecodeResult r = Decode(EventKind::kLabel, R"([
    {"model": "clf", "id": "1", "label": "a"},
    {"model": "clf", "id": "2"},
    {"model": "clf", "id": 3, "label": 1}])");
  EXPECT_EQ(r.total, 3);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].index, 2);
  EXPECT_EQ(std::get<LabelEvent>(r.events[1].event).id, "3");
  EXPECT_EQ(std::get<LabelEvent>(r.events[1].event).label_class, "1");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 1);
  EXPECT_EQ(r.errors[0].reason, RejectReason::kMissingField);
}

TEST_F(DecoderTest, NdjsonLinesStandAlone) {
  DecodeResult r =
      Decode(EventKind::kFeedback,
             "{\"model\":\"clf\",\"id\":\"1\",\"score\":5}\r\n"
             "\n"
             "{not json}\n"
             "{\"model\":\"clf\",\"id\":\"2\",\"score\":1,\"value\":9.5}",
             BodyFormat::kNdjson);
  EXPECT_EQ(r.total, 3);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[1].event).value, 9.5);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 1);
  EXPECT_EQ(r.errors[0].reason, RejectReason::kInvalidJson);
  EXPECT_THAT(r.errors[0].message, HasSubstr("line 3: not valid JSON"));
}

// Lines are parsed in place (the bytes after one are its padding), the
// last ones from a padded copy: a line never runs into the next one, and
// nothing past the body's end is read as JSON.
TEST_F(DecoderTest, NdjsonLinesParsedInPlaceStopAtTheirEnd) {
  const std::string line1 = R"({"model":"clf","id":"1","score":5)";  // no }
  const std::string line2 = R"({"model":"clf","id":"2","score":4})";
  const std::string line3 = R"({"model":"clf","id":"3","score":3})";
  const std::string body =
      absl::StrCat(line1, "\n", line2, "\n", line2, "\n", line3, "\n", line3);
  // More than SIMDJSON_PADDING after the first lines, less after the last.
  ASSERT_GT(body.size(), line1.size() + 64 + 1);
  const std::string buffer = body + R"(,"score":1}} not json [[[)";
  DecodeResult r = Decode(EventKind::kFeedback,
                          std::string_view(buffer).substr(0, body.size()),
                          BodyFormat::kNdjson);
  EXPECT_EQ(r.total, 5);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 0);
  EXPECT_THAT(r.errors[0].message, HasSubstr("line 1: not valid JSON"));
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[0].event).id, "2");
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[1].event).score, 4);
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[3].event).id, "3");
  EXPECT_EQ(std::get<FeedbackEvent>(r.events[3].event).score, 3);
}

TEST_F(DecoderTest, BodyLevelFailures) {
  Decoder d(config_);
  EXPECT_FALSE(
      d.Decode(EventKind::kLabel, BodyFormat::kJson, "[{\"a\":", now_).ok());
  EXPECT_FALSE(d.Decode(EventKind::kLabel, BodyFormat::kJson, "", now_).ok());
  // Numbers beyond double range are a JSON error in simdjson.
  EXPECT_FALSE(d.Decode(EventKind::kPrediction, BodyFormat::kJson,
                        R"({"model": "clf", "latency_ms": 1e999})", now_)
                   .ok());
  absl::StatusOr<DecodeResult> r = d.Decode(
      EventKind::kLabel, BodyFormat::kJson, "[{},{},{},{},{},{}]", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("max_events_per_request (5)"));
}

TEST(FormatTest, ContentTypes) {
  EXPECT_EQ(FormatFromContentType("application/json; charset=utf-8"),
            BodyFormat::kJson);
  EXPECT_EQ(FormatFromContentType(""), BodyFormat::kJson);
  EXPECT_EQ(FormatFromContentType("Application/X-NDJSON"), BodyFormat::kNdjson);
  EXPECT_EQ(FormatFromContentType("text/plain"), std::nullopt);
}

}  // namespace
}  // namespace aiq::ingest
