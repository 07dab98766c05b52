// Typed ingest events, as decoded from request bodies (see decoder.h) and
// applied to model state (see exporter/model/). Strings are owned copies so
// events outlive the request buffer. Names that need interning with a cap
// (versions, classes, error reasons, safety categories) stay strings here;
// the model layer resolves them under its lock.
#ifndef AIQ_EXPORTER_INGEST_EVENT_H_
#define AIQ_EXPORTER_INGEST_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "exporter/util/enum_names.h"

namespace aiq::ingest {

// In the order of the Event variant's alternatives.
enum class EventKind {
  kPrediction,
  kLabel,
  kFeedback,
  kEvaluation,
  kDataPoint,
};
inline constexpr int kNumEventKinds = 5;
// The `kind` label of the exporter's own ingest metrics.
inline constexpr auto kEventKindNames = util::MakeEnumNames<EventKind>({
    {EventKind::kPrediction, "prediction"},
    {EventKind::kLabel, "label"},
    {EventKind::kFeedback, "feedback"},
    {EventKind::kEvaluation, "evaluation"},
    {EventKind::kDataPoint, "data_point"},
});
inline const char* EventKindName(EventKind kind) {
  return kEventKindNames.Name(kind);
}

// Why an event was rejected; the label value of
// aiq_exporter_events_rejected_total{reason}.
enum class RejectReason {
  kInvalidJson,
  kInvalidField,
  kMissingField,
  kUnknownModel,
  kUnknownVersion,
  kUnknownClass,
  kUnknownFeature,
  kOutOfRange,
  kTooLarge,
  kDuplicateId,
};
inline constexpr int kNumRejectReasons = 10;
inline constexpr auto kRejectReasonNames = util::MakeEnumNames<RejectReason>({
    {RejectReason::kInvalidJson, "invalid_json"},
    {RejectReason::kInvalidField, "invalid_field"},
    {RejectReason::kMissingField, "missing_field"},
    {RejectReason::kUnknownModel, "unknown_model"},
    {RejectReason::kUnknownVersion, "unknown_version"},
    {RejectReason::kUnknownClass, "unknown_class"},
    {RejectReason::kUnknownFeature, "unknown_feature"},
    {RejectReason::kOutOfRange, "out_of_range"},
    {RejectReason::kTooLarge, "too_large"},
    {RejectReason::kDuplicateId, "duplicate_id"},
});
static_assert(kRejectReasonNames.size() == kNumRejectReasons);
inline const char* RejectReasonName(RejectReason reason) {
  return kRejectReasonNames.Name(reason);
}

// A feature value as sent: JSON null (missing), number, string or bool.
using FeatureScalar = std::variant<std::monostate, double, std::string, bool>;

struct FeatureValue {
  int feature = 0;  // index into ModelConfig::features
  FeatureScalar value;
};

// Why a feature value had the wrong JSON type for its declared type; the
// `reason` label of aiq_feature_type_errors_total. Values index per-reason
// counters (0 .. kNumTypeErrorReasons - 1).
enum class TypeErrorReason {
  kExpectedNumber = 0,
  kExpectedString = 1,
  kExpectedBool = 2,
};
inline constexpr int kNumTypeErrorReasons = 3;
inline constexpr auto kTypeErrorReasonNames =
    util::MakeEnumNames<TypeErrorReason>({
        {TypeErrorReason::kExpectedNumber, "expected_number"},
        {TypeErrorReason::kExpectedString, "expected_string"},
        {TypeErrorReason::kExpectedBool, "expected_bool"},
    });
static_assert(kTypeErrorReasonNames.size() == kNumTypeErrorReasons);
inline const char* TypeErrorReasonName(TypeErrorReason reason) {
  return kTypeErrorReasonNames.Name(reason);
}

// A feature whose value had the wrong JSON type for its declared type: the
// event is still accepted and the value counted as a type error.
struct FeatureTypeError {
  int feature = 0;
  TypeErrorReason reason = TypeErrorReason::kExpectedNumber;
};

struct PredictionEvent {
  int model = 0;        // index into Config::models
  std::string version;  // empty: the model's default_version
  std::string id;       // empty: cannot be joined with labels/feedback
  absl::Time timestamp;
  std::vector<FeatureValue> features;
  std::vector<FeatureTypeError> feature_type_errors;
  // Classification: the predicted class; regression: the predicted value.
  std::optional<std::string> predicted_class;
  std::optional<double> predicted_value;
  std::vector<std::pair<std::string, double>> probabilities;
  std::optional<double> confidence;
  std::optional<double> latency_seconds;
  // Streaming: time until the first output token (JSON `ttft_ms`).
  std::optional<double> ttft_seconds;
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
  std::optional<std::string> error;
  std::vector<std::string> safety;
  std::vector<std::pair<std::string, std::string>> segment;
};

struct LabelEvent {
  int model = 0;
  std::string id;
  std::optional<std::string> label_class;
  std::optional<double> label_value;
  absl::Time timestamp;
};

struct FeedbackEvent {
  int model = 0;
  std::string id;
  double score = 0;  // 1..5
  std::optional<double> value;
  absl::Time timestamp;
};

// A judgement of one model call: an LLM-as-judge score, a human review, a
// heuristic (POST /api/v1/evaluations, OTLP `gen_ai.evaluation.result`).
struct EvaluationEvent {
  int model = 0;
  // Set when the sender knows it (an OTLP span event, or JSON `version`);
  // else the version of the prediction `id` joins, else the default.
  std::string version;
  std::string id;         // the evaluated call (gen_ai.response.id); may be ""
  std::string evaluator;  // gen_ai.evaluation.name
  std::optional<double> score;       // gen_ai.evaluation.score.value
  std::optional<std::string> label;  // gen_ai.evaluation.score.label
  absl::Time timestamp;
};

// A data point of an OTLP streaming-latency histogram
// (gen_ai.server.time_to_first_token or gen_ai.server.time_per_output_token,
// docs/otlp.md): bucket counts on the sender's bounds.
struct LatencyPointEvent {
  enum class Metric : uint8_t { kTimeToFirstToken, kTimePerOutputToken };
  int model = 0;
  std::string version;  // empty: the model's default_version
  Metric metric = Metric::kTimeToFirstToken;
  // Cumulative points carry the totals since start_time_unix_nano: the
  // model keeps each stream's last point and counts the difference.
  bool cumulative = false;
  std::string stream;  // cumulative: the point's identity (its attributes)
  uint64_t start_time_unix_nano = 0;
  std::vector<double> bounds;
  std::vector<uint64_t> bucket_counts;  // bounds.size() + 1
  double sum = 0;
  absl::Time timestamp;
};

using Event = std::variant<PredictionEvent, LabelEvent, FeedbackEvent,
                           EvaluationEvent, LatencyPointEvent>;
static_assert(std::variant_size_v<Event> == kNumEventKinds);

inline EventKind KindOf(const Event& e) {
  return static_cast<EventKind>(e.index());
}
inline int ModelOf(const Event& e) {
  return std::visit([](const auto& ev) { return ev.model; }, e);
}
// The id that joins the event to a prediction; "" when it has none.
inline std::string_view JoinIdOf(const Event& e) {
  return std::visit(
      [](const auto& ev) -> std::string_view {
        if constexpr (requires { ev.id; }) {
          return ev.id;
        } else {
          return {};
        }
      },
      e);
}

}  // namespace aiq::ingest

#endif  // AIQ_EXPORTER_INGEST_EVENT_H_
