// What an OTLP/HTTP export request carries, as far as the GenAI mapping
// (exporter/otlp/genai_mapping.h) reads it: the decoded form of
// ExportTraceServiceRequest, ExportLogsServiceRequest and
// ExportMetricsServiceRequest (opentelemetry-proto v1.9.0,
// opentelemetry/proto/collector/{trace,logs,metrics}/v1/*_service.proto),
// from either encoding (otlp_decoder.h). Scopes are flattened away: the
// mapping needs only the resource and the items.
//
// Strings are views into the request body (protobuf) or into storage the
// request owns (JSON, whose strings may be escaped): valid while both the
// body and the request live.
//
// Example:
//   aiq::otlp::TracesRequest request;  // filled by DecodeTraces
//   for (const aiq::otlp::ResourceSpans& rs : request.resource_spans) {
//     const aiq::otlp::AttributeValue* service =
//         aiq::otlp::FindAttribute(rs.resource, "service.name");
//     for (const aiq::otlp::Span& span : rs.spans) {
//       double seconds = (span.end_time_unix_nano -
//                         span.start_time_unix_nano) * 1e-9;
//     }
//   }
#ifndef AIQ_EXPORTER_OTLP_OTLP_REQUEST_H_
#define AIQ_EXPORTER_OTLP_OTLP_REQUEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "exporter/util/enum_names.h"

namespace aiq::otlp {

// The three OTLP/HTTP export endpoints: /v1/traces, /v1/logs, /v1/metrics.
enum class Signal : uint8_t { kTraces = 0, kLogs = 1, kMetrics = 2 };
inline constexpr int kNumSignals = 3;
// The `signal` label of the exporter's OTLP self-metrics.
inline constexpr auto kSignalNames = util::MakeEnumNames<Signal>({
    {Signal::kTraces, "traces"},
    {Signal::kLogs, "logs"},
    {Signal::kMetrics, "metrics"},
});
inline const char* SignalName(Signal s) { return kSignalNames.Name(s); }

// The two OTLP/HTTP body encodings (Content-Type application/x-protobuf
// and application/json).
enum class Encoding : uint8_t { kProtobuf = 0, kJson = 1 };

// A marker for values the mapping never reads as such: arrays, key-value
// lists and bytes (AnyValue fields 5, 6, 7). They are still decoded and
// checked, then kept as this.
struct OtherValue {};

// AnyValue (common.proto): absent, string, bool, int64, double, or other.
using AttributeValue = std::variant<std::monostate, std::string_view, bool,
                                    int64_t, double, OtherValue>;

struct Attribute {
  std::string_view key;
  AttributeValue value;
};
using Attributes = std::vector<Attribute>;

// The first attribute named `key`, or nullptr.
inline const AttributeValue* FindAttribute(const Attributes& attributes,
                                           std::string_view key) {
  for (const Attribute& a : attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

// Span.Event (trace.proto).
struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  Attributes attributes;
};

// Status.StatusCode (trace.proto).
enum class StatusCode { kUnset = 0, kOk = 1, kError = 2 };

// Span (trace.proto), the fields the mapping reads.
struct Span {
  std::string_view name;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  Attributes attributes;
  std::vector<SpanEvent> events;
  StatusCode status_code = StatusCode::kUnset;
  std::string_view status_message;
};

struct ResourceSpans {
  Attributes resource;      // Resource.attributes
  std::vector<Span> spans;  // of every ScopeSpans, in body order
};

// LogRecord (logs.proto), the fields the mapping reads.
struct LogRecord {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  std::string_view event_name;  // field 12; empty when absent
  AttributeValue body;
  Attributes attributes;
};

struct ResourceLogs {
  Attributes resource;
  std::vector<LogRecord> log_records;  // of every ScopeLogs, in body order
};

// AggregationTemporality (metrics.proto).
enum class Temporality { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

// HistogramDataPoint (metrics.proto).
struct HistogramPoint {
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  std::vector<uint64_t> bucket_counts;  // explicit_bounds.size() + 1, or 0
  std::vector<double> explicit_bounds;
};

// Metric (metrics.proto). Only explicit-bucket histograms carry points
// here; a metric of any other type (gauge, sum, exponential histogram,
// summary) is kOther with its data points counted, not kept.
struct Metric {
  enum class Type { kHistogram, kOther };
  std::string_view name;
  std::string_view unit;
  Type type = Type::kOther;
  Temporality temporality = Temporality::kUnspecified;
  std::vector<HistogramPoint> points;  // kHistogram only
  int64_t other_points = 0;            // kOther: how many data points
};

struct ResourceMetrics {
  Attributes resource;
  std::vector<Metric> metrics;  // of every ScopeMetrics, in body order
};

// Storage a decoded request may own (unescaped JSON strings); opaque.
using RequestStorage = std::shared_ptr<const void>;

struct TracesRequest {
  std::vector<ResourceSpans> resource_spans;
  RequestStorage storage;
};

struct LogsRequest {
  std::vector<ResourceLogs> resource_logs;
  RequestStorage storage;
};

struct MetricsRequest {
  std::vector<ResourceMetrics> resource_metrics;
  RequestStorage storage;
};

}  // namespace aiq::otlp

#endif  // AIQ_EXPORTER_OTLP_OTLP_REQUEST_H_
