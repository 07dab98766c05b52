#include "exporter/ingest/event_json.h"

#include <nlohmann/json.hpp>

namespace aiq::ingest {
namespace {

using nlohmann::json;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

json ToJson(const PredictionEvent& p, const config::ModelConfig& m) {
  json j = {{"model", m.name}, {"timestamp", Rfc3339(p.timestamp)}};
  if (!p.version.empty()) j["version"] = p.version;
  if (!p.id.empty()) j["id"] = p.id;
  if (!p.features.empty()) {
    json f = json::object();
    for (const FeatureValue& fv : p.features) {
      const std::string& name =
          m.features[static_cast<size_t>(fv.feature)].name;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              f[name] = nullptr;
            } else {
              f[name] = v;
            }
          },
          fv.value);
    }
    j["features"] = std::move(f);
  }
  if (p.predicted_class) j["prediction"] = *p.predicted_class;
  if (p.predicted_value) j["prediction"] = *p.predicted_value;
  if (!p.probabilities.empty()) {
    json probs = json::object();
    for (const auto& [cls, prob] : p.probabilities) probs[cls] = prob;
    j["probabilities"] = std::move(probs);
  }
  if (p.confidence) j["confidence"] = *p.confidence;
  if (p.latency_seconds) j["latency_ms"] = *p.latency_seconds * 1000.0;
  if (p.ttft_seconds) j["ttft_ms"] = *p.ttft_seconds * 1000.0;
  if (p.prompt_tokens || p.completion_tokens) {
    j["tokens"] = {{"prompt", p.prompt_tokens.value_or(0)},
                   {"completion", p.completion_tokens.value_or(0)}};
  }
  if (p.error) j["error"] = *p.error;
  if (!p.safety.empty()) j["safety"] = p.safety;
  if (!p.segment.empty()) {
    json s = json::object();
    for (const auto& [attr, value] : p.segment) s[attr] = value;
    j["segment"] = std::move(s);
  }
  return j;
}

json ToJson(const LabelEvent& l, const config::ModelConfig& m) {
  json j = {
      {"model", m.name}, {"id", l.id}, {"timestamp", Rfc3339(l.timestamp)}};
  if (l.label_class) j["label"] = *l.label_class;
  if (l.label_value) j["label"] = *l.label_value;
  return j;
}

json ToJson(const FeedbackEvent& f, const config::ModelConfig& m) {
  json j = {{"model", m.name},
            {"id", f.id},
            {"score", f.score},
            {"timestamp", Rfc3339(f.timestamp)}};
  if (f.value) j["value"] = *f.value;
  return j;
}

json ToJson(const EvaluationEvent& e, const config::ModelConfig& m) {
  json j = {{"model", m.name},
            {"evaluator", e.evaluator},
            {"timestamp", Rfc3339(e.timestamp)}};
  if (!e.version.empty()) j["version"] = e.version;
  if (!e.id.empty()) j["id"] = e.id;
  if (e.score) j["score"] = *e.score;
  if (e.label) j["label"] = *e.label;
  return j;
}

json ToJson(const LatencyPointEvent& p, const config::ModelConfig& m) {
  json j = {{"model", m.name},
            {"metric", p.metric == LatencyPointEvent::Metric::kTimeToFirstToken
                           ? "gen_ai.server.time_to_first_token"
                           : "gen_ai.server.time_per_output_token"},
            {"cumulative", p.cumulative},
            {"explicit_bounds", p.bounds},
            {"bucket_counts", p.bucket_counts},
            {"sum", p.sum},
            {"timestamp", Rfc3339(p.timestamp)}};
  if (!p.version.empty()) j["version"] = p.version;
  return j;
}

}  // namespace

std::string EventToJson(const Event& event, const config::Config& config) {
  return std::visit(
      [&](const auto& e) {
        return ToJson(e, config.models[static_cast<size_t>(e.model)])
            .dump(-1, ' ', false, json::error_handler_t::replace);
      },
      event);
}

}  // namespace aiq::ingest
