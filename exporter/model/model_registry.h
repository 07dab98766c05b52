// All configured models' state, and the entry point that applies a decoded
// request to it. The set of models is fixed at start (from the config), so
// lookups need no lock; each model has its own.
//
// Example, given `const config::Config& config` and
// `ingest::DecodeResult& decoded` (from ingest::Decoder::Decode):
//   ModelRegistry registry(config, util::Clock::Real());
//   ApplyResult r = registry.Apply(decoded);
//   // r.accepted, r.errors (decode and apply errors, by event index)
//   int64_t predictions = 0;
//   r.ForEachAccepted(decoded, [&](const ingest::DecodedEvent& e) {
//     if (std::holds_alternative<ingest::PredictionEvent>(e.event)) {
//       ++predictions;
//     }
//   });
#ifndef AIQ_EXPORTER_MODEL_MODEL_REGISTRY_H_
#define AIQ_EXPORTER_MODEL_MODEL_REGISTRY_H_

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "exporter/config/config.h"
#include "exporter/ingest/decoder.h"
#include "exporter/model/model_state.h"
#include "exporter/util/clock.h"

namespace aiq::model {

struct ApplyResult {
  int64_t accepted = 0;
  std::vector<ingest::EventError> errors;  // sorted by event index

  // Calls f(const ingest::DecodedEvent&) for each event of `decoded` that
  // was applied (not rejected).
  template <typename F>
  void ForEachAccepted(const ingest::DecodeResult& decoded, F&& f) const {
    size_t e = 0;
    for (const ingest::DecodedEvent& ev : decoded.events) {
      while (e < errors.size() && errors[e].index < ev.index) ++e;
      if (e < errors.size() && errors[e].index == ev.index) continue;
      f(ev);
    }
  }
};

class ModelRegistry {
 public:
  // `config` must outlive the registry.
  ModelRegistry(const config::Config& config, util::Clock* clock);

  // Applies every valid event of `decoded`, model by model, and merges the
  // decoder's and the models' rejections.
  // `decoded.errors` is moved into the result; `decoded.events` is left
  // intact so the caller can act on the accepted ones (see Accepted()).
  ApplyResult Apply(ingest::DecodeResult& decoded);
  // Applies events decoded elsewhere (a backtest's, left where they were
  // decoded); the errors are the models' rejections, by event index.
  ApplyResult Apply(std::span<ingest::DecodedEvent* const> events);

  // Loads every model's configured reference CSV (model_reference.h) and
  // sets it; the first error names the model, the file, line and column.
  absl::Status LoadReferences();

  // ModelState::ExpireJoins for every model.
  void ExpireJoins();

  // ModelState::WarmJoins for the ids of `decoded`, model by model.
  void WarmJoins(const ingest::DecodeResult& decoded) const;

  ModelState* Find(std::string_view name);
  const std::vector<std::unique_ptr<ModelState>>& models() const {
    return models_;
  }
  std::vector<ModelSnapshot> Snapshot(
      ModelState::SnapshotScope scope = ModelState::SnapshotScope::kFull) const;

 private:
  // Applies `events` model by model, appending rejections to
  // result.errors (which may hold the decoder's already).
  void ApplyEvents(std::span<ingest::DecodedEvent* const> events,
                   ApplyResult& result);

  std::vector<std::unique_ptr<ModelState>> models_;  // index = config index
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_MODEL_REGISTRY_H_
