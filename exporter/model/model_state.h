// The live state of one configured model: per-version operational counters
// and histograms, bounded name tables, and the table that joins labels and
// feedback to predictions. All of it sits behind one mutex per model, so
// models never contend with each other, and a request locks each model it
// touches once for its whole batch.
//
// Example, given `const config::Config& config` and
// `std::span<ingest::DecodedEvent* const> events_for_this_model`:
//   ModelState state(config.models[0], config, util::Clock::Real());
//   std::vector<ingest::EventError> rejected;
//   state.Apply(events_for_this_model, rejected);
//   ModelSnapshot snap = state.Snapshot();   // for /metrics
#ifndef AIQ_EXPORTER_MODEL_MODEL_STATE_H_
#define AIQ_EXPORTER_MODEL_MODEL_STATE_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "exporter/config/config.h"
#include "exporter/ingest/decoder.h"
#include "exporter/model/bounded_interner.h"
#include "exporter/model/drift_window.h"
#include "exporter/model/histogram.h"
#include "exporter/model/join_table.h"
#include "exporter/model/model_reference.h"
#include "exporter/model/quality_window.h"
#include "exporter/util/binary_codec.h"
#include "exporter/util/clock.h"

namespace aiq::model {

// Operational counters of one (model, version).
struct VersionStats {
  uint64_t predictions = 0;
  std::vector<uint64_t>
      errors_by_reason;  // index: ModelSnapshot::error_reasons
  Histogram latency;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  double cost = 0;
  Histogram feedback;
  double outcome_value = 0;
  std::vector<uint64_t> safety_by_category;  // index: safety_categories
  uint64_t labels = 0;
  Histogram label_delay;
  // Streaming LLM calls: time to the first output token, and per output
  // token after it.
  Histogram time_to_first_token;
  Histogram time_per_output_token;
  // Evaluation scores, by evaluator (index: ModelSnapshot::evaluators).
  std::vector<Histogram> evaluation_scores;
};

// The GenAI semantic conventions' bucket boundaries (seconds) for
// gen_ai.server.time_to_first_token and gen_ai.server.time_per_output_token
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/).
std::vector<double> TimeToFirstTokenBounds();
std::vector<double> TimePerOutputTokenBounds();

// A consistent copy of a model's state, taken under its lock.
struct ModelSnapshot {
  std::string name;
  config::Task task = config::Task::kClassification;
  std::vector<std::string> versions;
  std::vector<VersionStats> per_version;  // parallel to versions
  // Feedback whose id matched no prediction (exported as
  // version=config::kUnknownVersion).
  VersionStats unmatched_feedback;
  std::vector<std::string> error_reasons;
  std::vector<std::string> safety_categories;
  std::vector<std::string> evaluators;
  // Label values of evaluations (capped; then "other").
  std::vector<std::string> evaluation_labels;
  // [evaluator][0]: evaluations without a label; [evaluator][1 + i]: with
  // evaluation_labels[i]. Over all versions.
  std::vector<std::vector<uint64_t>> evaluations;
  std::vector<std::string> classes;
  std::vector<std::string> features;
  // [feature][ingest::TypeErrorReason]: values of the wrong JSON type.
  std::vector<std::array<uint64_t, ingest::kNumTypeErrorReasons>>
      feature_type_errors;
  uint64_t labels_unmatched = 0;
  uint64_t feedback_unmatched = 0;
  // Events too late for the window (window.max_lateness), by
  // ingest::EventKind; only predictions and labels are windowed.
  std::array<uint64_t, ingest::kNumEventKinds> late_events{};
  uint64_t join_evicted = 0;
  int64_t join_pending = 0;   // waiting for a label
  int64_t join_entries = 0;   // in the table, labeled or not
  int64_t join_capacity = 0;  // limits.max_join_entries
  std::optional<double> cost_budget_per_day;
  std::optional<double> token_budget_per_day;
  // The reference in use (nullptr: none configured or loaded).
  std::shared_ptr<const ModelReference> reference;
  // Drift over each version's window; nullptr without a reference.
  std::vector<std::shared_ptr<const WindowDrift>>
      drift;  // parallel to versions
  // Quality over each version's window; parallel to versions.
  std::vector<QualitySnapshot> quality;
};

class ModelState {
 public:
  ModelState(const config::ModelConfig& model, const config::Config& config,
             util::Clock* clock);

  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;

  // Applies `events` (all for this model) in order. An event that cannot be
  // applied (unknown version or class beyond the caps, duplicate id) is
  // appended to `rejected` and changes nothing.
  void Apply(std::span<ingest::DecodedEvent* const> events,
             std::vector<ingest::EventError>& rejected)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Counters are copied under the lock; drift statistics are computed
  // outside it (and only for windows that changed since the last snapshot),
  // so a scrape holds up ingest only for the copy.
  // kCountersOnly skips the window statistics (drift, quality), for callers
  // that only need counts.
  enum class SnapshotScope { kFull, kCountersOnly };
  ModelSnapshot Snapshot(SnapshotScope scope = SnapshotScope::kFull) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces the reference; every version's drift window restarts empty
  // (bins and categories are the reference's). nullptr removes it.
  void SetReference(std::shared_ptr<const ModelReference> reference)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const ModelReference> reference() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Quality of one version's window (nullopt if the version is unknown).
  std::optional<QualitySnapshot> Quality(std::string_view version) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Drift of one version's window (nullptr if unknown or no reference).
  std::shared_ptr<const WindowDrift> Drift(std::string_view version) const
      ABSL_LOCKS_EXCLUDED(mu_);

  const config::ModelConfig& config() const { return model_; }

  // Warms the join table's caches for these ids (JoinTable::Warm), without
  // holding up this model's events: call before Apply, outside any lock
  // that serializes Apply.
  void WarmJoins(std::span<const std::string_view> ids) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces the join table (an InMemoryJoinTable by default), e.g. with
  // one on disk. Call before any event is applied: entries are not moved.
  // Its entries then expire in Apply and ExpireJoins only, not on a
  // snapshot: the caller checkpoints such a table's contents apart from
  // EncodeTo's counters, under a lock that Apply and ExpireJoins run
  // under and a scrape does not, so only they may change it.
  void UseJoinTable(std::unique_ptr<JoinTable> table) ABSL_LOCKS_EXCLUDED(mu_);
  // Expires join entries as of the clock's time (see UseJoinTable).
  void ExpireJoins() ABSL_LOCKS_EXCLUDED(mu_);

  // Durable state (docs/state.md): everything this model has learned and
  // counted, its windows and its join table. The reference is not
  // included (it comes from the config or a logged PUT).
  void EncodeTo(util::BinaryWriter& w) const ABSL_LOCKS_EXCLUDED(mu_);
  // Restores what EncodeTo wrote into a state constructed from the same
  // model config (and given the same reference). Parts that no longer
  // match the config (declared versions or classes changed, a feature
  // added, the reference's bins changed) start empty and are described in
  // `dropped`; the rest is kept. DataLoss when the bytes are damaged; the
  // state is then partly restored and the caller must not serve from it.
  absl::Status DecodeFrom(util::BinaryReader& r,
                          std::vector<std::string>& dropped)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Each returns the rejection, or nullopt when applied.
  std::optional<ingest::EventError> ApplyPrediction(
      const ingest::PredictionEvent& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<ingest::EventError> ApplyLabel(const ingest::LabelEvent& l)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<ingest::EventError> ApplyFeedback(
      const ingest::FeedbackEvent& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<ingest::EventError> ApplyEvaluation(
      const ingest::EvaluationEvent& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<ingest::EventError> ApplyLatencyPoint(
      const ingest::LatencyPointEvent& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The version a new event names (or the default): its index, or the
  // rejection (reserved, undeclared, over the cap). Never registers.
  std::optional<ingest::EventError> CheckVersion(
      const std::string& version_name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The score histogram of `evaluator` in `s`, added when new.
  Histogram& EvaluationScores(VersionStats& s, int evaluator) const;
  // Encodes and restores the GenAI part of the state (the evaluators and
  // their labels and counts, each version's streaming latency and scores).
  void EncodeGenAi(util::BinaryWriter& w) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeGenAi(util::BinaryReader& r, bool versions_ok,
                           std::vector<std::string>& dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  VersionStats NewVersionStats() const;
  VersionStats& Version(int index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<DriftWindow> NewDriftWindow(int version) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddToDriftWindow(int version, const ingest::PredictionEvent& p,
                        absl::Time now, absl::Time at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The time the windows bucket an event of `kind` stamped `event_time` at
  // (now for one ahead of the clock), or nullopt when it is late: more than
  // window.max_lateness behind `now`, or its bucket has left the window.
  // Late events are counted here.
  std::optional<absl::Time> WindowTime(ingest::EventKind kind,
                                       absl::Time event_time, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The quality window's view of a prediction (class indices resolved).
  PredictionSample ToSample(const ingest::PredictionEvent& p,
                            int predicted_class) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static PredictionSample ToSample(const JoinEntry& e);
  // After classes were registered from traffic.
  void OnClassesChanged() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Computes (or reuses) every version's drift; see Snapshot().
  std::vector<std::shared_ptr<const WindowDrift>> CurrentDrift() const
      ABSL_LOCKS_EXCLUDED(mu_);

  const config::ModelConfig& model_;
  util::Clock* const clock_;
  const std::shared_ptr<const std::vector<double>> latency_bounds_;
  const std::shared_ptr<const std::vector<double>> feedback_bounds_;
  const std::shared_ptr<const std::vector<double>> delay_bounds_;
  const std::shared_ptr<const std::vector<double>> ttft_bounds_;
  const std::shared_ptr<const std::vector<double>> tpot_bounds_;
  // By evaluator index: declared evaluators' buckets, then the default
  // buckets for every learned one.
  std::vector<std::shared_ptr<const std::vector<double>>> evaluator_bounds_;
  std::shared_ptr<const std::vector<double>> default_evaluator_bounds_;

  mutable absl::Mutex mu_;
  // Names seen in traffic, each capped (see docs/metrics.md, "Labels").
  BoundedInterner versions_ ABSL_GUARDED_BY(mu_);
  BoundedInterner classes_ ABSL_GUARDED_BY(mu_);
  BoundedInterner error_reasons_ ABSL_GUARDED_BY(mu_);
  BoundedInterner safety_categories_ ABSL_GUARDED_BY(mu_);
  BoundedInterner evaluators_ ABSL_GUARDED_BY(mu_);
  BoundedInterner evaluation_labels_ ABSL_GUARDED_BY(mu_);
  // See ModelSnapshot::evaluations.
  std::vector<std::vector<uint64_t>> evaluations_ ABSL_GUARDED_BY(mu_);
  // The last point of each cumulative OTLP latency stream, to count the
  // difference the next one adds; at most limits.max_metric_streams, of
  // which those not seen for kMetricStreamTtl make room for new ones.
  struct CumulativePoint {
    absl::Time last_seen;  // the model clock's
    uint64_t start_time_unix_nano = 0;
    std::vector<double> bounds;
    std::vector<uint64_t> counts;
    double sum = 0;
  };
  // Key: the metric, then the stream's identity.
  std::map<std::string, CumulativePoint> metric_streams_ ABSL_GUARDED_BY(mu_);
  std::vector<VersionStats> per_version_ ABSL_GUARDED_BY(mu_);
  VersionStats unmatched_feedback_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ModelReference> reference_ ABSL_GUARDED_BY(mu_);
  // Parallel to per_version_; mutable because reading expires old buckets.
  mutable std::vector<std::unique_ptr<DriftWindow>> drift_windows_
      ABSL_GUARDED_BY(mu_);
  // The last drift computed per version and the window stamp it is for.
  struct DriftCache {
    uint64_t stamp = ~uint64_t{0};
    std::shared_ptr<const WindowDrift> drift;
  };
  mutable std::vector<DriftCache> drift_cache_ ABSL_GUARDED_BY(mu_);
  // Parallel to per_version_.
  std::vector<QualityWindow> quality_windows_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ConfidenceCalibration> calibration_
      ABSL_GUARDED_BY(mu_);
  // Per-event scratch of AddToDriftWindow.
  std::vector<DriftInput> drift_inputs_ ABSL_GUARDED_BY(mu_);
  std::vector<double> pca_row_ ABSL_GUARDED_BY(mu_);
  // Mutable: a snapshot expires old entries. Never null.
  mutable std::unique_ptr<JoinTable> join_ ABSL_GUARDED_BY(mu_);
  bool snapshot_expires_joins_ ABSL_GUARDED_BY(mu_) = true;
  const int max_classes_;
  const int max_categories_;
  const int max_metric_streams_;
  std::vector<std::array<uint64_t, ingest::kNumTypeErrorReasons>>
      feature_type_errors_ ABSL_GUARDED_BY(mu_);
  uint64_t labels_unmatched_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t feedback_unmatched_ ABSL_GUARDED_BY(mu_) = 0;
  std::array<uint64_t, ingest::kNumEventKinds> late_events_
      ABSL_GUARDED_BY(mu_){};
  const BucketClock window_clock_;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_MODEL_STATE_H_
