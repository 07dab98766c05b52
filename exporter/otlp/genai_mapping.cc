#include "exporter/otlp/genai_mapping.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "exporter/ingest/field_checks.h"
#include "exporter/util/absl_compat.h"

namespace aiq::otlp {

using ingest::EventKind;
using ingest::RejectReason;

namespace {

// Thrown only inside this file, caught per item (as in the JSON decoder):
// one refusal per span, span event or log record.
struct Refusal {
  RejectReason reason;
  std::string message;
};

[[noreturn]] void Refuse(RejectReason reason, std::string_view field,
                         std::string_view what) {
  throw Refusal{reason,
                absl::StrCat(util::ToAbsl(field), ": ", util::ToAbsl(what))};
}

const char* TypeName(const AttributeValue& v) {
  switch (v.index()) {
    case 0:
      return "empty";
    case 1:
      return "string";
    case 2:
      return "bool";
    case 3:
      return "int";
    case 4:
      return "double";
    default:
      return "array, kvlist or bytes";
  }
}

// The attribute `key` as event text: nullopt when absent; refused when not
// a string or not acceptable text (field_checks.h).
std::optional<std::string_view> Text(const Attributes& attributes,
                                     std::string_view key, int64_t max_bytes,
                                     bool label) {
  const AttributeValue* v = FindAttribute(attributes, key);
  if (v == nullptr || std::holds_alternative<std::monostate>(*v)) {
    return std::nullopt;
  }
  const auto* s = std::get_if<std::string_view>(v);
  if (s == nullptr) {
    Refuse(RejectReason::kInvalidField, key,
           absl::StrCat("must be a string, got ", TypeName(*v)));
  }
  if (s->empty()) Refuse(RejectReason::kInvalidField, key, "must not be empty");
  if (std::optional<ingest::TextProblem> p =
          ingest::CheckText(*s, max_bytes, label)) {
    Refuse(p->reason, key, p->what);
  }
  return *s;
}

// A token count: a non-negative int (or a double holding one exactly, as
// some SDKs send numbers), under `key` or its deprecated `alias`.
std::optional<int64_t> Count(const Attributes& attributes, std::string_view key,
                             std::string_view alias) {
  std::string_view field = key;
  const AttributeValue* v = FindAttribute(attributes, key);
  if (v == nullptr) {
    field = alias;
    v = FindAttribute(attributes, alias);
  }
  if (v == nullptr || std::holds_alternative<std::monostate>(*v)) {
    return std::nullopt;
  }
  if (const auto* i = std::get_if<int64_t>(v)) {
    if (*i < 0) Refuse(RejectReason::kOutOfRange, field, "must be >= 0");
    return *i;
  }
  if (const auto* d = std::get_if<double>(v)) {
    // Above 2^53 a double is not an exact count.
    if (*d >= 0 && *d <= 9007199254740992.0 && std::floor(*d) == *d) {
      return static_cast<int64_t>(*d);
    }
    Refuse(RejectReason::kOutOfRange, field,
           "must be a non-negative integer (exact up to 2^53 as a double, "
           "2^63 - 1 as an int)");
  }
  Refuse(RejectReason::kInvalidField, field,
         absl::StrCat("must be an int, got ", TypeName(*v)));
}

// gen_ai.evaluation.score.value: any finite number.
std::optional<double> Score(const Attributes& attributes) {
  const AttributeValue* v = FindAttribute(attributes, semconv::kScoreValue);
  if (v == nullptr || std::holds_alternative<std::monostate>(*v)) {
    return std::nullopt;
  }
  double score = 0;
  if (const auto* d = std::get_if<double>(v)) {
    score = *d;
  } else if (const auto* i = std::get_if<int64_t>(v)) {
    score = static_cast<double>(*i);
  } else {
    Refuse(RejectReason::kInvalidField, semconv::kScoreValue,
           absl::StrCat("must be a number, got ", TypeName(*v)));
  }
  if (!std::isfinite(score)) {
    Refuse(RejectReason::kOutOfRange, semconv::kScoreValue, "must be finite");
  }
  return score;
}

// An item's time (Unix nanoseconds; 0 = unset): checked like the JSON
// API's timestamps; `now` when unset.
absl::Time ItemTime(uint64_t unix_nanos, std::string_view field,
                    absl::Time now) {
  if (unix_nanos == 0) return now;
  // Past 2262 (int64 nanoseconds) is out of range anyway.
  const absl::Time t = absl::FromUnixNanos(static_cast<int64_t>(
      std::min<uint64_t>(unix_nanos, std::numeric_limits<int64_t>::max())));
  if (std::optional<ingest::TextProblem> p = ingest::CheckEventTime(t, now)) {
    Refuse(p->reason, field, p->what);
  }
  return t;
}

// The items of one request: numbers them, turns each into an event or a
// refusal.
class Mapping {
 public:
  Mapping(const config::Config& config,
          const absl::flat_hash_map<std::string, int>& services, absl::Time now,
          MappedRequest& out)
      : config_(config), services_(services), now_(now), out_(out) {}

  // Resolves the model of the resource's items (or why there is none).
  void BeginResource(int32_t index, const Attributes& resource) {
    resource_ = index;
    model_ = -1;
    const AttributeValue* v = FindAttribute(resource, semconv::kServiceName);
    const auto* name = v ? std::get_if<std::string_view>(v) : nullptr;
    if (name == nullptr) {
      no_model_ = {RejectReason::kUnknownModel,
                   "resource: no service.name string attribute, so no model "
                   "(set OTEL_SERVICE_NAME to a model's otlp.service_name)"};
      return;
    }
    auto it = services_.find(util::ToAbsl(*name));
    if (it == services_.end()) {
      no_model_ = {RejectReason::kUnknownModel,
                   absl::StrCat("service.name: \"", ingest::QuoteBounded(*name),
                                "\" is no model's otlp.service_name")};
      return;
    }
    model_ = it->second;
  }

  void MapSpan(int32_t index, const Span& span) {
    const bool call =
        FindAttribute(span.attributes, semconv::kOperationName) != nullptr;
    bool evaluations = false;
    for (const SpanEvent& e : span.events) {
      evaluations |= e.name == semconv::kEvaluationResult;
    }
    if (!call && !evaluations) {
      ++out_.ignored;
      return;
    }
    if (call) {
      Item({resource_, index, -1, EventKind::kPrediction},
           [&] { return Prediction(span); });
    }
    if (!evaluations) return;
    // What the span's evaluations inherit: the evaluated call's version
    // and id, when they are readable (else each evaluation reports its
    // own problem, if any).
    std::string version;
    std::string id;
    if (model_ >= 0) {
      try {
        version = Version(span.attributes);
        id = Id(span.attributes);
      } catch (const Refusal&) {
      }
    }
    for (size_t j = 0; j < span.events.size(); ++j) {
      const SpanEvent& e = span.events[j];
      if (e.name != semconv::kEvaluationResult) continue;
      Item({resource_, index, static_cast<int32_t>(j), EventKind::kEvaluation},
           [&] {
             return Evaluation(e.attributes, e.time_unix_nano, version, id);
           });
    }
  }

  void MapMetric(int32_t index, const Metric& metric,
                 const Attributes& resource) {
    using Kind = ingest::LatencyPointEvent::Metric;
    std::optional<Kind> kind;
    if (metric.name == semconv::kTimeToFirstToken) {
      kind = Kind::kTimeToFirstToken;
    } else if (metric.name == semconv::kTimePerOutputToken) {
      kind = Kind::kTimePerOutputToken;
    }
    if (!kind) {
      out_.ignored += metric.type == Metric::Type::kHistogram
                          ? static_cast<int64_t>(metric.points.size())
                          : metric.other_points;
      return;
    }
    if (metric.type != Metric::Type::kHistogram) {
      // One refusal per data point, so the counts add up.
      for (int64_t j = 0; j < std::max<int64_t>(1, metric.other_points); ++j) {
        Item({resource_, index, static_cast<int32_t>(j), EventKind::kDataPoint},
             [&]() -> ingest::Event {
               Refuse(RejectReason::kInvalidField, metric.name,
                      "must be an explicit-bucket histogram");
             });
      }
      return;
    }
    for (size_t j = 0; j < metric.points.size(); ++j) {
      Item({resource_, index, static_cast<int32_t>(j), EventKind::kDataPoint},
           [&] { return Point(metric, *kind, metric.points[j], resource); });
    }
  }

  void MapLog(int32_t index, const LogRecord& log) {
    std::string_view name = log.event_name;
    if (name.empty()) {
      const AttributeValue* v =
          FindAttribute(log.attributes, semconv::kEventNameAttribute);
      if (const auto* s = v ? std::get_if<std::string_view>(v) : nullptr) {
        name = *s;
      }
    }
    if (name != semconv::kEvaluationResult) {
      ++out_.ignored;
      return;
    }
    const uint64_t time = log.time_unix_nano != 0 ? log.time_unix_nano
                                                  : log.observed_time_unix_nano;
    Item({resource_, index, -1, EventKind::kEvaluation},
         [&] { return Evaluation(log.attributes, time, "", ""); });
  }

 private:
  template <typename MakeEvent>
  void Item(ItemRef ref, MakeEvent make_event) {
    const int64_t index = static_cast<int64_t>(out_.items.size());
    out_.items.push_back(ref);
    ++out_.decoded.total;
    try {
      out_.decoded.events.push_back({index, make_event()});
    } catch (Refusal& r) {
      out_.decoded.errors.push_back({index, r.reason, std::move(r.message)});
    }
  }

  const config::ModelConfig& Model() const {
    if (model_ < 0) throw no_model_;
    return config_.models[static_cast<size_t>(model_)];
  }

  std::string Version(const Attributes& attributes) const {
    const std::string& key = Model().otlp.version_attribute;
    if (key.empty()) return "";
    return std::string(
        Text(attributes, key, config_.limits.max_string_bytes, true)
            .value_or(""));
  }

  std::string Id(const Attributes& attributes) const {
    return std::string(Text(attributes, semconv::kResponseId,
                            config_.limits.max_string_bytes, false)
                           .value_or(""));
  }

  ingest::Event Prediction(const Span& span) const {
    const config::ModelConfig& m = Model();
    if (m.task != config::Task::kGeneration) {
      Refuse(
          RejectReason::kInvalidField, "service.name",
          absl::StrCat("model \"", m.name, "\" is a ", config::TaskName(m.task),
                       " model; LLM call spans need task: generation"));
    }
    const AttributeValue& op =
        *FindAttribute(span.attributes, semconv::kOperationName);
    if (!std::holds_alternative<std::string_view>(op)) {
      Refuse(RejectReason::kInvalidField, semconv::kOperationName,
             absl::StrCat("must be a string, got ", TypeName(op)));
    }
    ingest::PredictionEvent p;
    p.model = model_;
    p.version = Version(span.attributes);
    p.id = Id(span.attributes);
    if (span.start_time_unix_nano != 0 && span.end_time_unix_nano != 0) {
      if (span.end_time_unix_nano < span.start_time_unix_nano) {
        Refuse(RejectReason::kInvalidField, "end_time_unix_nano",
               "before start_time_unix_nano");
      }
      p.latency_seconds = static_cast<double>(span.end_time_unix_nano -
                                              span.start_time_unix_nano) *
                          1e-9;
    }
    p.timestamp =
        ItemTime(span.end_time_unix_nano != 0 ? span.end_time_unix_nano
                                              : span.start_time_unix_nano,
                 "end_time_unix_nano", now_);
    p.prompt_tokens =
        Count(span.attributes, semconv::kInputTokens, semconv::kPromptTokens);
    p.completion_tokens = Count(span.attributes, semconv::kOutputTokens,
                                semconv::kCompletionTokens);
    if (std::optional<std::string_view> error =
            Text(span.attributes, semconv::kErrorType,
                 config_.limits.max_string_bytes, true)) {
      p.error = std::string(*error);
    } else if (span.status_code == StatusCode::kError) {
      p.error = std::string(semconv::kOtherError);
    }
    return p;
  }

  ingest::Event Evaluation(const Attributes& attributes, uint64_t time,
                           std::string_view call_version,
                           std::string_view call_id) const {
    const int64_t max_bytes = config_.limits.max_string_bytes;
    ingest::EvaluationEvent e;
    e.model = model_;
    Model();  // refuses when the resource has no model
    std::optional<std::string_view> name =
        Text(attributes, semconv::kEvaluationName, max_bytes, true);
    if (!name) {
      Refuse(RejectReason::kMissingField, semconv::kEvaluationName, "required");
    }
    e.evaluator = std::string(*name);
    e.score = Score(attributes);
    if (std::optional<std::string_view> label =
            Text(attributes, semconv::kScoreLabel, max_bytes, true)) {
      e.label = std::string(*label);
    }
    if (!e.score && !e.label) {
      Refuse(RejectReason::kMissingField, semconv::kScoreValue,
             "an evaluation needs a score value, a score label, or both");
    }
    e.id = Id(attributes);
    if (e.id.empty()) e.id = std::string(call_id);
    e.version = Version(attributes);
    if (e.version.empty()) e.version = std::string(call_version);
    e.timestamp = ItemTime(time, "time_unix_nano", now_);
    return e;
  }

  ingest::Event Point(const Metric& metric,
                      ingest::LatencyPointEvent::Metric kind,
                      const HistogramPoint& point,
                      const Attributes& resource) const {
    ingest::LatencyPointEvent p;
    p.model = model_;
    Model();
    // The conventions' unit is seconds; "" is taken to mean it too.
    if (!metric.unit.empty() && metric.unit != "s") {
      Refuse(RejectReason::kInvalidField, "unit",
             absl::StrCat("must be \"s\" (seconds), got \"",
                          ingest::QuoteBounded(metric.unit), "\""));
    }
    if (metric.temporality == Temporality::kUnspecified) {
      Refuse(RejectReason::kInvalidField, "aggregation_temporality",
             "must be delta or cumulative");
    }
    if (point.bucket_counts.empty()) {
      Refuse(RejectReason::kMissingField, "bucket_counts",
             "a data point without buckets has no latencies to count");
    }
    p.metric = kind;
    p.version = Version(point.attributes);
    p.cumulative = metric.temporality == Temporality::kCumulative;
    if (p.cumulative) p.stream = StreamKey(resource, point.attributes);
    p.start_time_unix_nano = point.start_time_unix_nano;
    p.bounds = point.explicit_bounds;
    p.bucket_counts = point.bucket_counts;
    p.sum = point.sum.value_or(0);
    if (p.sum < 0) Refuse(RejectReason::kOutOfRange, "sum", "must be >= 0");
    p.timestamp = ItemTime(point.time_unix_nano, "time_unix_nano", now_);
    return p;
  }

  // A cumulative stream's identity within its model: the resource's and
  // the point's attributes (the metric is added by the model).
  static std::string StreamKey(const Attributes& resource,
                               const Attributes& point) {
    std::string key;
    for (const Attributes* attributes : {&resource, &point}) {
      std::vector<std::string> parts;
      for (const Attribute& a : *attributes) {
        std::string value;
        if (const auto* s = std::get_if<std::string_view>(&a.value)) {
          value = absl::StrCat("s", util::ToAbsl(*s));
        } else if (const auto* b = std::get_if<bool>(&a.value)) {
          value = *b ? "b1" : "b0";
        } else if (const auto* i = std::get_if<int64_t>(&a.value)) {
          value = absl::StrCat("i", *i);
        } else if (const auto* d = std::get_if<double>(&a.value)) {
          value = absl::StrCat("d", *d);
        } else {
          value = "o";
        }
        parts.push_back(absl::StrCat(util::ToAbsl(a.key), "=", value));
      }
      std::sort(parts.begin(), parts.end());
      for (const std::string& part : parts) absl::StrAppend(&key, part, "\x1f");
      key += '\x1e';
    }
    // The model keeps up to limits.max_metric_streams keys: long ones are
    // kept as a prefix and a (stable, FNV-1a) hash of the whole.
    constexpr size_t kMaxKeyBytes = 256;
    if (key.size() > kMaxKeyBytes) {
      uint64_t h = 14695981039346656037ull;
      for (char c : key) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      }
      key = absl::StrCat(key.substr(0, kMaxKeyBytes - 17), "#",
                         absl::Hex(h, absl::kZeroPad16));
    }
    return key;
  }

  const config::Config& config_;
  const absl::flat_hash_map<std::string, int>& services_;
  const absl::Time now_;
  MappedRequest& out_;
  int32_t resource_ = 0;
  int model_ = -1;
  Refusal no_model_;  // why model_ < 0
};

// Every item of every resource of a request, in body order, each resource
// resolving its model first.
template <typename Resource, typename Item, typename MapItem>
MappedRequest MapResources(
    const config::Config& config,
    const absl::flat_hash_map<std::string, int>& services, absl::Time now,
    Signal signal, const std::vector<Resource>& resources,
    std::vector<Item> Resource::*items, MapItem map_item) {
  MappedRequest out;
  out.signal = signal;
  Mapping mapping(config, services, now, out);
  for (size_t r = 0; r < resources.size(); ++r) {
    const Resource& resource = resources[r];
    mapping.BeginResource(static_cast<int32_t>(r), resource.resource);
    const std::vector<Item>& of_resource = resource.*items;
    for (size_t i = 0; i < of_resource.size(); ++i) {
      map_item(mapping, static_cast<int32_t>(i), of_resource[i],
               resource.resource);
    }
  }
  return out;
}

}  // namespace

std::string MappedRequest::Describe(const ingest::EventError& e) const {
  if (e.index < 0 || e.index >= static_cast<int64_t>(items.size())) {
    return e.message;
  }
  const ItemRef& ref = items[static_cast<size_t>(e.index)];
  std::string where;
  switch (signal) {
    case Signal::kTraces:
      where = absl::StrCat("resource_spans[", ref.resource, "].spans[",
                           ref.item, "]");
      if (ref.event >= 0) absl::StrAppend(&where, ".events[", ref.event, "]");
      break;
    case Signal::kLogs:
      where = absl::StrCat("resource_logs[", ref.resource, "].log_records[",
                           ref.item, "]");
      break;
    case Signal::kMetrics:
      where = absl::StrCat("resource_metrics[", ref.resource, "].metrics[",
                           ref.item, "].data_points[", ref.event, "]");
      break;
  }
  return absl::StrCat(where, ": ", e.message);
}

GenAiMapper::GenAiMapper(const config::Config& config) : config_(config) {
  for (size_t i = 0; i < config.models.size(); ++i) {
    services_.emplace(config.models[i].otlp.service_name, static_cast<int>(i));
  }
}

MappedRequest GenAiMapper::MapTraces(const TracesRequest& request,
                                     absl::Time now) const {
  return MapResources(config_, services_, now, Signal::kTraces,
                      request.resource_spans, &ResourceSpans::spans,
                      [](Mapping& m, int32_t i, const Span& span,
                         const Attributes&) { m.MapSpan(i, span); });
}

MappedRequest GenAiMapper::MapLogs(const LogsRequest& request,
                                   absl::Time now) const {
  return MapResources(config_, services_, now, Signal::kLogs,
                      request.resource_logs, &ResourceLogs::log_records,
                      [](Mapping& m, int32_t i, const LogRecord& log,
                         const Attributes&) { m.MapLog(i, log); });
}

MappedRequest GenAiMapper::MapMetrics(const MetricsRequest& request,
                                      absl::Time now) const {
  return MapResources(
      config_, services_, now, Signal::kMetrics, request.resource_metrics,
      &ResourceMetrics::metrics,
      [](Mapping& m, int32_t i, const Metric& metric,
         const Attributes& resource) { m.MapMetric(i, metric, resource); });
}

}  // namespace aiq::otlp
