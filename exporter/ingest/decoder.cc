#include "exporter/ingest/decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "exporter/ingest/field_checks.h"
#include "exporter/util/absl_compat.h"

namespace aiq::ingest {

std::optional<BodyFormat> FormatFromContentType(std::string_view ct) {
  // Parameters such as "; charset=utf-8" do not change the format.
  if (size_t semi = ct.find(';'); semi != std::string_view::npos) {
    ct = ct.substr(0, semi);
  }
  std::string type(absl::StripAsciiWhitespace(util::ToAbsl(ct)));
  absl::AsciiStrToLower(&type);
  if (type.empty() || type == "application/json") return BodyFormat::kJson;
  if (type == "application/x-ndjson" || type == "application/ndjson" ||
      type == "application/jsonl" || type == "application/x-jsonlines") {
    return BodyFormat::kNdjson;
  }
  return std::nullopt;
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Thrown only inside this file, caught per event: turns a deep validation
// failure into one EventError without threading status through every helper.
struct FieldError {
  RejectReason reason;
  std::string message;
};

// `field` may hold client text (an unknown key): quoted, bounded.
[[noreturn]] void Fail(RejectReason reason, std::string_view field,
                       std::string_view what) {
  throw FieldError{reason,
                   absl::StrCat(QuoteBounded(field), ": ", util::ToAbsl(what))};
}

// Refuses a string with a control character that is to become a label
// value (field_checks.h).
void RequireNoControlCharacters(std::string_view s, std::string_view field) {
  if (std::optional<TextProblem> p =
          CheckText(s, std::numeric_limits<int64_t>::max(), /*label=*/true)) {
    Fail(p->reason, field, p->what);
  }
}

// The JSON text of a scalar used as a category or class name.
std::string ScalarText(element e) {
  switch (e.type()) {
    case element_type::INT64:
      return absl::StrCat(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return absl::StrCat(e.get_uint64().value_unsafe());
    case element_type::BOOL:
      return e.get_bool().value_unsafe() ? "true" : "false";
    default:
      return simdjson::minify(e);
  }
}

// By value: iterating a simdjson_result's value_unsafe() directly would bind
// the range to a temporary.
object AsObject(element e) {
  object o;
  if (e.get(o) != simdjson::SUCCESS) return {};
  return o;
}
simdjson::dom::array AsArray(element e) {
  simdjson::dom::array a;
  if (e.get(a) != simdjson::SUCCESS) return {};
  return a;
}

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 ||
         t == element_type::DOUBLE;
}

// Keys seen in one JSON object, to refuse duplicates: simdjson keeps every
// one, and a lookup finds the first while a loop applies the last. Objects
// here have a handful of keys: a linear scan, on the stack.
class SeenKeys {
 public:
  // False when `key` was seen before.
  bool Insert(std::string_view key) {
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) {
      return false;
    }
    keys_.push_back(key);
    return true;
  }

 private:
  absl::InlinedVector<std::string_view, 16> keys_;
};

// Refuses a second occurrence of the known key number `bit` of an event
// object (unknown keys are refused anyway): a bit per key, no lookups.
void Once(uint32_t& seen, int bit, std::string_view key) {
  if (seen & (1u << bit))
    Fail(RejectReason::kInvalidField, key, "duplicate key");
  seen |= 1u << bit;
}

// Refuses a second `key` in one object.
void CheckUnique(SeenKeys& seen, std::string_view key, std::string_view field) {
  if (!seen.Insert(key)) {
    Fail(RejectReason::kInvalidField, field, "duplicate key");
  }
}

// The largest token count accepted: counters are 64-bit.
constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();
// Above 2^53 a JSON number with a fraction or exponent is not exact.
constexpr double kMaxExactDouble = 9007199254740992.0;
// The largest outcome value of one event: aiq_outcome_value_total must stay
// finite (at this size, for more than 10^290 events).
constexpr double kMaxOutcomeValue = 1e15;

}  // namespace

// Decodes one event object. Holds the per-request context.
class EventParser {
 public:
  EventParser(const Decoder& d, absl::Time now)
      : d_(d), limits_(d.config_.limits), now_(now) {}

  Event Parse(EventKind kind, element e) {
    if (e.type() != element_type::OBJECT) {
      Fail(RejectReason::kInvalidField, "event",
           absl::StrCat("must be a JSON object, got ", JsonTypeName(e.type())));
    }
    object obj = AsObject(e);
    switch (kind) {
      case EventKind::kPrediction:
        return ParsePrediction(obj);
      case EventKind::kLabel:
        return ParseLabel(obj);
      case EventKind::kFeedback:
        return ParseFeedback(obj);
      case EventKind::kEvaluation:
        return ParseEvaluation(obj);
      case EventKind::kDataPoint:
        break;  // OTLP only; refused by Decode
    }
    Fail(RejectReason::kInvalidField, "event", "unknown kind");
  }

 private:
  // The "model" field, resolved first so other fields can be checked
  // against the model's config.
  int ResolveModel(object obj) {
    element m;
    if (obj["model"].get(m) != simdjson::SUCCESS) {
      Fail(RejectReason::kMissingField, "model", "required");
    }
    std::string_view name = String(m, "model");
    auto it = d_.models_.find(util::ToAbsl(name));
    if (it == d_.models_.end()) {
      Fail(RejectReason::kUnknownModel, "model",
           absl::StrCat("unknown model \"", QuoteBounded(name),
                        "\" (not in the config)"));
    }
    return it->second;
  }

  std::string_view String(element e, std::string_view field) {
    if (e.type() != element_type::STRING) {
      Fail(RejectReason::kInvalidField, field,
           absl::StrCat("must be a string, got ", JsonTypeName(e.type())));
    }
    std::string_view s = e.get_string().value_unsafe();
    if (std::optional<TextProblem> p =
            CheckText(s, limits_.max_string_bytes, /*label=*/false)) {
      Fail(p->reason, field, p->what);
    }
    return s;
  }

  // A string that can become a label value (a version, class, reason,
  // category, segment): no control characters.
  std::string_view LabelText(element e, std::string_view field) {
    std::string_view s = String(e, field);
    RequireNoControlCharacters(s, field);
    return s;
  }

  // Ids may be strings or integers (as many serving stacks send them).
  std::string Id(element e, std::string_view field) {
    if (e.type() == element_type::INT64 || e.type() == element_type::UINT64) {
      return ScalarText(e);
    }
    std::string_view s = String(e, field);
    if (s.empty())
      Fail(RejectReason::kInvalidField, field, "must not be empty");
    return std::string(s);
  }

  double Number(element e, std::string_view field) {
    if (!IsNumber(e.type())) {
      Fail(RejectReason::kInvalidField, field,
           absl::StrCat("must be a number, got ", JsonTypeName(e.type())));
    }
    double v = e.get_double().value_unsafe();
    // JSON cannot spell NaN/Inf, but huge literals overflow to Inf.
    if (!std::isfinite(v)) {
      Fail(RejectReason::kOutOfRange, field, "must be finite");
    }
    return v;
  }

  // A non-negative integer, exact up to 2^63 - 1.
  int64_t Count(element e, std::string_view field) {
    switch (e.type()) {
      case element_type::INT64: {
        const int64_t v = e.get_int64().value_unsafe();
        if (v < 0) {
          Fail(RejectReason::kOutOfRange, field,
               "must be a non-negative integer");
        }
        return v;
      }
      case element_type::UINT64:  // simdjson's type for 2^63 and above
        Fail(RejectReason::kOutOfRange, field,
             absl::StrCat("must be at most ", kMaxCount, " (2^63 - 1)"));
      case element_type::DOUBLE: {
        const double v = Number(e, field);
        if (v < 0 || v != std::floor(v)) {
          Fail(RejectReason::kOutOfRange, field,
               "must be a non-negative integer");
        }
        if (v > kMaxExactDouble) {
          Fail(RejectReason::kOutOfRange, field,
               "above 2^53, write the integer without a fraction or "
               "exponent (up to 2^63 - 1)");
        }
        return static_cast<int64_t>(v);
      }
      default:
        Fail(RejectReason::kInvalidField, field,
             absl::StrCat("must be a number, got ", JsonTypeName(e.type())));
    }
  }

  absl::Time Timestamp(element e) {
    absl::Time t;
    if (e.type() == element_type::STRING) {
      std::string_view s = e.get_string().value_unsafe();
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, util::ToAbsl(s), &t, &err)) {
        Fail(RejectReason::kInvalidField, "timestamp",
             absl::StrCat("not RFC 3339 (", err, ")"));
      }
    } else if (IsNumber(e.type())) {
      double secs = Number(e, "timestamp");
      if (secs > 1e11) {
        Fail(RejectReason::kOutOfRange, "timestamp",
             "must be Unix seconds (this looks like milliseconds)");
      }
      // Split so sub-second digits survive (secs * 1e9 would round).
      const double whole = std::floor(secs);
      t = absl::FromUnixSeconds(static_cast<int64_t>(whole)) +
          absl::Nanoseconds(std::llround((secs - whole) * 1e9));
    } else {
      Fail(RejectReason::kInvalidField, "timestamp",
           "must be an RFC 3339 string or Unix seconds");
    }
    if (std::optional<TextProblem> p = CheckEventTime(t, now_)) {
      Fail(p->reason, "timestamp", p->what);
    }
    return t;
  }

  // A class label: a string, or an integer/bool spelled as JSON text.
  std::string ClassName(element e, std::string_view field) {
    switch (e.type()) {
      case element_type::STRING:
        return std::string(LabelText(e, field));
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::BOOL:
        return ScalarText(e);
      default:
        Fail(RejectReason::kInvalidField, field,
             absl::StrCat("must be a class name (string, integer or bool), "
                          "got ",
                          JsonTypeName(e.type())));
    }
  }

  void Features(element e, const config::ModelConfig& mc,
                const Decoder::ModelLookup& lookup, PredictionEvent& p) {
    if (e.type() != element_type::OBJECT) {
      Fail(RejectReason::kInvalidField, "features", "must be an object");
    }
    // By feature index: a model may have many features.
    absl::InlinedVector<uint64_t, 2> seen((mc.features.size() + 63) / 64, 0);
    for (auto [key, value] : AsObject(e)) {
      auto it = lookup.features.find(util::ToAbsl(key));
      if (it == lookup.features.end()) {
        Fail(RejectReason::kUnknownFeature,
             absl::StrCat("features.", util::ToAbsl(key)),
             "not declared for this model");
      }
      const int f = it->second;
      uint64_t& word = seen[static_cast<size_t>(f) / 64];
      const uint64_t bit = uint64_t{1} << (f % 64);
      if (word & bit) {
        Fail(RejectReason::kInvalidField,
             lookup.feature_fields[static_cast<size_t>(f)], "duplicate key");
      }
      word |= bit;
      const stats::FeatureKind type = mc.features[f].type;
      FeatureValue fv{f, std::monostate{}};
      const element_type t = value.type();
      std::optional<TypeErrorReason> type_error;
      if (t == element_type::NULL_VALUE) {
        // missing
      } else if (type == stats::FeatureKind::kNumeric) {
        if (IsNumber(t)) {
          fv.value =
              Number(value, lookup.feature_fields[static_cast<size_t>(f)]);
        } else {
          type_error = TypeErrorReason::kExpectedNumber;
        }
      } else if (type == stats::FeatureKind::kBoolean) {
        if (t == element_type::BOOL) {
          fv.value = value.get_bool().value_unsafe();
        } else {
          type_error = TypeErrorReason::kExpectedBool;
        }
      } else {  // categorical: strings, or numbers/bools used as categories
        if (t == element_type::STRING) {
          fv.value = std::string(
              String(value, lookup.feature_fields[static_cast<size_t>(f)]));
        } else if (IsNumber(t) || t == element_type::BOOL) {
          fv.value = ScalarText(value);
        } else {
          type_error = TypeErrorReason::kExpectedString;
        }
      }
      if (type_error) {
        p.feature_type_errors.push_back({f, *type_error});
      } else {
        p.features.push_back(std::move(fv));
      }
    }
  }

  PredictionEvent ParsePrediction(object obj) {
    PredictionEvent p;
    p.model = ResolveModel(obj);
    const config::ModelConfig& mc = d_.config_.models[p.model];
    const Decoder::ModelLookup& lookup = d_.lookups_[p.model];
    bool has_timestamp = false;
    uint32_t seen = 0;  // a bit per known key
    for (auto [key, value] : obj) {
      if (key == "model") {
        Once(seen, 0, key);
        continue;
      } else if (key == "version") {
        Once(seen, 1, key);
        p.version = LabelText(value, "version");
      } else if (key == "id") {
        Once(seen, 2, key);
        p.id = Id(value, "id");
      } else if (key == "timestamp") {
        Once(seen, 3, key);
        p.timestamp = Timestamp(value);
        has_timestamp = true;
      } else if (key == "features") {
        Once(seen, 4, key);
        Features(value, mc, lookup, p);
      } else if (key == "prediction") {
        Once(seen, 5, key);
        if (value.type() == element_type::NULL_VALUE) continue;
        if (mc.task == config::Task::kRegression) {
          p.predicted_value = Number(value, "prediction");
        } else if (mc.task == config::Task::kClassification) {
          p.predicted_class = ClassName(value, "prediction");
        }
        // generation: the output text is not stored.
      } else if (key == "probabilities") {
        Once(seen, 6, key);
        Probabilities(value, mc, p);
      } else if (key == "confidence") {
        Once(seen, 7, key);
        double c = Number(value, "confidence");
        if (c < 0 || c > 1) {
          Fail(RejectReason::kOutOfRange, "confidence", "must be in [0, 1]");
        }
        p.confidence = c;
      } else if (key == "latency_ms") {
        Once(seen, 8, key);
        double ms = Number(value, "latency_ms");
        if (ms < 0)
          Fail(RejectReason::kOutOfRange, "latency_ms", "must be >= 0");
        p.latency_seconds = ms / 1000.0;
      } else if (key == "ttft_ms") {
        Once(seen, 13, key);
        double ms = Number(value, "ttft_ms");
        if (ms < 0) Fail(RejectReason::kOutOfRange, "ttft_ms", "must be >= 0");
        p.ttft_seconds = ms / 1000.0;
      } else if (key == "tokens") {
        Once(seen, 9, key);
        Tokens(value, p);
      } else if (key == "error") {
        Once(seen, 10, key);
        if (value.type() == element_type::NULL_VALUE) continue;
        std::string_view reason = LabelText(value, "error");
        if (reason.empty()) {
          Fail(RejectReason::kInvalidField, "error", "must not be empty");
        }
        p.error = std::string(reason);
      } else if (key == "safety") {
        Once(seen, 11, key);
        if (value.type() != element_type::ARRAY) {
          Fail(RejectReason::kInvalidField, "safety",
               "must be a list of category names");
        }
        simdjson::dom::array list = AsArray(value);
        if (static_cast<int64_t>(list.size()) > limits_.max_safety_categories) {
          Fail(RejectReason::kTooLarge, "safety",
               absl::StrCat("more than limits.max_safety_categories (",
                            limits_.max_safety_categories, ") entries"));
        }
        for (element c : list) {
          std::string_view cat = LabelText(c, "safety[]");
          if (cat.empty()) {
            Fail(RejectReason::kInvalidField, "safety[]", "must not be empty");
          }
          p.safety.emplace_back(cat);
        }
      } else if (key == "segment") {
        Once(seen, 12, key);
        if (value.type() != element_type::OBJECT) {
          Fail(RejectReason::kInvalidField, "segment", "must be an object");
        }
        SeenKeys seen_attrs;
        for (auto [attr, v] : AsObject(value)) {
          std::string field = absl::StrCat("segment.", util::ToAbsl(attr));
          CheckUnique(seen_attrs, attr, field);
          RequireNoControlCharacters(attr, field);
          if (v.type() == element_type::NULL_VALUE) continue;
          p.segment.emplace_back(std::string(attr), ClassName(v, field));
        }
      } else {
        Fail(RejectReason::kInvalidField, key,
             "unknown field (see docs/api.md for the event schema)");
      }
    }
    if (!has_timestamp) p.timestamp = ReceiveTime();
    if (p.ttft_seconds && p.latency_seconds &&
        *p.ttft_seconds > *p.latency_seconds) {
      Fail(RejectReason::kOutOfRange, "ttft_ms",
           "must be at most latency_ms (the first token is part of the call)");
    }
    if (!p.confidence && !p.probabilities.empty()) {
      double best = 0;
      for (const auto& [cls, prob] : p.probabilities)
        best = std::max(best, prob);
      p.confidence = best;
    }
    return p;
  }

  void Probabilities(element e, const config::ModelConfig& mc,
                     PredictionEvent& p) {
    if (mc.task != config::Task::kClassification) {
      Fail(RejectReason::kInvalidField, "probabilities",
           "only classification models have class probabilities");
    }
    if (e.type() != element_type::OBJECT) {
      Fail(RejectReason::kInvalidField, "probabilities",
           "must be an object of class -> probability");
    }
    double sum = 0;
    SeenKeys seen;
    for (auto [cls, v] : AsObject(e)) {
      std::string field = absl::StrCat("probabilities.", util::ToAbsl(cls));
      CheckUnique(seen, cls, field);
      RequireNoControlCharacters(cls, field);
      double prob = Number(v, field);
      if (prob < 0 || prob > 1) {
        Fail(RejectReason::kOutOfRange, field, "must be in [0, 1]");
      }
      if (static_cast<int64_t>(cls.size()) > limits_.max_string_bytes) {
        Fail(RejectReason::kTooLarge, "probabilities", "class name too long");
      }
      sum += prob;
      p.probabilities.emplace_back(std::string(cls), prob);
    }
    if (static_cast<int>(p.probabilities.size()) > limits_.max_classes) {
      Fail(RejectReason::kTooLarge, "probabilities",
           "more classes than limits.max_classes");
    }
    // Probabilities of all classes must sum to 1 (within rounding).
    if (!p.probabilities.empty() && std::abs(sum - 1.0) > 0.01) {
      Fail(RejectReason::kOutOfRange, "probabilities",
           absl::StrCat("must sum to 1 over all classes, got ", sum));
    }
  }

  void Tokens(element e, PredictionEvent& p) {
    if (e.type() != element_type::OBJECT) {
      Fail(RejectReason::kInvalidField, "tokens",
           "must be an object {\"prompt\": n, \"completion\": n}");
    }
    SeenKeys seen;
    for (auto [key, value] : AsObject(e)) {
      CheckUnique(seen, key, absl::StrCat("tokens.", util::ToAbsl(key)));
      if (key == "prompt") {
        p.prompt_tokens = Count(value, "tokens.prompt");
      } else if (key == "completion") {
        p.completion_tokens = Count(value, "tokens.completion");
      } else {
        Fail(RejectReason::kInvalidField,
             absl::StrCat("tokens.", util::ToAbsl(key)),
             "unknown field (expected prompt, completion)");
      }
    }
  }

  LabelEvent ParseLabel(object obj) {
    LabelEvent l;
    l.model = ResolveModel(obj);
    const config::ModelConfig& mc = d_.config_.models[l.model];
    bool has_timestamp = false, has_label = false;
    uint32_t seen = 0;  // a bit per known key
    for (auto [key, value] : obj) {
      if (key == "model") {
        Once(seen, 0, key);
        continue;
      } else if (key == "id") {
        Once(seen, 1, key);
        l.id = Id(value, "id");
      } else if (key == "timestamp") {
        Once(seen, 2, key);
        l.timestamp = Timestamp(value);
        has_timestamp = true;
      } else if (key == "label") {
        Once(seen, 3, key);
        has_label = true;
        if (mc.task == config::Task::kRegression) {
          l.label_value = Number(value, "label");
        } else {
          l.label_class = ClassName(value, "label");
        }
      } else {
        Fail(RejectReason::kInvalidField, key,
             "unknown field (expected model, id, label, timestamp)");
      }
    }
    if (l.id.empty()) Fail(RejectReason::kMissingField, "id", "required");
    if (!has_label) Fail(RejectReason::kMissingField, "label", "required");
    if (!has_timestamp) l.timestamp = ReceiveTime();
    return l;
  }

  FeedbackEvent ParseFeedback(object obj) {
    FeedbackEvent f;
    f.model = ResolveModel(obj);
    bool has_timestamp = false, has_score = false;
    uint32_t seen = 0;  // a bit per known key
    for (auto [key, value] : obj) {
      if (key == "model") {
        Once(seen, 0, key);
        continue;
      } else if (key == "id") {
        Once(seen, 1, key);
        f.id = Id(value, "id");
      } else if (key == "timestamp") {
        Once(seen, 2, key);
        f.timestamp = Timestamp(value);
        has_timestamp = true;
      } else if (key == "score") {
        Once(seen, 3, key);
        f.score = Number(value, "score");
        if (f.score < 1 || f.score > 5) {
          Fail(RejectReason::kOutOfRange, "score", "must be between 1 and 5");
        }
        has_score = true;
      } else if (key == "value") {
        Once(seen, 4, key);
        if (value.type() == element_type::NULL_VALUE) continue;
        f.value = Number(value, "value");
        // aiq_outcome_value_total is a counter: it never decreases, and
        // stays finite.
        if (*f.value < 0 || *f.value > kMaxOutcomeValue) {
          Fail(RejectReason::kOutOfRange, "value",
               "must be between 0 and 1e15 (it adds to a counter)");
        }
      } else {
        Fail(RejectReason::kInvalidField, key,
             "unknown field (expected model, id, score, value, timestamp)");
      }
    }
    if (f.id.empty()) Fail(RejectReason::kMissingField, "id", "required");
    if (!has_score) Fail(RejectReason::kMissingField, "score", "required");
    if (!has_timestamp) f.timestamp = ReceiveTime();
    return f;
  }

  EvaluationEvent ParseEvaluation(object obj) {
    EvaluationEvent ev;
    ev.model = ResolveModel(obj);
    bool has_timestamp = false;
    uint32_t seen = 0;  // a bit per known key
    for (auto [key, value] : obj) {
      if (key == "model") {
        Once(seen, 0, key);
        continue;
      } else if (key == "id") {
        Once(seen, 1, key);
        ev.id = Id(value, "id");
      } else if (key == "version") {
        Once(seen, 2, key);
        ev.version = LabelText(value, "version");
      } else if (key == "evaluator") {
        Once(seen, 3, key);
        ev.evaluator = LabelText(value, "evaluator");
        if (ev.evaluator.empty()) {
          Fail(RejectReason::kInvalidField, "evaluator", "must not be empty");
        }
      } else if (key == "score") {
        Once(seen, 4, key);
        if (value.type() == element_type::NULL_VALUE) continue;
        ev.score = Number(value, "score");
      } else if (key == "label") {
        Once(seen, 5, key);
        if (value.type() == element_type::NULL_VALUE) continue;
        ev.label = std::string(LabelText(value, "label"));
        if (ev.label->empty()) {
          Fail(RejectReason::kInvalidField, "label", "must not be empty");
        }
      } else if (key == "timestamp") {
        Once(seen, 6, key);
        ev.timestamp = Timestamp(value);
        has_timestamp = true;
      } else {
        Fail(RejectReason::kInvalidField, key,
             "unknown field (expected model, id, version, evaluator, score, "
             "label, timestamp)");
      }
    }
    if (ev.evaluator.empty()) {
      Fail(RejectReason::kMissingField, "evaluator", "required");
    }
    if (!ev.score && !ev.label) {
      Fail(RejectReason::kMissingField, "score",
           "an evaluation needs a score, a label, or both");
    }
    if (!has_timestamp) ev.timestamp = ReceiveTime();
    return ev;
  }

  const Decoder& d_;
  const config::LimitsConfig& limits_;
  // The time of an event without a `timestamp`.
  absl::Time ReceiveTime() const {
    if (d_.options_.require_timestamp) {
      Fail(RejectReason::kMissingField, "timestamp",
           "required: a replayed event has no receive time");
    }
    return now_;
  }

  absl::Time now_;
};

Decoder::Decoder(const config::Config& config, DecoderOptions options)
    : config_(config), options_(options) {
  for (size_t i = 0; i < config.models.size(); ++i) {
    models_[config.models[i].name] = static_cast<int>(i);
    ModelLookup lookup;
    for (size_t f = 0; f < config.models[i].features.size(); ++f) {
      lookup.features[config.models[i].features[f].name] = static_cast<int>(f);
      lookup.feature_fields.push_back(
          absl::StrCat("features.", config.models[i].features[f].name));
    }
    lookups_.push_back(std::move(lookup));
  }
}

namespace {

simdjson::dom::parser& ThreadParser() {
  // dom::parser is not thread-safe and keeps its buffers between documents.
  thread_local simdjson::dom::parser parser;
  return parser;
}

void DecodeOne(EventParser& ep, EventKind kind, element e, int64_t index,
               DecodeResult& out) {
  try {
    out.events.push_back({index, ep.Parse(kind, e)});
  } catch (const FieldError& fe) {
    out.errors.push_back({index, fe.reason, fe.message});
  }
}

}  // namespace

absl::StatusOr<DecodeResult> Decoder::Decode(EventKind kind, BodyFormat format,
                                             std::string_view body,
                                             absl::Time now) const {
  if (kind == EventKind::kDataPoint) {
    return absl::InvalidArgumentError(
        "data points come from OTLP metrics only (POST /v1/metrics)");
  }
  DecodeResult out;
  EventParser ep(*this, now);
  simdjson::dom::parser& parser = ThreadParser();
  const int64_t max_events = config_.limits.max_events_per_request;

  if (format == BodyFormat::kJson) {
    simdjson::padded_string padded(body);
    element doc;
    if (auto err = parser.parse(padded).get(doc); err) {
      return absl::InvalidArgumentError(absl::StrCat(
          "body is not valid JSON: ", simdjson::error_message(err)));
    }
    if (doc.type() == element_type::ARRAY) {
      simdjson::dom::array arr = AsArray(doc);
      if (static_cast<int64_t>(arr.size()) > max_events) {
        return absl::InvalidArgumentError(
            absl::StrCat("body has more than limits.max_events_per_request (",
                         max_events, ") events"));
      }
      out.events.reserve(arr.size());
      for (element e : arr) DecodeOne(ep, kind, e, out.total++, out);
    } else {
      DecodeOne(ep, kind, doc, out.total++, out);
    }
    return out;
  }

  // NDJSON: every non-empty line is one event; index = its ordinal. Lines
  // are parsed where they are, without copying the body: the lines after
  // one are the readable bytes simdjson needs past its end (its padding),
  // and only the last lines, within SIMDJSON_PADDING of the body's end, are
  // copied into the parser's own padded buffer.
  const char* data = body.data();
  const size_t size = body.size();
  // Room for every line at once: growing by doubling would copy the events
  // and touch fresh pages several times per request.
  out.events.reserve(std::min<size_t>(
      static_cast<size_t>(std::count(body.begin(), body.end(), '\n')) + 1,
      static_cast<size_t>(std::max<int64_t>(max_events, 0))));
  size_t line_start = 0;
  int64_t line_no = 0;
  while (line_start < size) {
    const void* nl = std::memchr(data + line_start, '\n', size - line_start);
    size_t line_end =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : size;
    ++line_no;
    size_t b = line_start, e = line_end;
    while (b < e && (data[b] == ' ' || data[b] == '\t' || data[b] == '\r')) ++b;
    while (e > b &&
           (data[e - 1] == ' ' || data[e - 1] == '\t' || data[e - 1] == '\r')) {
      --e;
    }
    line_start = line_end + 1;
    if (b == e) continue;
    if (out.total >= max_events) {
      return absl::InvalidArgumentError(
          absl::StrCat("body has more than limits.max_events_per_request (",
                       max_events, ") events"));
    }
    const int64_t index = out.total++;
    element doc;
    const bool padded = e + simdjson::SIMDJSON_PADDING <= size;
    auto err = parser
                   .parse(reinterpret_cast<const uint8_t*>(data + b), e - b,
                          /*realloc_if_needed=*/!padded)
                   .get(doc);
    if (err) {
      out.errors.push_back({index, RejectReason::kInvalidJson,
                            absl::StrCat("line ", line_no, ": not valid JSON (",
                                         simdjson::error_message(err), ")")});
      continue;
    }
    DecodeOne(ep, kind, doc, index, out);
  }
  return out;
}

}  // namespace aiq::ingest
