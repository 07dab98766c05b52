#include "exporter/otlp/otlp_decoder.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporter/ingest/field_checks.h"
#include "exporter/otlp/detail/wire_reader.h"
#include "exporter/util/absl_compat.h"

namespace aiq::otlp {

std::optional<Encoding> EncodingFromContentType(std::string_view ct) {
  if (size_t semi = ct.find(';'); semi != std::string_view::npos) {
    ct = ct.substr(0, semi);
  }
  std::string type(absl::StripAsciiWhitespace(util::ToAbsl(ct)));
  absl::AsciiStrToLower(&type);
  if (type == "application/x-protobuf") return Encoding::kProtobuf;
  if (type == "application/json") return Encoding::kJson;
  return std::nullopt;
}

namespace {

using detail::WireField;
using detail::WireType;

// Thrown inside this file only, caught by the Decode* functions: one
// malformed field refuses the whole request.
struct DecodeFailure {
  std::string message;
};

bool IsAscii(std::string_view s) {
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    high |= word;
  }
  for (; i < s.size(); ++i) high |= static_cast<uint8_t>(s[i]);
  return (high & 0x8080808080808080ull) == 0;
}

// Where the decoder is (for messages) and what it may still decode.
class Context {
 public:
  Context(std::string_view body, const DecodeLimits& limits)
      : bytes_per_element_(std::max<int64_t>(1, limits.bytes_per_element)),
        budget_(static_cast<int64_t>(body.size()) / bytes_per_element_ + 256),
        max_items_(limits.max_items) {}

  // A path segment for the lifetime of the scope: "name" or "name[index]".
  class Scope {
   public:
    Scope(Context& c, std::string_view name, int64_t index = -1) : c_(c) {
      if (c_.depth_path_ < kMaxPath) c_.path_[c_.depth_path_] = {name, index};
      ++c_.depth_path_;
    }
    ~Scope() { --c_.depth_path_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Context& c_;
  };

  // "name: " to put before a complaint about field `name`, or "" when the
  // innermost scope is that field already (no "spans[3]: spans: ...").
  std::string Field(std::string_view name) const {
    if (name.empty() || (depth_path_ > 0 && depth_path_ <= kMaxPath &&
                         path_[depth_path_ - 1].first == name)) {
      return "";
    }
    return absl::StrCat(util::ToAbsl(name), ": ");
  }

  // Refuses the request: "<path>: <what>". Only the decoder's own words
  // and field names go into `what`, never input, and a path deeper than
  // kMaxPathChars loses its middle, so the message stays short.
  [[noreturn]] void Fail(std::string_view what) const {
    std::vector<std::string> segments;
    size_t total = 0;
    for (size_t i = 0; i < std::min(depth_path_, kMaxPath); ++i) {
      const auto& [name, index] = path_[i];
      segments.push_back(index >= 0
                             ? absl::StrCat(util::ToAbsl(name), "[", index, "]")
                             : std::string(name));
      total += segments.back().size() + 1;
    }
    std::string where;
    if (total <= kMaxPathChars) {
      for (const std::string& s : segments) {
        if (!where.empty()) where += '.';
        where += s;
      }
    } else {
      // The first two segments (which resource, which scope) and as many
      // of the innermost as fit.
      size_t head = std::min<size_t>(2, segments.size());
      for (size_t i = 0; i < head; ++i) {
        if (!where.empty()) where += '.';
        where += segments[i];
      }
      size_t tail_chars = 0;
      size_t first_tail = segments.size();
      while (first_tail > head &&
             where.size() + tail_chars + segments[first_tail - 1].size() + 5 <=
                 kMaxPathChars) {
        --first_tail;
        tail_chars += segments[first_tail].size() + 1;
      }
      where += " ...";
      for (size_t i = first_tail; i < segments.size(); ++i) {
        where += i == first_tail ? ' ' : '.';
        where += segments[i];
      }
    }
    std::string message = absl::StrCat(where.empty() ? "request" : where, ": ",
                                       util::ToAbsl(what));
    if (message.size() > kMaxMessageChars) {
      message.resize(kMaxMessageChars - 3);
      message += "...";
    }
    throw DecodeFailure{std::move(message)};
  }

  // Counts one decoded element against the request's budget.
  void Element() {
    if (--budget_ < 0) {
      Fail(
          absl::StrCat("more attributes, events and values than a body of "
                       "this size may hold (one per ",
                       bytes_per_element_, " bytes)"));
    }
  }
  // A span, log record or data point.
  void Item() {
    if (++items_ > max_items_) {
      Fail(
          absl::StrCat("more spans, log records or data points than "
                       "limits.max_events_per_request (",
                       max_items_, ")"));
    }
    Element();
  }

  // One AnyValue level (arrays and key-value lists nest), for its scope.
  class Nested {
   public:
    explicit Nested(Context& c) : c_(c) {
      if (++c_.depth_ > kMaxNesting) {
        c_.Fail(
            absl::StrCat("nesting too deep (AnyValue arrays and "
                         "key-value lists more than ",
                         kMaxNesting, " levels)"));
      }
    }
    ~Nested() { --c_.depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;

   private:
    Context& c_;
  };

 private:
  static constexpr size_t kMaxPathChars = 150;
  static constexpr size_t kMaxMessageChars = 299;

  // The path of scopes, a fixed array since a Scope is made per field:
  // beyond kMaxPath (only under deeply nested AnyValues) segments are
  // counted, not kept, and a message names the outer ones.
  static constexpr size_t kMaxPath = 96;
  std::array<std::pair<std::string_view, int64_t>, kMaxPath> path_;
  size_t depth_path_ = 0;
  const int64_t bytes_per_element_;
  int64_t budget_;
  int64_t items_ = 0;
  const int64_t max_items_;
  int depth_ = 0;
};

StatusCode ToStatusCode(int64_t code) {
  // Unknown codes (a newer spec) read as unset, as proto3 enums do.
  return code == 1   ? StatusCode::kOk
         : code == 2 ? StatusCode::kError
                     : StatusCode::kUnset;
}

Temporality ToTemporality(int64_t t) {
  return t == 1   ? Temporality::kDelta
         : t == 2 ? Temporality::kCumulative
                  : Temporality::kUnspecified;
}

// The histogram checks both encodings share.
void CheckHistogram(Context& c, const HistogramPoint& p) {
  if (!p.bucket_counts.empty() &&
      p.bucket_counts.size() != p.explicit_bounds.size() + 1) {
    c.Fail(absl::StrCat("bucket_counts has ", p.bucket_counts.size(),
                        " entries for ", p.explicit_bounds.size(),
                        " explicit_bounds (must be one more, or none)"));
  }
  for (size_t i = 0; i < p.explicit_bounds.size(); ++i) {
    if (!std::isfinite(p.explicit_bounds[i]) ||
        (i > 0 && p.explicit_bounds[i] <= p.explicit_bounds[i - 1])) {
      c.Fail("explicit_bounds must be finite and strictly increasing");
    }
  }
  if (!p.bucket_counts.empty()) {
    uint64_t total = 0;
    for (uint64_t n : p.bucket_counts) {
      if (n > UINT64_MAX - total) c.Fail("bucket_counts overflow");
      total += n;
    }
    if (total != p.count) {
      c.Fail(absl::StrCat("bucket_counts add up to ", total, ", count is ",
                          p.count));
    }
  }
  if (p.sum && !std::isfinite(*p.sum)) c.Fail("sum must be finite");
}

// --- Protobuf ---------------------------------------------------------------
// Field numbers: opentelemetry-proto v1.9.0, opentelemetry/proto/... as
// noted at each message.

class ProtoDecoder {
 public:
  explicit ProtoDecoder(Context& c) : c_(c) {}

  // collector/trace/v1/trace_service.proto ExportTraceServiceRequest:
  // resource_spans = 1. trace/v1/trace.proto ResourceSpans: resource = 1,
  // scope_spans = 2; ScopeSpans: spans = 2.
  TracesRequest Traces(std::string_view body) {
    TracesRequest out;
    Nest(body, {"resource_spans", "scope_spans", "spans"}, out.resource_spans,
         [&](ResourceSpans& rs, std::string_view span) {
           rs.spans.push_back(SpanOf(span));
         });
    return out;
  }

  // collector/logs/v1/logs_service.proto ExportLogsServiceRequest:
  // resource_logs = 1. logs/v1/logs.proto ResourceLogs: resource = 1,
  // scope_logs = 2; ScopeLogs: log_records = 2.
  LogsRequest Logs(std::string_view body) {
    LogsRequest out;
    Nest(body, {"resource_logs", "scope_logs", "log_records"},
         out.resource_logs, [&](ResourceLogs& rl, std::string_view record) {
           rl.log_records.push_back(LogRecordOf(record));
         });
    return out;
  }

  // collector/metrics/v1/metrics_service.proto
  // ExportMetricsServiceRequest: resource_metrics = 1. metrics/v1/
  // metrics.proto ResourceMetrics: resource = 1, scope_metrics = 2;
  // ScopeMetrics: metrics = 2.
  MetricsRequest Metrics(std::string_view body) {
    MetricsRequest out;
    Nest(body, {"resource_metrics", "scope_metrics", "metrics"},
         out.resource_metrics, [&](ResourceMetrics& rm, std::string_view m) {
           rm.metrics.push_back(MetricOf(m));
         });
    return out;
  }

 private:
  struct Names {
    std::string_view resources, scopes, items;
  };

  // The shape the three requests share, with the numbers cited above: the
  // request's resources = 1; each resource's resource = 1 and scopes = 2;
  // each scope's items = 2 (its InstrumentationScope, 1, and schema_url, 3,
  // are not read). Scopes are flattened: item_of(resource, bytes) appends.
  template <typename R, typename ItemOf>
  void Nest(std::string_view body, const Names& names, std::vector<R>& out,
            ItemOf&& item_of) {
    Fields(body, [&](const WireField& f) {
      if (f.number != 1) return;
      Context::Scope s(c_, names.resources, static_cast<int64_t>(out.size()));
      R& r = out.emplace_back();
      int64_t scopes = 0;
      Fields(Message(f, names.resources), [&](const WireField& g) {
        if (g.number == 1) {
          ResourceOf(Message(g, "resource"), r.resource);
        } else if (g.number == 2) {
          Context::Scope ss(c_, names.scopes, scopes++);
          int64_t items = 0;
          Fields(Message(g, names.scopes), [&](const WireField& h) {
            if (h.number != 2) return;
            Context::Scope is(c_, names.items, items++);
            item_of(r, Message(h, names.items));
          });
        }
      });
    });
  }

  template <typename OnField>
  void Fields(std::string_view message, OnField&& on_field) {
    detail::WireReader r(message);
    WireField f;
    while (r.Next(f)) on_field(f);
    if (!r.error().empty()) c_.Fail(r.error());
  }

  void Expect(const WireField& f, WireType type, std::string_view name) {
    if (f.type != type) {
      c_.Fail(absl::StrCat(c_.Field(name), "wire type ",
                           detail::WireTypeName(f.type), ", expected ",
                           detail::WireTypeName(type)));
    }
  }
  std::string_view Message(const WireField& f, std::string_view name) {
    Expect(f, WireType::kLengthDelimited, name);
    return f.bytes;
  }
  // proto3 `string`: valid UTF-8, or the message is malformed. Most are
  // short ASCII (keys, names, ids), checked here without the dispatch
  // into simdjson's validator.
  std::string_view String(const WireField& f, std::string_view name) {
    Expect(f, WireType::kLengthDelimited, name);
    if (!IsAscii(f.bytes) &&
        !simdjson::validate_utf8(f.bytes.data(), f.bytes.size())) {
      c_.Fail(absl::StrCat(c_.Field(name), "not valid UTF-8"));
    }
    return f.bytes;
  }
  uint64_t Fixed64(const WireField& f, std::string_view name) {
    Expect(f, WireType::kFixed64, name);
    return f.value;
  }
  uint64_t Varint(const WireField& f, std::string_view name) {
    Expect(f, WireType::kVarint, name);
    return f.value;
  }

  // resource/v1/resource.proto Resource: attributes = 1.
  void ResourceOf(std::string_view bytes, Attributes& out) {
    Context::Scope s(c_, "resource");
    Fields(bytes, [&](const WireField& f) {
      if (f.number == 1) AttributeOf(f, out);
    });
  }

  // A repeated KeyValue field (attributes), appended to `out`.
  void AttributeOf(const WireField& f, Attributes& out) {
    Context::Scope s(c_, "attributes", static_cast<int64_t>(out.size()));
    c_.Element();
    Attribute& a = out.emplace_back();
    KeyValueOf(Message(f, "attributes"), a);
  }

  // common/v1/common.proto KeyValue: key = 1, value = 2.
  void KeyValueOf(std::string_view bytes, Attribute& out) {
    Fields(bytes, [&](const WireField& g) {
      if (g.number == 1) {
        out.key = String(g, "key");
      } else if (g.number == 2) {
        Context::Scope s(c_, "value");
        out.value = Value(Message(g, "value"));
      }
    });
  }

  // common/v1/common.proto AnyValue: string_value = 1, bool_value = 2,
  // int_value = 3, double_value = 4, array_value = 5 (ArrayValue: values
  // = 1, AnyValue), kvlist_value = 6 (KeyValueList: values = 1,
  // KeyValue), bytes_value = 7. A oneof: the last one present wins.
  AttributeValue Value(std::string_view bytes) {
    Context::Nested nested(c_);
    AttributeValue v;
    Fields(bytes, [&](const WireField& f) {
      switch (f.number) {
        case 1:
          v = String(f, "string_value");
          break;
        case 2:
          v = Varint(f, "bool_value") != 0;
          break;
        case 3:
          v = static_cast<int64_t>(Varint(f, "int_value"));
          break;
        case 4:
          v = std::bit_cast<double>(Fixed64(f, "double_value"));
          break;
        case 5:
        case 6: {
          // Checked all the way down, then kept as "other".
          const bool array = f.number == 5;
          Context::Scope s(c_, array ? "array_value" : "kvlist_value");
          int64_t i = 0;
          Fields(Message(f, array ? "array_value" : "kvlist_value"),
                 [&](const WireField& g) {
                   if (g.number != 1) return;
                   Context::Scope e(c_, "values", i++);
                   c_.Element();
                   if (array) {
                     Value(Message(g, "values"));
                   } else {
                     Attribute ignored;
                     KeyValueOf(Message(g, "values"), ignored);
                   }
                 });
          v = OtherValue{};
          break;
        }
        case 7:
          Expect(f, WireType::kLengthDelimited, "bytes_value");
          v = OtherValue{};
          break;
      }
    });
    return v;
  }

  // trace/v1/trace.proto Span: name = 5, start_time_unix_nano = 7,
  // end_time_unix_nano = 8 (fixed64), attributes = 9, events = 11,
  // status = 15. Span.Event: time_unix_nano = 1, name = 2, attributes = 3.
  // Status: message = 2, code = 3.
  Span SpanOf(std::string_view bytes) {
    c_.Item();
    Span span;
    Fields(bytes, [&](const WireField& f) {
      switch (f.number) {
        case 1:  // not kept
          Expect(f, WireType::kLengthDelimited, "trace_id");
          break;
        case 2:
          Expect(f, WireType::kLengthDelimited, "span_id");
          break;
        case 5:
          span.name = String(f, "name");
          break;
        case 7:
          span.start_time_unix_nano = Fixed64(f, "start_time_unix_nano");
          break;
        case 8:
          span.end_time_unix_nano = Fixed64(f, "end_time_unix_nano");
          break;
        case 9:
          AttributeOf(f, span.attributes);
          break;
        case 11: {
          Context::Scope s(c_, "events",
                           static_cast<int64_t>(span.events.size()));
          c_.Element();
          SpanEvent& e = span.events.emplace_back();
          Fields(Message(f, "events"), [&](const WireField& g) {
            if (g.number == 1) {
              e.time_unix_nano = Fixed64(g, "time_unix_nano");
            } else if (g.number == 2) {
              e.name = String(g, "name");
            } else if (g.number == 3) {
              AttributeOf(g, e.attributes);
            }
          });
          break;
        }
        case 15: {
          Context::Scope s(c_, "status");
          Fields(Message(f, "status"), [&](const WireField& g) {
            if (g.number == 2) {
              span.status_message = String(g, "message");
            } else if (g.number == 3) {
              span.status_code =
                  ToStatusCode(static_cast<int64_t>(Varint(g, "code")));
            }
          });
          break;
        }
      }
    });
    return span;
  }

  // logs/v1/logs.proto LogRecord: time_unix_nano = 1 (fixed64), body = 5,
  // attributes = 6, observed_time_unix_nano = 11 (fixed64), event_name =
  // 12.
  LogRecord LogRecordOf(std::string_view bytes) {
    c_.Item();
    LogRecord r;
    Fields(bytes, [&](const WireField& f) {
      switch (f.number) {
        case 1:
          r.time_unix_nano = Fixed64(f, "time_unix_nano");
          break;
        case 5: {
          Context::Scope s(c_, "body");
          r.body = Value(Message(f, "body"));
          break;
        }
        case 6:
          AttributeOf(f, r.attributes);
          break;
        case 11:
          r.observed_time_unix_nano = Fixed64(f, "observed_time_unix_nano");
          break;
        case 12:
          r.event_name = String(f, "event_name");
          break;
      }
    });
    return r;
  }

  // metrics/v1/metrics.proto Metric: name = 1, unit = 3, and the oneof
  // data: gauge = 5, sum = 7, histogram = 9, exponential_histogram = 10,
  // summary = 11 (the last one present wins). Each of those: data_points =
  // 1; Histogram: aggregation_temporality = 2 (an enum, varint).
  Metric MetricOf(std::string_view bytes) {
    c_.Element();
    Metric m;
    Fields(bytes, [&](const WireField& f) {
      switch (f.number) {
        case 1:
          m.name = String(f, "name");
          break;
        case 3:
          m.unit = String(f, "unit");
          break;
        case 9: {
          Context::Scope s(c_, "histogram");
          ResetData(m, Metric::Type::kHistogram);
          int64_t i = 0;
          Fields(Message(f, "histogram"), [&](const WireField& g) {
            if (g.number == 1) {
              Context::Scope p(c_, "data_points", i++);
              m.points.push_back(PointOf(Message(g, "data_points")));
            } else if (g.number == 2) {
              m.temporality = ToTemporality(
                  static_cast<int64_t>(Varint(g, "aggregation_temporality")));
            }
          });
          break;
        }
        case 5:
        case 7:
        case 10:
        case 11: {
          const std::string_view name = f.number == 5   ? "gauge"
                                        : f.number == 7 ? "sum"
                                        : f.number == 10
                                            ? "exponential_histogram"
                                            : "summary";
          Context::Scope s(c_, name);
          ResetData(m, Metric::Type::kOther);
          int64_t i = 0;
          Fields(Message(f, name), [&](const WireField& g) {
            if (g.number != 1) return;
            Context::Scope p(c_, "data_points", i++);
            Message(g, "data_points");  // counted, not read
            c_.Item();
            ++m.other_points;
          });
          break;
        }
      }
    });
    return m;
  }

  // A later member of Metric's oneof replaces an earlier one.
  static void ResetData(Metric& m, Metric::Type type) {
    m.type = type;
    m.temporality = Temporality::kUnspecified;
    m.points.clear();
    m.other_points = 0;
  }

  // metrics/v1/metrics.proto HistogramDataPoint: start_time_unix_nano = 2,
  // time_unix_nano = 3, count = 4 (fixed64), sum = 5 (double),
  // bucket_counts = 6 (repeated fixed64), explicit_bounds = 7 (repeated
  // double), attributes = 9. Repeated scalars come packed (proto3's
  // default) or one per field; both are read.
  HistogramPoint PointOf(std::string_view bytes) {
    c_.Item();
    HistogramPoint p;
    Fields(bytes, [&](const WireField& f) {
      switch (f.number) {
        case 2:
          p.start_time_unix_nano = Fixed64(f, "start_time_unix_nano");
          break;
        case 3:
          p.time_unix_nano = Fixed64(f, "time_unix_nano");
          break;
        case 4:
          p.count = Fixed64(f, "count");
          break;
        case 5:
          p.sum = std::bit_cast<double>(Fixed64(f, "sum"));
          break;
        case 6:
          Repeated64(f, "bucket_counts",
                     [&](uint64_t v) { p.bucket_counts.push_back(v); });
          break;
        case 7:
          Repeated64(f, "explicit_bounds", [&](uint64_t v) {
            p.explicit_bounds.push_back(std::bit_cast<double>(v));
          });
          break;
        case 9:
          AttributeOf(f, p.attributes);
          break;
      }
    });
    CheckHistogram(c_, p);
    return p;
  }

  template <typename Add>
  void Repeated64(const WireField& f, std::string_view name, Add&& add) {
    if (f.type == WireType::kFixed64) {
      c_.Element();
      add(f.value);
      return;
    }
    Expect(f, WireType::kLengthDelimited, name);
    if (f.bytes.size() % 8 != 0) {
      c_.Fail(
          absl::StrCat(c_.Field(name), "packed length is not a multiple of 8"));
    }
    for (size_t i = 0; i < f.bytes.size(); i += 8) {
      uint64_t v = 0;
      std::memcpy(&v, f.bytes.data() + i, 8);  // little-endian on the wire
      if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
      }
      c_.Element();
      add(v);
    }
  }

  Context& c_;
};

// --- JSON -------------------------------------------------------------------
// The OTLP JSON mapping (https://opentelemetry.io/docs/specs/otlp/#json-
// protobuf-encoding): the same messages, keys in lowerCamelCase (the
// original snake_case names are accepted too), 64-bit integers as numbers
// or decimal strings, enums as numbers or names, trace and span ids hex.

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

class JsonDecoder {
 public:
  explicit JsonDecoder(Context& c) : c_(c) {}

  TracesRequest Traces(element root) {
    TracesRequest out;
    Each(Object(root, ""), "resourceSpans", "resource_spans", [&](element e) {
      ResourceSpans& rs = out.resource_spans.emplace_back();
      object o = Object(e, "resource_spans");
      ResourceOf(o, rs.resource);
      Each(o, "scopeSpans", "scope_spans", [&](element ss) {
        Each(Object(ss, "scope_spans"), "spans", "spans", [&](element s) {
          rs.spans.push_back(SpanOf(Object(s, "spans")));
        });
      });
    });
    return out;
  }

  LogsRequest Logs(element root) {
    LogsRequest out;
    Each(Object(root, ""), "resourceLogs", "resource_logs", [&](element e) {
      ResourceLogs& rl = out.resource_logs.emplace_back();
      object o = Object(e, "resource_logs");
      ResourceOf(o, rl.resource);
      Each(o, "scopeLogs", "scope_logs", [&](element sl) {
        Each(Object(sl, "scope_logs"), "logRecords", "log_records",
             [&](element r) {
               rl.log_records.push_back(LogRecordOf(Object(r, "log_records")));
             });
      });
    });
    return out;
  }

  MetricsRequest Metrics(element root) {
    MetricsRequest out;
    Each(Object(root, ""), "resourceMetrics", "resource_metrics",
         [&](element e) {
           ResourceMetrics& rm = out.resource_metrics.emplace_back();
           object o = Object(e, "resource_metrics");
           ResourceOf(o, rm.resource);
           Each(o, "scopeMetrics", "scope_metrics", [&](element sm) {
             Each(Object(sm, "scope_metrics"), "metrics", "metrics",
                  [&](element m) {
                    rm.metrics.push_back(MetricOf(Object(m, "metrics")));
                  });
           });
         });
    return out;
  }

 private:
  [[noreturn]] void WrongType(element e, std::string_view name,
                              std::string_view want) {
    c_.Fail(absl::StrCat(c_.Field(name), "must be ", util::ToAbsl(want),
                         ", got ", ingest::JsonTypeName(e.type())));
  }

  // The field under its lowerCamelCase or original name; nullopt when
  // absent or null (the mapping's "default value").
  static std::optional<element> Get(object o, std::string_view camel,
                                    std::string_view snake) {
    element e;
    if (o[camel].get(e) != simdjson::SUCCESS &&
        (camel == snake || o[snake].get(e) != simdjson::SUCCESS)) {
      return std::nullopt;
    }
    if (e.type() == element_type::NULL_VALUE) return std::nullopt;
    return e;
  }

  object Object(element e, std::string_view name) {
    object o;
    if (e.get(o) != simdjson::SUCCESS) WrongType(e, name, "an object");
    return o;
  }

  // Calls f(element) for each entry of the array field, in a path scope.
  template <typename F>
  void Each(object o, std::string_view camel, std::string_view snake, F&& f) {
    std::optional<element> e = Get(o, camel, snake);
    if (!e) return;
    simdjson::dom::array a;
    if (e->get(a) != simdjson::SUCCESS) WrongType(*e, snake, "an array");
    int64_t i = 0;
    for (element item : a) {
      Context::Scope s(c_, snake, i++);
      f(item);
    }
  }

  std::string_view String(element e, std::string_view name) {
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS) WrongType(e, name, "a string");
    return s;
  }

  // uint64/fixed64: a non-negative JSON integer or a decimal string (an
  // integral number in exponent form, 1.8e18, too).
  uint64_t Uint64(element e, std::string_view name) {
    uint64_t v = 0;
    if (e.type() == element_type::UINT64 || e.type() == element_type::INT64) {
      if (e.get(v) == simdjson::SUCCESS) return v;
    } else if (e.type() == element_type::DOUBLE) {
      const double d = e.get_double().value_unsafe();
      // 0x1p64: 2^64, the first double past the range.
      if (d >= 0 && d < 0x1p64 && std::trunc(d) == d) {
        return static_cast<uint64_t>(d);
      }
    } else if (e.type() == element_type::STRING) {
      if (absl::SimpleAtoi(util::ToAbsl(String(e, name)), &v)) return v;
    }
    WrongType(e, name, "a non-negative integer (a number or a decimal string)");
  }

  int64_t Int64(element e, std::string_view name) {
    int64_t v = 0;
    if (e.type() == element_type::INT64) {
      if (e.get(v) == simdjson::SUCCESS) return v;
    } else if (e.type() == element_type::DOUBLE) {
      const double d = e.get_double().value_unsafe();
      if (d >= -0x1p63 && d < 0x1p63 && std::trunc(d) == d) {
        return static_cast<int64_t>(d);
      }
    } else if (e.type() == element_type::STRING) {
      if (absl::SimpleAtoi(util::ToAbsl(String(e, name)), &v)) return v;
    }
    WrongType(e, name, "a 64-bit integer (a number or a decimal string)");
  }

  // double: a number, or "NaN", "Infinity", "-Infinity" (the mapping's
  // spellings), or a number in a string.
  double Double(element e, std::string_view name) {
    if (e.type() == element_type::DOUBLE || e.type() == element_type::INT64 ||
        e.type() == element_type::UINT64) {
      return e.get_double().value_unsafe();
    }
    if (e.type() == element_type::STRING) {
      const std::string_view s = String(e, name);
      if (s == "NaN") return std::nan("");
      if (s == "Infinity") return HUGE_VAL;
      if (s == "-Infinity") return -HUGE_VAL;
      double v = 0;
      if (absl::SimpleAtod(util::ToAbsl(s), &v)) return v;
    }
    WrongType(e, name, "a number");
  }

  // An enum: its number, or its name from `names` (indexed by number).
  int64_t Enum(element e, std::string_view name,
               std::initializer_list<std::string_view> names) {
    if (e.type() == element_type::STRING) {
      const std::string_view s = String(e, name);
      int64_t i = 0;
      for (std::string_view n : names) {
        if (s == n) return i;
        ++i;
      }
      c_.Fail(absl::StrCat(c_.Field(name), "unknown enum value name"));
    }
    int64_t v = 0;
    if (e.get(v) != simdjson::SUCCESS) WrongType(e, name, "an enum");
    return v;
  }

  void ResourceOf(object o, Attributes& out) {
    std::optional<element> r = Get(o, "resource", "resource");
    if (!r) return;
    Context::Scope s(c_, "resource");
    AttributesOf(Object(*r, "resource"), out);
  }

  // The `attributes` array of `o`, appended to `out`.
  void AttributesOf(object o, Attributes& out) {
    Each(o, "attributes", "attributes", [&](element e) {
      c_.Element();
      KeyValueOf(Object(e, "attributes"), out.emplace_back());
    });
  }

  void KeyValueOf(object kv, Attribute& out) {
    if (std::optional<element> k = Get(kv, "key", "key")) {
      out.key = String(*k, "key");
    }
    if (std::optional<element> v = Get(kv, "value", "value")) {
      Context::Scope s(c_, "value");
      out.value = Value(*v);
    }
  }

  // AnyValue: an object with one of stringValue, boolValue, intValue,
  // doubleValue, arrayValue {values: [AnyValue]}, kvlistValue {values:
  // [KeyValue]}, bytesValue (base64); none is the absent value.
  AttributeValue Value(element e) {
    Context::Nested nested(c_);
    object o = Object(e, "");
    AttributeValue v;
    if (std::optional<element> x = Get(o, "stringValue", "string_value")) {
      v = String(*x, "string_value");
    } else if (std::optional<element> b = Get(o, "boolValue", "bool_value")) {
      bool value = false;
      if (b->get(value) != simdjson::SUCCESS) {
        WrongType(*b, "bool_value", "a bool");
      }
      v = value;
    } else if (std::optional<element> i = Get(o, "intValue", "int_value")) {
      v = Int64(*i, "int_value");
    } else if (std::optional<element> d =
                   Get(o, "doubleValue", "double_value")) {
      v = Double(*d, "double_value");
    } else if (std::optional<element> a = Get(o, "arrayValue", "array_value")) {
      Context::Scope s(c_, "array_value");
      Each(Object(*a, "array_value"), "values", "values", [&](element item) {
        c_.Element();
        Value(item);
      });
      v = OtherValue{};
    } else if (std::optional<element> kv =
                   Get(o, "kvlistValue", "kvlist_value")) {
      Context::Scope s(c_, "kvlist_value");
      Each(Object(*kv, "kvlist_value"), "values", "values", [&](element item) {
        c_.Element();
        Attribute ignored;
        KeyValueOf(Object(item, "values"), ignored);
      });
      v = OtherValue{};
    } else if (std::optional<element> by =
                   Get(o, "bytesValue", "bytes_value")) {
      String(*by, "bytes_value");  // base64, not kept
      v = OtherValue{};
    }
    return v;
  }

  // traceId, spanId: hex strings, not kept.
  void Id(object o, std::string_view camel, std::string_view snake) {
    if (std::optional<element> e = Get(o, camel, snake)) String(*e, snake);
  }

  uint64_t Time(object o, std::string_view camel, std::string_view snake) {
    std::optional<element> e = Get(o, camel, snake);
    return e ? Uint64(*e, snake) : 0;
  }

  Span SpanOf(object o) {
    c_.Item();
    Span span;
    Id(o, "traceId", "trace_id");
    Id(o, "spanId", "span_id");
    if (std::optional<element> n = Get(o, "name", "name")) {
      span.name = String(*n, "name");
    }
    span.start_time_unix_nano =
        Time(o, "startTimeUnixNano", "start_time_unix_nano");
    span.end_time_unix_nano = Time(o, "endTimeUnixNano", "end_time_unix_nano");
    AttributesOf(o, span.attributes);
    Each(o, "events", "events", [&](element e) {
      c_.Element();
      object eo = Object(e, "events");
      SpanEvent& ev = span.events.emplace_back();
      ev.time_unix_nano = Time(eo, "timeUnixNano", "time_unix_nano");
      if (std::optional<element> n = Get(eo, "name", "name")) {
        ev.name = String(*n, "name");
      }
      AttributesOf(eo, ev.attributes);
    });
    if (std::optional<element> st = Get(o, "status", "status")) {
      Context::Scope s(c_, "status");
      object so = Object(*st, "status");
      if (std::optional<element> m = Get(so, "message", "message")) {
        span.status_message = String(*m, "message");
      }
      if (std::optional<element> code = Get(so, "code", "code")) {
        span.status_code = ToStatusCode(
            Enum(*code, "code",
                 {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}));
      }
    }
    return span;
  }

  LogRecord LogRecordOf(object o) {
    c_.Item();
    LogRecord r;
    r.time_unix_nano = Time(o, "timeUnixNano", "time_unix_nano");
    r.observed_time_unix_nano =
        Time(o, "observedTimeUnixNano", "observed_time_unix_nano");
    if (std::optional<element> n = Get(o, "eventName", "event_name")) {
      r.event_name = String(*n, "event_name");
    }
    if (std::optional<element> b = Get(o, "body", "body")) {
      Context::Scope s(c_, "body");
      r.body = Value(*b);
    }
    AttributesOf(o, r.attributes);
    return r;
  }

  // A metric's data is one of histogram, gauge, sum, exponentialHistogram,
  // summary; with more than one (malformed), histogram wins, else the
  // others' points are added up.
  Metric MetricOf(object o) {
    c_.Element();
    Metric m;
    if (std::optional<element> n = Get(o, "name", "name")) {
      m.name = String(*n, "name");
    }
    if (std::optional<element> u = Get(o, "unit", "unit")) {
      m.unit = String(*u, "unit");
    }
    if (std::optional<element> h = Get(o, "histogram", "histogram")) {
      Context::Scope s(c_, "histogram");
      m.type = Metric::Type::kHistogram;
      object ho = Object(*h, "histogram");
      if (std::optional<element> t =
              Get(ho, "aggregationTemporality", "aggregation_temporality")) {
        m.temporality =
            ToTemporality(Enum(*t, "aggregation_temporality",
                               {"AGGREGATION_TEMPORALITY_UNSPECIFIED",
                                "AGGREGATION_TEMPORALITY_DELTA",
                                "AGGREGATION_TEMPORALITY_CUMULATIVE"}));
      }
      Each(ho, "dataPoints", "data_points", [&](element p) {
        m.points.push_back(PointOf(Object(p, "data_points")));
      });
      return m;
    }
    for (auto [camel, snake] :
         {std::pair{"gauge", "gauge"}, std::pair{"sum", "sum"},
          std::pair{"exponentialHistogram", "exponential_histogram"},
          std::pair{"summary", "summary"}}) {
      std::optional<element> d = Get(o, camel, snake);
      if (!d) continue;
      Context::Scope s(c_, snake);
      Each(Object(*d, snake), "dataPoints", "data_points", [&](element p) {
        Object(p, "data_points");  // counted, not read
        c_.Item();
        ++m.other_points;
      });
    }
    return m;
  }

  HistogramPoint PointOf(object o) {
    c_.Item();
    HistogramPoint p;
    p.start_time_unix_nano =
        Time(o, "startTimeUnixNano", "start_time_unix_nano");
    p.time_unix_nano = Time(o, "timeUnixNano", "time_unix_nano");
    if (std::optional<element> c = Get(o, "count", "count")) {
      p.count = Uint64(*c, "count");
    }
    if (std::optional<element> s = Get(o, "sum", "sum")) {
      p.sum = Double(*s, "sum");
    }
    Each(o, "bucketCounts", "bucket_counts", [&](element e) {
      c_.Element();
      p.bucket_counts.push_back(Uint64(e, "bucket_counts"));
    });
    Each(o, "explicitBounds", "explicit_bounds", [&](element e) {
      c_.Element();
      p.explicit_bounds.push_back(Double(e, "explicit_bounds"));
    });
    AttributesOf(o, p.attributes);
    CheckHistogram(c_, p);
    return p;
  }

  Context& c_;
};

template <typename Request, typename FromProto, typename FromJson>
absl::StatusOr<Request> Decode(Encoding encoding, std::string_view body,
                               const DecodeLimits& limits,
                               FromProto&& from_proto, FromJson&& from_json) {
  Context c(body, limits);
  try {
    if (encoding == Encoding::kProtobuf) {
      ProtoDecoder d(c);
      return from_proto(d, body);
    }
    // The parser owns the unescaped strings the request's views point to.
    auto parser = std::make_shared<simdjson::dom::parser>();
    element root;
    if (const auto error = parser->parse(body.data(), body.size()).get(root);
        error != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("not JSON: ", simdjson::error_message(error)));
    }
    JsonDecoder d(c);
    Request r = from_json(d, root);
    r.storage = std::move(parser);
    return r;
  } catch (DecodeFailure& f) {
    return absl::InvalidArgumentError(std::move(f.message));
  }
}

}  // namespace

absl::StatusOr<TracesRequest> DecodeTraces(Encoding encoding,
                                           std::string_view body,
                                           const DecodeLimits& limits) {
  return Decode<TracesRequest>(
      encoding, body, limits,
      [](ProtoDecoder& d, std::string_view b) { return d.Traces(b); },
      [](JsonDecoder& d, element root) { return d.Traces(root); });
}

absl::StatusOr<LogsRequest> DecodeLogs(Encoding encoding, std::string_view body,
                                       const DecodeLimits& limits) {
  return Decode<LogsRequest>(
      encoding, body, limits,
      [](ProtoDecoder& d, std::string_view b) { return d.Logs(b); },
      [](JsonDecoder& d, element root) { return d.Logs(root); });
}

absl::StatusOr<MetricsRequest> DecodeMetrics(Encoding encoding,
                                             std::string_view body,
                                             const DecodeLimits& limits) {
  return Decode<MetricsRequest>(
      encoding, body, limits,
      [](ProtoDecoder& d, std::string_view b) { return d.Metrics(b); },
      [](JsonDecoder& d, element root) { return d.Metrics(root); });
}

}  // namespace aiq::otlp
