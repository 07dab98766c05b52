// What the OTLP fuzz targets (otlp_proto_fuzzer.cc, otlp_json_fuzzer.cc)
// check of every decoded request: a refusal is InvalidArgument with a
// short message; an accepted request honours what otlp_request.h
// promises (histogram shapes, item limits, one kind of data per metric,
// valid UTF-8 strings, and for protobuf views into the body). Any breach
// aborts, which libFuzzer reports as a crash.
#ifndef AIQ_FUZZ_OTLP_FUZZ_CHECKS_H_
#define AIQ_FUZZ_OTLP_FUZZ_CHECKS_H_

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "exporter/otlp/otlp_decoder.h"

namespace aiq::otlp::fuzz {

inline constexpr int64_t kMaxItems = 1000;

inline void Check(bool ok) {
  if (!ok) std::abort();
}

class RequestChecker {
 public:
  // `body` when the strings must be views into it (protobuf).
  explicit RequestChecker(std::string_view body, bool views_into_body)
      : body_(body), views_into_body_(views_into_body) {}

  void String(std::string_view s) {
    Check(simdjson::validate_utf8(s.data(), s.size()));
    if (views_into_body_ && !s.empty()) {
      Check(s.data() >= body_.data() &&
            s.data() + s.size() <= body_.data() + body_.size());
    }
  }
  void Attributes(const otlp::Attributes& attributes) {
    for (const Attribute& a : attributes) {
      String(a.key);
      Value(a.value);
    }
  }
  void Value(const AttributeValue& v) {
    if (const auto* s = std::get_if<std::string_view>(&v)) String(*s);
  }
  void Item() { Check(++items_ <= kMaxItems); }

 private:
  std::string_view body_;
  bool views_into_body_;
  int64_t items_ = 0;
};

template <typename Request>
bool Refused(const absl::StatusOr<Request>& r) {
  if (r.ok()) return false;
  Check(r.status().code() == absl::StatusCode::kInvalidArgument);
  Check(!r.status().message().empty() && r.status().message().size() < 300);
  return true;
}

inline void CheckAll(Encoding encoding, std::string_view body) {
  DecodeLimits limits;
  limits.max_items = kMaxItems;
  const bool views = encoding == Encoding::kProtobuf;

  absl::StatusOr<TracesRequest> traces = DecodeTraces(encoding, body, limits);
  if (!Refused(traces)) {
    Check(views == (traces->storage == nullptr));
    RequestChecker c(body, views);
    for (const ResourceSpans& rs : traces->resource_spans) {
      c.Attributes(rs.resource);
      for (const Span& s : rs.spans) {
        c.Item();
        c.String(s.name);
        c.String(s.status_message);
        c.Attributes(s.attributes);
        for (const SpanEvent& e : s.events) {
          c.String(e.name);
          c.Attributes(e.attributes);
        }
      }
    }
  }

  absl::StatusOr<LogsRequest> logs = DecodeLogs(encoding, body, limits);
  if (!Refused(logs)) {
    Check(views == (logs->storage == nullptr));
    RequestChecker c(body, views);
    for (const ResourceLogs& rl : logs->resource_logs) {
      c.Attributes(rl.resource);
      for (const LogRecord& r : rl.log_records) {
        c.Item();
        c.String(r.event_name);
        c.Value(r.body);
        c.Attributes(r.attributes);
      }
    }
  }

  absl::StatusOr<MetricsRequest> metrics =
      DecodeMetrics(encoding, body, limits);
  if (!Refused(metrics)) {
    Check(views == (metrics->storage == nullptr));
    RequestChecker c(body, views);
    for (const ResourceMetrics& rm : metrics->resource_metrics) {
      c.Attributes(rm.resource);
      for (const Metric& m : rm.metrics) {
        c.String(m.name);
        c.String(m.unit);
        if (m.type == Metric::Type::kOther) {
          Check(m.points.empty() && m.other_points >= 0);
          for (int64_t i = 0; i < m.other_points; ++i) c.Item();
          continue;
        }
        Check(m.other_points == 0);
        for (const HistogramPoint& p : m.points) {
          c.Item();
          c.Attributes(p.attributes);
          Check(p.bucket_counts.empty() ||
                p.bucket_counts.size() == p.explicit_bounds.size() + 1);
          uint64_t total = 0;
          for (uint64_t n : p.bucket_counts) total += n;
          Check(p.bucket_counts.empty() || total == p.count);
          for (size_t i = 0; i < p.explicit_bounds.size(); ++i) {
            Check(std::isfinite(p.explicit_bounds[i]));
            Check(i == 0 || p.explicit_bounds[i - 1] < p.explicit_bounds[i]);
          }
          Check(!p.sum || std::isfinite(*p.sum));
        }
      }
    }
  }
}

}  // namespace aiq::otlp::fuzz

#endif  // AIQ_FUZZ_OTLP_FUZZ_CHECKS_H_
