// OTLP/HTTP protobuf request bodies for tests, the fuzz corpus and the
// benchmarks, built field by field with the field numbers of
// opentelemetry-proto v1.9.0 (the same ones exporter/otlp/otlp_decoder.cc
// reads, written independently here so a wrong number shows up).
//
// Example:
//   using namespace aiq::testing::otlp_bodies;
//   std::string body = TracesBody(
//       "chatbot", {Span("chat", 1'800'000'000'000'000'000,
//                        1'800'000'001'000'000'000,
//                        {KeyValue("gen_ai.operation.name", Str("chat"))})});
#ifndef AIQ_EXPORTER_TESTING_OTLP_BODIES_H_
#define AIQ_EXPORTER_TESTING_OTLP_BODIES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "exporter/otlp/detail/wire_writer.h"

namespace aiq::testing::otlp_bodies {

using otlp::detail::WireWriter;
using Writers = std::vector<WireWriter>;

// common.proto AnyValue.
inline WireWriter Str(std::string_view s) {
  WireWriter w;
  w.Bytes(1, s);
  return w;
}
inline WireWriter Bool(bool b) {
  WireWriter w;
  w.Varint(2, b ? 1 : 0);
  return w;
}
inline WireWriter Int(int64_t v) {
  WireWriter w;
  w.Varint(3, static_cast<uint64_t>(v));
  return w;
}
inline WireWriter Double(double v) {
  WireWriter w;
  w.Double(4, v);
  return w;
}
// common.proto KeyValue.
inline WireWriter KeyValue(std::string_view key, const WireWriter& value) {
  WireWriter w;
  w.Bytes(1, key).Message(2, value);
  return w;
}

// trace.proto Span.Event.
inline WireWriter SpanEvent(std::string_view name, uint64_t time_unix_nano,
                            const Writers& attributes) {
  WireWriter w;
  w.Fixed64(1, time_unix_nano).Bytes(2, name);
  for (const WireWriter& a : attributes) w.Message(3, a);
  return w;
}

// trace.proto Span; status_code 2 = STATUS_CODE_ERROR.
inline WireWriter Span(std::string_view name, uint64_t start_unix_nano,
                       uint64_t end_unix_nano, const Writers& attributes,
                       const Writers& events = {}, int status_code = 0) {
  WireWriter w;
  w.Bytes(1, std::string(16, '\x01')).Bytes(2, std::string(8, '\x02'));
  w.Bytes(5, name).Varint(6, 3);  // SPAN_KIND_CLIENT
  w.Fixed64(7, start_unix_nano).Fixed64(8, end_unix_nano);
  for (const WireWriter& a : attributes) w.Message(9, a);
  for (const WireWriter& e : events) w.Message(11, e);
  if (status_code != 0) {
    WireWriter status;
    status.Varint(3, static_cast<uint64_t>(status_code));
    w.Message(15, status);
  }
  return w;
}

// resource.proto Resource with service.name.
inline WireWriter Resource(std::string_view service) {
  WireWriter w;
  w.Message(1, KeyValue("service.name", Str(service)));
  return w;
}

inline WireWriter Scope() {
  WireWriter w;
  w.Bytes(1, "aiq-test").Bytes(2, "1.0");
  return w;
}

// Export{Trace,Logs,Metrics}ServiceRequest with one resource and one
// scope: the three share their shape and field numbers (resource_* = 1;
// in it resource = 1, scope_* = 2; in that scope = 1, the items = 2).
inline std::string ExportBody(std::string_view service, const Writers& items) {
  WireWriter scope_items;
  scope_items.Message(1, Scope());
  for (const WireWriter& item : items) scope_items.Message(2, item);
  WireWriter resource_items;
  resource_items.Message(1, Resource(service)).Message(2, scope_items);
  WireWriter request;
  request.Message(1, resource_items);
  return request.data();
}

// collector/trace/v1 ExportTraceServiceRequest with one resource.
inline std::string TracesBody(std::string_view service, const Writers& spans) {
  return ExportBody(service, spans);
}

// logs.proto LogRecord with event_name.
inline WireWriter LogRecord(std::string_view event_name,
                            uint64_t time_unix_nano,
                            const Writers& attributes) {
  WireWriter w;
  w.Fixed64(1, time_unix_nano).Varint(2, 9);  // SEVERITY_NUMBER_INFO
  if (!event_name.empty()) w.Bytes(12, event_name);
  for (const WireWriter& a : attributes) w.Message(6, a);
  w.Fixed64(11, time_unix_nano);
  return w;
}

inline std::string LogsBody(std::string_view service, const Writers& records) {
  return ExportBody(service, records);
}

// metrics.proto HistogramDataPoint, bucket counts and bounds packed.
inline WireWriter HistogramPoint(const Writers& attributes,
                                 uint64_t start_unix_nano,
                                 uint64_t time_unix_nano,
                                 const std::vector<uint64_t>& counts,
                                 const std::vector<double>& bounds,
                                 double sum) {
  uint64_t count = 0;
  for (uint64_t c : counts) count += c;
  WireWriter w;
  for (const WireWriter& a : attributes) w.Message(9, a);
  w.Fixed64(2, start_unix_nano).Fixed64(3, time_unix_nano).Fixed64(4, count);
  w.Double(5, sum).PackedFixed64(6, counts).PackedDouble(7, bounds);
  return w;
}

// metrics.proto Metric with a Histogram; temporality 1 = delta, 2 =
// cumulative.
inline WireWriter HistogramMetric(std::string_view name, std::string_view unit,
                                  int temporality, const Writers& points) {
  WireWriter histogram;
  for (const WireWriter& p : points) histogram.Message(1, p);
  histogram.Varint(2, static_cast<uint64_t>(temporality));
  WireWriter w;
  w.Bytes(1, name).Bytes(3, unit).Message(9, histogram);
  return w;
}

inline std::string MetricsBody(std::string_view service,
                               const Writers& metrics) {
  return ExportBody(service, metrics);
}

// One LLM call of the benchmark and test workload, as ChatSpansBody,
// ChatSpansJsonBody and ChatCallsNdjson write it.
struct ChatCall {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;  // 1 s after the start
  std::string response_id;     // "chatcmpl-<i>", or "" (none sent)
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

// `response_ids` false: calls without gen_ai.response.id (JSON `id`), so
// the same body can be posted repeatedly without being duplicates.
inline std::vector<ChatCall> ChatCalls(int n, uint64_t start_unix_nano,
                                       bool response_ids = true) {
  std::vector<ChatCall> calls;
  calls.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const uint64_t start = start_unix_nano + uint64_t{1'000'000} * i;
    calls.push_back({start, start + 1'000'000'000,
                     response_ids ? "chatcmpl-" + std::to_string(i) : "",
                     100 + i % 7, 20 + i % 5});
  }
  return calls;
}

// The calls as chat spans of `service`, as an LLM SDK instrumentation
// sends them: tokens, the response id, the conventions' usual attributes.
inline std::string ChatSpansBody(std::string_view service,
                                 const std::vector<ChatCall>& calls) {
  Writers spans;
  for (const ChatCall& c : calls) {
    Writers attributes = {
        KeyValue("gen_ai.operation.name", Str("chat")),
        KeyValue("gen_ai.provider.name", Str("openai")),
        KeyValue("gen_ai.request.model", Str("gpt-4o")),
        KeyValue("gen_ai.response.model", Str("gpt-4o-2024-08-06")),
        KeyValue("gen_ai.usage.input_tokens", Int(c.input_tokens)),
        KeyValue("gen_ai.usage.output_tokens", Int(c.output_tokens)),
        KeyValue("server.address", Str("api.openai.com"))};
    if (!c.response_id.empty()) {
      attributes.push_back(KeyValue("gen_ai.response.id", Str(c.response_id)));
    }
    spans.push_back(
        Span("chat gpt-4o", c.start_unix_nano, c.end_unix_nano, attributes));
  }
  return TracesBody(service, spans);
}
inline std::string ChatSpansBody(std::string_view service, int n,
                                 uint64_t start_unix_nano) {
  return ChatSpansBody(service, ChatCalls(n, start_unix_nano));
}

// The same spans in OTLP's JSON encoding, as the SDKs' JSON exporters
// write it: hex ids, int64 values and times as strings.
inline std::string ChatSpansJsonBody(std::string_view service,
                                     const std::vector<ChatCall>& calls) {
  auto str = [](std::string_view key, std::string_view value) {
    return "{\"key\":\"" + std::string(key) +
           "\",\"value\":{\"stringValue\":\"" + std::string(value) + "\"}}";
  };
  auto integer = [](std::string_view key, int64_t value) {
    return "{\"key\":\"" + std::string(key) + "\",\"value\":{\"intValue\":\"" +
           std::to_string(value) + "\"}}";
  };
  std::string body = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" +
                     str("service.name", service) +
                     "]},\"scopeSpans\":[{\"scope\":{\"name\":\"aiq-test\","
                     "\"version\":\"1.0\"},\"spans\":[";
  bool first = true;
  for (const ChatCall& c : calls) {
    if (!first) body += ",";
    first = false;
    body += "{\"traceId\":\"" + std::string(32, '1') + "\",\"spanId\":\"" +
            std::string(16, '2') +
            "\",\"name\":\"chat gpt-4o\",\"kind\":3,\"startTimeUnixNano\":\"" +
            std::to_string(c.start_unix_nano) + "\",\"endTimeUnixNano\":\"" +
            std::to_string(c.end_unix_nano) + "\",\"attributes\":[" +
            str("gen_ai.operation.name", "chat") + "," +
            str("gen_ai.provider.name", "openai") + "," +
            str("gen_ai.request.model", "gpt-4o") + "," +
            str("gen_ai.response.model", "gpt-4o-2024-08-06") + "," +
            integer("gen_ai.usage.input_tokens", c.input_tokens) + "," +
            integer("gen_ai.usage.output_tokens", c.output_tokens) + "," +
            str("server.address", "api.openai.com") +
            (c.response_id.empty()
                 ? ""
                 : "," + str("gen_ai.response.id", c.response_id)) +
            "],\"status\":{}}";
  }
  return body + "]}]}]}";
}

// The same calls for the JSON API (POST /api/v1/predictions, NDJSON) of
// `model`, version gpt-4o: what the OTLP mapping makes of the spans.
inline std::string ChatCallsNdjson(std::string_view model,
                                   const std::vector<ChatCall>& calls) {
  std::string body;
  for (const ChatCall& c : calls) {
    // RFC 3339, exact to the nanosecond (Unix seconds as a double are not).
    const std::string timestamp = absl::FormatTime(
        absl::RFC3339_full,
        absl::FromUnixNanos(static_cast<int64_t>(c.end_unix_nano)),
        absl::UTCTimeZone());
    body += "{\"model\":\"" + std::string(model) +
            "\",\"version\":\"gpt-4o\"," +
            (c.response_id.empty() ? "" : "\"id\":\"" + c.response_id + "\",") +
            "\"timestamp\":\"" + timestamp +
            "\",\"latency_ms\":1000,\"tokens\":{\"prompt\":" +
            std::to_string(c.input_tokens) +
            ",\"completion\":" + std::to_string(c.output_tokens) + "}}\n";
  }
  return body;
}

}  // namespace aiq::testing::otlp_bodies

#endif  // AIQ_EXPORTER_TESTING_OTLP_BODIES_H_
