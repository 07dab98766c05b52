#include "exporter/model/model_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "exporter/model/model_reference.h"
#include "exporter/util/parallel_for.h"

namespace aiq::model {
using ingest::ModelOf;

ModelRegistry::ModelRegistry(const config::Config& config, util::Clock* clock) {
  for (const config::ModelConfig& m : config.models) {
    models_.push_back(std::make_unique<ModelState>(m, config, clock));
  }
}

absl::Status ModelRegistry::LoadReferences() {
  for (const auto& state : models_) {
    const config::ModelConfig& m = state->config();
    if (m.reference_csv.empty()) continue;
    absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
        LoadReference(m);
    if (!ref.ok()) {
      return absl::Status(ref.status().code(),
                          absl::StrCat("model \"", m.name, "\": reference: ",
                                       ref.status().message()));
    }
    state->SetReference(*std::move(ref));
  }
  return absl::OkStatus();
}

void ModelRegistry::ExpireJoins() {
  for (const auto& m : models_) m->ExpireJoins();
}

void ModelRegistry::WarmJoins(const ingest::DecodeResult& decoded) const {
  std::vector<std::vector<std::string_view>> by_model(models_.size());
  for (const ingest::DecodedEvent& e : decoded.events) {
    const std::string_view id = ingest::JoinIdOf(e.event);
    if (!id.empty()) by_model[ModelOf(e.event)].push_back(id);
  }
  for (size_t m = 0; m < models_.size(); ++m) {
    if (!by_model[m].empty()) models_[m]->WarmJoins(by_model[m]);
  }
}

ApplyResult ModelRegistry::Apply(ingest::DecodeResult& decoded) {
  std::vector<ingest::DecodedEvent*> events;
  events.reserve(decoded.events.size());
  for (ingest::DecodedEvent& e : decoded.events) events.push_back(&e);
  ApplyResult result;
  result.errors = std::move(decoded.errors);
  ApplyEvents(events, result);
  return result;
}

ApplyResult ModelRegistry::Apply(
    std::span<ingest::DecodedEvent* const> events) {
  ApplyResult result;
  ApplyEvents(events, result);
  return result;
}

void ModelRegistry::ApplyEvents(std::span<ingest::DecodedEvent* const> events,
                                ApplyResult& result) {
  const size_t decode_errors = result.errors.size();
  // Group by model, keeping body order within each model, so each model's
  // lock is taken once per request.
  std::vector<std::vector<ingest::DecodedEvent*>> by_model(models_.size());
  for (ingest::DecodedEvent* e : events) {
    by_model[ModelOf(e->event)].push_back(e);
  }
  for (size_t m = 0; m < models_.size(); ++m) {
    if (!by_model[m].empty()) models_[m]->Apply(by_model[m], result.errors);
  }
  const int64_t applied_errors =
      static_cast<int64_t>(result.errors.size() - decode_errors);
  result.accepted = static_cast<int64_t>(events.size()) - applied_errors;
  if (applied_errors > 0 || models_.size() > 1) {
    std::stable_sort(
        result.errors.begin(), result.errors.end(),
        [](const ingest::EventError& a, const ingest::EventError& b) {
          return a.index < b.index;
        });
  }
}

ModelState* ModelRegistry::Find(std::string_view name) {
  for (auto& m : models_) {
    if (m->config().name == name) return m.get();
  }
  return nullptr;
}

std::vector<ModelSnapshot> ModelRegistry::Snapshot(
    ModelState::SnapshotScope scope) const {
  // Drift statistics dominate a scrape and models are independent: spread
  // them over the cores. Each model's lock is held only while copying.
  std::vector<ModelSnapshot> out(models_.size());
  util::ParallelFor(models_.size(), /*max_threads=*/0,
                    [&](size_t i) { out[i] = models_[i]->Snapshot(scope); });
  return out;
}

}  // namespace aiq::model
