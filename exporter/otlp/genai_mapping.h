// Maps decoded OTLP traces and logs (otlp_request.h) that follow the
// OpenTelemetry GenAI semantic conventions to the exporter's events, as
// docs/otlp.md describes: an LLM call span (one with gen_ai.operation.name)
// becomes a prediction of the model whose otlp.service_name is the
// resource's service.name; a gen_ai.evaluation.result span event or log
// record becomes an evaluation; a data point of gen_ai.server.
// time_to_first_token or time_per_output_token adds to the model's
// streaming-latency histograms. Everything else is ignored, and counted.
// Runs outside any lock: it reads only the immutable config.
//
// Example, given `const config::Config& config` and a decoded
// `const aiq::otlp::TracesRequest& request`:
//   aiq::otlp::GenAiMapper mapper(config);
//   aiq::otlp::MappedRequest m = mapper.MapTraces(request, absl::Now());
//   // m.decoded.events: predictions and evaluations, applied like the
//   //   JSON API's (ModelRegistry::Apply);
//   // m.decoded.errors: refused items; m.Describe(e) names the item.
#ifndef AIQ_EXPORTER_OTLP_GENAI_MAPPING_H_
#define AIQ_EXPORTER_OTLP_GENAI_MAPPING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/ingest/decoder.h"
#include "exporter/ingest/event.h"
#include "exporter/otlp/otlp_request.h"

namespace aiq::otlp {

// The GenAI semantic conventions' names the mapping reads
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/).
namespace semconv {
inline constexpr std::string_view kServiceName = "service.name";
inline constexpr std::string_view kOperationName = "gen_ai.operation.name";
inline constexpr std::string_view kResponseId = "gen_ai.response.id";
inline constexpr std::string_view kInputTokens = "gen_ai.usage.input_tokens";
inline constexpr std::string_view kOutputTokens = "gen_ai.usage.output_tokens";
// Deprecated names of the two above, still sent by older instrumentations.
inline constexpr std::string_view kPromptTokens = "gen_ai.usage.prompt_tokens";
inline constexpr std::string_view kCompletionTokens =
    "gen_ai.usage.completion_tokens";
inline constexpr std::string_view kErrorType = "error.type";
// error.type's value when the error has no better name.
inline constexpr std::string_view kOtherError = "_OTHER";
inline constexpr std::string_view kEvaluationResult =
    "gen_ai.evaluation.result";
inline constexpr std::string_view kEvaluationName = "gen_ai.evaluation.name";
inline constexpr std::string_view kScoreValue = "gen_ai.evaluation.score.value";
inline constexpr std::string_view kScoreLabel = "gen_ai.evaluation.score.label";
// The event name of a log record before LogRecord.event_name existed.
inline constexpr std::string_view kEventNameAttribute = "event.name";
// The streaming-latency histograms (gen-ai-metrics.md), in seconds.
inline constexpr std::string_view kTimeToFirstToken =
    "gen_ai.server.time_to_first_token";
inline constexpr std::string_view kTimePerOutputToken =
    "gen_ai.server.time_per_output_token";
}  // namespace semconv

// Where an item sits in its request, to name it in errors.
struct ItemRef {
  int32_t resource = 0;  // index of its ResourceSpans / Logs / Metrics
  int32_t item = 0;      // its span, log record or metric in the resource
  int32_t event = -1;    // a span event's or data point's index, or -1
  ingest::EventKind kind = ingest::EventKind::kPrediction;
};

struct MappedRequest {
  // Events and refusals as the JSON decoder gives them; an event's `index`
  // is its position in `items`. `total` == items.size().
  ingest::DecodeResult decoded;
  std::vector<ItemRef> items;
  // Spans, log records and data points that are not GenAI telemetry (no
  // gen_ai.operation.name, not an evaluation, another metric): skipped,
  // not refused.
  int64_t ignored = 0;
  Signal signal = Signal::kTraces;

  // "resource_spans[0].spans[3]: <message>" for a refusal.
  std::string Describe(const ingest::EventError& e) const;
};

class GenAiMapper {
 public:
  // `config` must outlive the mapper.
  explicit GenAiMapper(const config::Config& config);

  // `now`: the receive time (a default for items without a time, and the
  // bound on times in the future, as for the JSON API).
  MappedRequest MapTraces(const TracesRequest& request, absl::Time now) const;
  MappedRequest MapLogs(const LogsRequest& request, absl::Time now) const;
  MappedRequest MapMetrics(const MetricsRequest& request, absl::Time now) const;

 private:
  const config::Config& config_;
  // otlp.service_name -> model index.
  absl::flat_hash_map<std::string, int> services_;
};

}  // namespace aiq::otlp

#endif  // AIQ_EXPORTER_OTLP_GENAI_MAPPING_H_
