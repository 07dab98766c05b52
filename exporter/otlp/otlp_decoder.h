// Decodes OTLP/HTTP export request bodies, in either of the protocol's
// encodings (https://opentelemetry.io/docs/specs/otlp/#otlphttp-request):
// binary protobuf (application/x-protobuf) and the OTLP JSON mapping
// (application/json), into the types of otlp_request.h. Field numbers are
// opentelemetry-proto v1.9.0's. Runs outside any lock.
//
// Anything malformed (truncated, a wrong wire or JSON type for a known
// field, a length past the end, invalid UTF-8, nesting deeper than
// kMaxNesting, more items than the limits allow, a histogram whose buckets
// do not fit its bounds) is InvalidArgument, with a message that names the
// place, e.g. "resource_spans[0].scope_spans[1].spans[3].attributes[2]:
// length-delimited field longer than the rest of its message": the whole
// request is refused (HTTP 400). Messages stay under 300 bytes and quote
// no input. Unknown fields are skipped, as protobuf and the JSON mapping
// say; so are the fields the types of otlp_request.h do not hold.
//
// Example, given `std::string_view body` from POST /v1/traces:
//   std::optional<aiq::otlp::Encoding> e =
//       aiq::otlp::EncodingFromContentType("application/x-protobuf");
//   absl::StatusOr<aiq::otlp::TracesRequest> r =
//       aiq::otlp::DecodeTraces(*e, body);
//   // r->resource_spans[i].spans: views into `body` (keep it alive)
//   aiq::otlp::DecodeLimits limits;
//   limits.max_items = 1000;
//   absl::StatusOr<aiq::otlp::LogsRequest> logs =
//       aiq::otlp::DecodeLogs(aiq::otlp::Encoding::kJson, body, limits);
#ifndef AIQ_EXPORTER_OTLP_OTLP_DECODER_H_
#define AIQ_EXPORTER_OTLP_OTLP_DECODER_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "exporter/otlp/otlp_request.h"

namespace aiq::otlp {

// application/x-protobuf or application/json (parameters such as
// "; charset=utf-8" allowed, case-insensitive); nullopt otherwise (415).
std::optional<Encoding> EncodingFromContentType(std::string_view content_type);

// AnyValue arrays and key-value lists nest at most this deep; deeper is
// "nesting too deep".
inline constexpr int kMaxNesting = 32;

struct DecodeLimits {
  // Spans, log records and data points in one request
  // (limits.max_events_per_request).
  int64_t max_items = 100000;
  // Decoded elements (items, attributes, span events, values) per byte of
  // body: bounds the memory a decoded request takes to a small multiple of
  // its body, whatever it holds. Real telemetry has one per 20-50 bytes.
  int64_t bytes_per_element = 8;
};

// ExportTraceServiceRequest, ExportLogsServiceRequest and
// ExportMetricsServiceRequest. The result's views point into `body`
// (protobuf) or into its own `storage` (JSON).
absl::StatusOr<TracesRequest> DecodeTraces(Encoding encoding,
                                           std::string_view body,
                                           const DecodeLimits& limits = {});
absl::StatusOr<LogsRequest> DecodeLogs(Encoding encoding, std::string_view body,
                                       const DecodeLimits& limits = {});
absl::StatusOr<MetricsRequest> DecodeMetrics(Encoding encoding,
                                             std::string_view body,
                                             const DecodeLimits& limits = {});

}  // namespace aiq::otlp

#endif  // AIQ_EXPORTER_OTLP_OTLP_DECODER_H_
