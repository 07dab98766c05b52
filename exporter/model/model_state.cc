#include "exporter/model/model_state.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace aiq::model {
namespace {

uint64_t SaturatingAdd(uint64_t total, int64_t add) {
  const auto a = static_cast<uint64_t>(add);
  return total > std::numeric_limits<uint64_t>::max() - a
             ? std::numeric_limits<uint64_t>::max()
             : total + a;
}

using ingest::EventError;
using ingest::RejectReason;

std::shared_ptr<const std::vector<double>> Bounds(std::vector<double> b) {
  return std::make_shared<const std::vector<double>>(std::move(b));
}

// Label delays from a second to a week.
std::vector<double> LabelDelayBounds() {
  return {1,        10,       60,        300,   900,       3600,
          3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400};
}

EventError Reject(RejectReason reason, std::string message) {
  return EventError{0, reason, std::move(message)};
}

// Each part of the encoded state is length-prefixed, so a part that no
// longer fits the config can be skipped and the rest still read.
template <typename T>
void EncodePart(util::BinaryWriter& w, const T& part) {
  const size_t block = w.BeginBlock();
  part.EncodeTo(w);
  w.EndBlock(block);
}

// OK and false when the part was dropped (FailedPrecondition: it does not
// match the config), with why in `dropped`; an error when damaged.
template <typename T>
absl::StatusOr<bool> DecodePart(util::BinaryReader& r, std::string_view what,
                                T& part, std::vector<std::string>& dropped) {
  const std::string_view bytes = r.Block(what);
  if (!r.ok()) return r.status();
  util::BinaryReader inner(bytes);
  absl::Status st = part.DecodeFrom(inner);
  if (st.ok()) st = inner.Finish();
  if (absl::IsFailedPrecondition(st)) {
    dropped.push_back(
        absl::StrCat(std::string(what), ": ", st.message(), " (starts empty)"));
    return false;
  }
  if (!st.ok()) {
    return absl::DataLossError(
        absl::StrCat(std::string(what), ": ", st.message()));
  }
  return true;
}

// VersionStats as one part; histograms check their own bucket counts.
// S is `const VersionStats` to encode, `VersionStats` to decode.
template <typename S>
struct VersionStatsPart {
  S& s;
  void EncodeTo(util::BinaryWriter& w) const {
    w.Varint(s.predictions);
    w.Varints(s.errors_by_reason);
    s.latency.EncodeTo(w);
    w.Varint(s.prompt_tokens);
    w.Varint(s.completion_tokens);
    w.Double(s.cost);
    s.feedback.EncodeTo(w);
    w.Double(s.outcome_value);
    w.Varints(s.safety_by_category);
    w.Varint(s.labels);
    s.label_delay.EncodeTo(w);
  }
  absl::Status DecodeFrom(util::BinaryReader& r) {
    VersionStats v = s;
    v.predictions = r.Varint("predictions");
    v.errors_by_reason = r.Varints("errors by reason");
    if (absl::Status st = v.latency.DecodeFrom(r); !st.ok()) return st;
    v.prompt_tokens = r.Varint("prompt tokens");
    v.completion_tokens = r.Varint("completion tokens");
    v.cost = r.Double("cost");
    if (absl::Status st = v.feedback.DecodeFrom(r); !st.ok()) return st;
    v.outcome_value = r.Double("outcome value");
    v.safety_by_category = r.Varints("safety by category");
    v.labels = r.Varint("labels");
    if (absl::Status st = v.label_delay.DecodeFrom(r); !st.ok()) return st;
    if (!r.ok()) return r.status();
    s = std::move(v);
    return absl::OkStatus();
  }
};

// Skips `n` parts (their state was dropped with what indexes them).
absl::Status SkipParts(util::BinaryReader& r, size_t n, std::string_view what) {
  for (size_t i = 0; i < n; ++i) r.Block(what);
  return r.status();
}

std::vector<std::string> EvaluatorNames(const config::ModelConfig& model) {
  std::vector<std::string> names;
  for (const config::EvaluatorConfig& e : model.evaluators) {
    names.push_back(e.name);
  }
  return names;
}

}  // namespace

// How long a cumulative OTLP stream is remembered without a new point
// once the table is full.
constexpr absl::Duration kMetricStreamTtl = absl::Hours(1);

std::vector<double> TimeToFirstTokenBounds() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
          0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
}

std::vector<double> TimePerOutputTokenBounds() {
  return {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
          0.3,  0.4,   0.5,  0.75,  1.0, 2.5};
}

ModelState::ModelState(const config::ModelConfig& model,
                       const config::Config& config, util::Clock* clock)
    : model_(model),
      clock_(clock),
      latency_bounds_(Bounds(config.server.latency_buckets_seconds)),
      feedback_bounds_(Bounds({1, 2, 3, 4, 5})),
      delay_bounds_(Bounds(LabelDelayBounds())),
      ttft_bounds_(Bounds(TimeToFirstTokenBounds())),
      tpot_bounds_(Bounds(TimePerOutputTokenBounds())),
      default_evaluator_bounds_(
          Bounds(config::EvaluatorConfig::DefaultEvaluationBuckets())),
      versions_(model.versions, config.limits.max_versions_per_model,
                BoundedInterner::Overflow::kReject),
      classes_(model.classes, config.limits.max_classes,
               BoundedInterner::Overflow::kReject),
      error_reasons_({}, config.limits.max_error_reasons,
                     BoundedInterner::Overflow::kFoldIntoOther),
      safety_categories_(model.safety_categories,
                         config.limits.max_safety_categories,
                         BoundedInterner::Overflow::kFoldIntoOther),
      evaluators_(EvaluatorNames(model), config.limits.max_evaluators,
                  BoundedInterner::Overflow::kReject),
      evaluation_labels_({}, config.limits.max_evaluation_labels,
                         BoundedInterner::Overflow::kFoldIntoOther),
      unmatched_feedback_(NewVersionStats()),
      join_(std::make_unique<InMemoryJoinTable>(config.limits.max_join_entries,
                                                model.label_ttl)),
      max_classes_(config.limits.max_classes),
      max_categories_(config.limits.max_categories_per_feature),
      max_metric_streams_(config.limits.max_metric_streams),
      window_clock_(model.window.duration, model.window.buckets) {
  for (const config::EvaluatorConfig& e : model.evaluators) {
    evaluator_bounds_.push_back(Bounds(e.buckets));
  }
  absl::MutexLock lock(&mu_);
  if (versions_.size() > 0) Version(versions_.size() - 1);
  feature_type_errors_.resize(model.features.size(), {});
}

VersionStats ModelState::NewVersionStats() const {
  VersionStats s;
  s.latency = Histogram(latency_bounds_);
  s.feedback = Histogram(feedback_bounds_);
  s.label_delay = Histogram(delay_bounds_);
  s.time_to_first_token = Histogram(ttft_bounds_);
  s.time_per_output_token = Histogram(tpot_bounds_);
  return s;
}

Histogram& ModelState::EvaluationScores(VersionStats& s, int evaluator) const {
  while (static_cast<int>(s.evaluation_scores.size()) <= evaluator) {
    const size_t i = s.evaluation_scores.size();
    s.evaluation_scores.emplace_back(i < evaluator_bounds_.size()
                                         ? evaluator_bounds_[i]
                                         : default_evaluator_bounds_);
  }
  return s.evaluation_scores[static_cast<size_t>(evaluator)];
}

VersionStats& ModelState::Version(int index) {
  while (static_cast<int>(per_version_.size()) <= index) {
    per_version_.push_back(NewVersionStats());
  }
  while (static_cast<int>(quality_windows_.size()) <= index) {
    quality_windows_.emplace_back(model_);
    quality_windows_.back().EnsureClasses(classes_.names());
    quality_windows_.back().SetCalibration(calibration_);
  }
  while (static_cast<int>(drift_windows_.size()) <= index) {
    drift_windows_.push_back(
        NewDriftWindow(static_cast<int>(drift_windows_.size())));
    drift_cache_.emplace_back();
  }
  return per_version_[index];
}

std::unique_ptr<DriftWindow> ModelState::NewDriftWindow(int version) const {
  // Deterministic per (model, version), so runs are reproducible.
  const uint64_t seed = std::hash<std::string>()(model_.name) ^
                        (static_cast<uint64_t>(version) << 32);
  return std::make_unique<DriftWindow>(model_, reference_, max_categories_,
                                       seed);
}

std::optional<absl::Time> ModelState::WindowTime(ingest::EventKind kind,
                                                 absl::Time event_time,
                                                 absl::Time now) {
  // Ahead of the clock (the decoder allows 24 h of skew): the current
  // bucket, since a future one would recycle a live bucket's slot.
  if (event_time >= now) return now;
  if (event_time < now - model_.window.max_lateness ||
      !window_clock_.IsLive(window_clock_.BucketOf(event_time),
                            window_clock_.BucketOf(now))) {
    ++late_events_[static_cast<size_t>(kind)];
    return std::nullopt;
  }
  return event_time;
}

void ModelState::AddToDriftWindow(int version, const ingest::PredictionEvent& p,
                                  absl::Time now, absl::Time at) {
  // Scratch reused across events (we hold the lock): no allocation per
  // prediction on the ingest path.
  std::vector<DriftInput>& inputs = drift_inputs_;
  inputs.assign(model_.features.size(), DriftInput{});
  for (const ingest::FeatureValue& fv : p.features) {
    DriftInput& in = inputs[static_cast<size_t>(fv.feature)];
    if (const double* d = std::get_if<double>(&fv.value)) {
      in = DriftInput::Number(*d);
    } else if (const std::string* str = std::get_if<std::string>(&fv.value)) {
      in = DriftInput::Category(*str);
    } else if (const bool* b = std::get_if<bool>(&fv.value)) {
      in = DriftInput::Category(*b ? "true" : "false");
    }
  }
  DriftInput prediction;
  if (p.predicted_class) prediction = DriftInput::Category(*p.predicted_class);
  if (p.predicted_value) prediction = DriftInput::Number(*p.predicted_value);
  std::optional<double> pca_error;
  if (reference_ && reference_->pca()) {
    std::vector<double>& row = pca_row_;
    row.clear();
    for (int f : reference_->pca_features()) {
      const DriftInput& in = inputs[static_cast<size_t>(f)];
      if (in.kind != DriftInput::Kind::kNumber) break;
      row.push_back(in.number);
    }
    if (row.size() == reference_->pca_features().size()) {
      absl::StatusOr<double> e = reference_->pca()->RowError(row);
      if (e.ok()) pca_error = *e;
    }
  }
  drift_windows_[static_cast<size_t>(version)]->Add(now, at, inputs, prediction,
                                                    pca_error);
}

PredictionSample ModelState::ToSample(const ingest::PredictionEvent& p,
                                      int predicted_class) const {
  PredictionSample s;
  s.predicted_class = predicted_class;
  s.predicted_value = p.predicted_value;
  s.confidence = p.confidence;
  if (!p.probabilities.empty()) {
    s.probabilities.assign(static_cast<size_t>(classes_.size()), 0.0);
    for (const auto& [cls, prob] : p.probabilities) {
      const int c = classes_.Find(cls);
      if (c >= 0) s.probabilities[static_cast<size_t>(c)] = prob;
    }
  }
  // Segment values: index among the declared values, values.size() for
  // "other", -1 when the event does not carry the attribute.
  s.segment.assign(model_.segments.size(), -1);
  for (size_t a = 0; a < model_.segments.size(); ++a) {
    const config::SegmentConfig& seg = model_.segments[a];
    for (const auto& [attr, value] : p.segment) {
      if (attr != seg.attribute) continue;
      auto it = std::find(seg.values.begin(), seg.values.end(), value);
      s.segment[a] = static_cast<int>(it - seg.values.begin());
    }
  }
  return s;
}

PredictionSample ModelState::ToSample(const JoinEntry& e) {
  PredictionSample s;
  s.predicted_class = e.predicted_class;
  s.predicted_value = e.predicted_value;
  s.confidence = e.confidence;
  s.probabilities = e.probabilities;
  s.segment = e.segment;
  return s;
}

void ModelState::OnClassesChanged() {
  for (QualityWindow& w : quality_windows_) w.EnsureClasses(classes_.names());
}

void ModelState::WarmJoins(std::span<const std::string_view> ids) const {
  const JoinTable* table = nullptr;
  {
    absl::MutexLock lock(&mu_);
    table = join_.get();  // replaced only before any event (UseJoinTable)
  }
  table->Warm(ids);
}

void ModelState::UseJoinTable(std::unique_ptr<JoinTable> table) {
  absl::MutexLock lock(&mu_);
  join_ = std::move(table);
  snapshot_expires_joins_ = false;
}

void ModelState::ExpireJoins() {
  absl::MutexLock lock(&mu_);
  join_->Expire(clock_->Now());
}

void ModelState::SetReference(std::shared_ptr<const ModelReference> reference) {
  absl::MutexLock lock(&mu_);
  reference_ = std::move(reference);
  // Estimated accuracy is calibrated on the reference's (confidence,
  // correct) pairs when it has a confidence column.
  calibration_ = nullptr;
  if (reference_ && !reference_->calibration_confidence().empty()) {
    auto calibration = std::make_shared<ConfidenceCalibration>();
    for (size_t i = 0; i < reference_->calibration_confidence().size(); ++i) {
      calibration
          ->Add(reference_->calibration_confidence()[i],
                reference_->calibration_correct()[i])
          .IgnoreError();  // values were range-checked when the CSV loaded
    }
    calibration_ = std::move(calibration);
  }
  for (QualityWindow& w : quality_windows_) w.SetCalibration(calibration_);
  for (size_t v = 0; v < drift_windows_.size(); ++v) {
    drift_windows_[v] = NewDriftWindow(static_cast<int>(v));
    drift_cache_[v] = DriftCache{};
  }
}

std::shared_ptr<const ModelReference> ModelState::reference() const {
  absl::MutexLock lock(&mu_);
  return reference_;
}

std::vector<std::shared_ptr<const WindowDrift>> ModelState::CurrentDrift()
    const {
  struct Pending {
    size_t version;
    uint64_t stamp;
    DriftInputs inputs;
  };
  std::vector<std::shared_ptr<const WindowDrift>> out;
  std::vector<Pending> pending;
  std::shared_ptr<const ModelReference> reference;
  {
    absl::MutexLock lock(&mu_);
    reference = reference_;
    out.resize(drift_windows_.size());
    if (!reference) return out;
    const absl::Time now = clock_->Now();
    for (size_t v = 0; v < drift_windows_.size(); ++v) {
      const uint64_t stamp = drift_windows_[v]->Stamp(now);
      if (drift_cache_[v].drift && drift_cache_[v].stamp == stamp) {
        out[v] = drift_cache_[v].drift;
      } else {
        pending.push_back({v, stamp, drift_windows_[v]->Collect(now)});
      }
    }
  }
  // The statistics themselves run without the lock.
  for (Pending& p : pending) {
    out[p.version] = std::make_shared<const WindowDrift>(
        ComputeDrift(*reference, model_, p.inputs));
  }
  if (!pending.empty()) {
    absl::MutexLock lock(&mu_);
    if (reference_ == reference) {  // not replaced meanwhile
      for (const Pending& p : pending) {
        drift_cache_[p.version] = {p.stamp, out[p.version]};
      }
    }
  }
  return out;
}

std::optional<QualitySnapshot> ModelState::Quality(
    std::string_view version) const {
  absl::MutexLock lock(&mu_);
  const int index = versions_.Find(version);
  if (index == BoundedInterner::kRejected ||
      static_cast<size_t>(index) >= quality_windows_.size()) {
    return std::nullopt;
  }
  return quality_windows_[static_cast<size_t>(index)].Snapshot(clock_->Now());
}

std::shared_ptr<const WindowDrift> ModelState::Drift(
    std::string_view version) const {
  int index = BoundedInterner::kRejected;
  {
    absl::MutexLock lock(&mu_);
    index = versions_.Find(version);
  }
  if (index == BoundedInterner::kRejected) return nullptr;
  std::vector<std::shared_ptr<const WindowDrift>> all = CurrentDrift();
  return static_cast<size_t>(index) < all.size() ? all[index] : nullptr;
}

void ModelState::Apply(std::span<ingest::DecodedEvent* const> events,
                       std::vector<EventError>& rejected) {
  absl::MutexLock lock(&mu_);
  join_->Expire(clock_->Now());
  std::vector<std::string_view> ids;
  for (const ingest::DecodedEvent* e : events) {
    if (!join_->batches()) break;
    const std::string_view id = ingest::JoinIdOf(e->event);
    if (!id.empty()) ids.push_back(id);
  }
  if (!ids.empty()) join_->Prefetch(ids);
  for (ingest::DecodedEvent* e : events) {
    // Not std::visit: a lambda would hide from clang's thread-safety
    // analysis that the Apply* calls run under mu_.
    std::optional<EventError> err;
    if (const auto* p = std::get_if<ingest::PredictionEvent>(&e->event)) {
      err = ApplyPrediction(*p);
    } else if (const auto* l = std::get_if<ingest::LabelEvent>(&e->event)) {
      err = ApplyLabel(*l);
    } else if (const auto* f = std::get_if<ingest::FeedbackEvent>(&e->event)) {
      err = ApplyFeedback(*f);
    } else if (const auto* v =
                   std::get_if<ingest::EvaluationEvent>(&e->event)) {
      err = ApplyEvaluation(*v);
    } else {
      err = ApplyLatencyPoint(std::get<ingest::LatencyPointEvent>(e->event));
    }
    if (err) {
      err->index = e->index;
      rejected.push_back(*std::move(err));
    }
  }
  if (!ids.empty()) join_->Prefetch({});  // releases the batch
}

std::optional<EventError> ModelState::CheckVersion(
    const std::string& version_name) const {
  if (version_name == config::kUnknownVersion) {
    return Reject(RejectReason::kUnknownVersion,
                  absl::StrCat("version: \"", config::kUnknownVersion,
                               "\" is reserved (it labels feedback whose "
                               "prediction was not found)"));
  }
  // A learned version never takes the default version's place: the last
  // free slot is kept for it, so events without "version" always count.
  if (versions_.learns() && version_name != model_.default_version &&
      versions_.Find(version_name) == BoundedInterner::kRejected &&
      versions_.Find(model_.default_version) == BoundedInterner::kRejected &&
      versions_.size() + 1 >= versions_.cap()) {
    return Reject(RejectReason::kUnknownVersion,
                  absl::StrCat("version: more than "
                               "limits.max_versions_per_model (",
                               versions_.cap(),
                               ") versions, the last one "
                               "kept for the default version \"",
                               model_.default_version, "\""));
  }
  if (!versions_.CanIntern(version_name)) {
    return Reject(RejectReason::kUnknownVersion,
                  versions_.learns()
                      ? absl::StrCat("version: more than "
                                     "limits.max_versions_per_model (",
                                     versions_.size(), ") versions")
                      : absl::StrCat("version: \"", version_name,
                                     "\" is not declared for this model"));
  }
  return std::nullopt;
}

std::optional<EventError> ModelState::ApplyPrediction(
    const ingest::PredictionEvent& p) {
  // Every check happens before anything changes, so a rejected event leaves
  // no trace (not even a new version with zero counts).
  const std::string& version_name =
      p.version.empty() ? model_.default_version : p.version;
  if (auto err = CheckVersion(version_name)) return err;
  // New class names must fit under the cap together.
  std::vector<std::string_view> new_classes;
  auto check_class =
      [&](const std::string& c, std::string_view field)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> std::optional<EventError> {
    if (classes_.Find(c) != BoundedInterner::kRejected) return std::nullopt;
    if (std::find(new_classes.begin(), new_classes.end(), c) !=
        new_classes.end()) {
      return std::nullopt;
    }
    if (!classes_.learns()) {
      return Reject(
          RejectReason::kUnknownClass,
          absl::StrCat(std::string(field), ": unknown class \"", c, "\""));
    }
    new_classes.push_back(c);
    if (classes_.size() + static_cast<int>(new_classes.size()) > max_classes_) {
      return Reject(
          RejectReason::kUnknownClass,
          absl::StrCat(std::string(field), ": class \"", c,
                       "\" exceeds limits.max_classes (", max_classes_, ")"));
    }
    return std::nullopt;
  };
  if (p.predicted_class) {
    if (auto err = check_class(*p.predicted_class, "prediction")) return err;
  }
  for (const auto& [cls, prob] : p.probabilities) {
    if (auto err = check_class(cls, "probabilities")) return err;
  }
  if (!p.id.empty() && join_->Find(p.id) != nullptr) {
    return Reject(RejectReason::kDuplicateId,
                  absl::StrCat("id: a prediction with id \"", p.id,
                               "\" was already received"));
  }

  // Apply.
  const int version = versions_.Intern(version_name);
  VersionStats& s = Version(version);
  ++s.predictions;
  if (p.error) {
    const int reason = error_reasons_.Intern(*p.error);
    if (static_cast<int>(s.errors_by_reason.size()) <= reason) {
      s.errors_by_reason.resize(reason + 1, 0);
    }
    ++s.errors_by_reason[reason];
  }
  if (p.latency_seconds) s.latency.Observe(*p.latency_seconds);
  if (p.ttft_seconds) {
    s.time_to_first_token.Observe(*p.ttft_seconds);
    // The conventions' time per output token counts the tokens after the
    // first: (duration - time to first token) / (output tokens - 1).
    if (p.latency_seconds && p.completion_tokens.value_or(0) >= 2) {
      s.time_per_output_token.Observe(
          (*p.latency_seconds - *p.ttft_seconds) /
          static_cast<double>(*p.completion_tokens - 1));
    }
  }
  const absl::Time now = clock_->Now();
  const std::optional<absl::Time> at =
      WindowTime(ingest::EventKind::kPrediction, p.timestamp, now);
  if (at) AddToDriftWindow(version, p, now, *at);
  const int64_t prompt = p.prompt_tokens.value_or(0);
  const int64_t completion = p.completion_tokens.value_or(0);
  // Saturating: a counter never wraps around to a smaller value (each
  // event brings at most 2^63 - 1 tokens, the decoder's bound).
  s.prompt_tokens = SaturatingAdd(s.prompt_tokens, prompt);
  s.completion_tokens = SaturatingAdd(s.completion_tokens, completion);
  s.cost +=
      static_cast<double>(prompt) / 1000.0 * model_.cost_per_1k_prompt_tokens +
      static_cast<double>(completion) / 1000.0 *
          model_.cost_per_1k_completion_tokens;
  for (const std::string& category : p.safety) {
    const int c = safety_categories_.Intern(category);
    if (static_cast<int>(s.safety_by_category.size()) <= c) {
      s.safety_by_category.resize(c + 1, 0);
    }
    ++s.safety_by_category[c];
  }
  for (const ingest::FeatureTypeError& e : p.feature_type_errors) {
    ++feature_type_errors_[e.feature][static_cast<size_t>(e.reason)];
  }
  const int classes_before = classes_.size();
  int predicted_class = -1;
  if (p.predicted_class) predicted_class = classes_.Intern(*p.predicted_class);
  for (const auto& [cls, prob] : p.probabilities) classes_.Intern(cls);
  if (classes_.size() != classes_before) OnClassesChanged();
  PredictionSample sample = ToSample(p, predicted_class);
  if (at)
    quality_windows_[static_cast<size_t>(version)].AddPrediction(*at, sample);
  if (!p.id.empty()) {
    JoinEntry entry;
    entry.version = version;
    entry.timestamp = p.timestamp;
    entry.predicted_class = predicted_class;
    entry.predicted_value = p.predicted_value;
    entry.confidence = p.confidence;
    entry.probabilities = std::move(sample.probabilities);
    entry.segment = std::move(sample.segment);
    // label_ttl counts from arrival, so a late prediction still joins.
    join_->Insert(p.id, std::move(entry), now);
  }
  return std::nullopt;
}

std::optional<EventError> ModelState::ApplyLabel(const ingest::LabelEvent& l) {
  const JoinEntry* entry = join_->Find(l.id);
  if (entry != nullptr && entry->labeled) {
    return Reject(
        RejectReason::kDuplicateId,
        absl::StrCat("id: prediction \"", l.id, "\" already has a label"));
  }
  if (l.label_class && !classes_.CanIntern(*l.label_class)) {
    return Reject(
        RejectReason::kUnknownClass,
        classes_.learns()
            ? absl::StrCat("label: class \"", *l.label_class,
                           "\" exceeds limits.max_classes (", max_classes_, ")")
            : absl::StrCat("label: unknown class \"", *l.label_class, "\""));
  }
  if (entry == nullptr) {
    // Unknown, expired or evicted: counted, so a silent join failure shows.
    ++labels_unmatched_;
    return std::nullopt;
  }
  LabeledSample labeled;
  if (l.label_class) {
    const int classes_before = classes_.size();
    labeled.true_class = classes_.Intern(*l.label_class);
    if (classes_.size() != classes_before) OnClassesChanged();
  }
  labeled.true_value = l.label_value;
  labeled.prediction = ToSample(*entry);
  const int version = entry->version;
  const absl::Time predicted_at = entry->timestamp;
  join_->MarkLabeled(l.id);  // `entry` is not valid after this
  VersionStats& s = Version(version);
  ++s.labels;
  s.label_delay.Observe(
      std::max(0.0, absl::ToDoubleSeconds(l.timestamp - predicted_at)));
  // Labeled pairs enter the quality window at the label's time (a
  // prediction's would make every delayed label late); the concept-drift
  // detectors see late ones too.
  const absl::Time now = clock_->Now();
  quality_windows_[static_cast<size_t>(version)].AddLabeled(
      now, WindowTime(ingest::EventKind::kLabel, l.timestamp, now), labeled);
  return std::nullopt;
}

std::optional<EventError> ModelState::ApplyFeedback(
    const ingest::FeedbackEvent& f) {
  const JoinEntry* entry = join_->Find(f.id);
  VersionStats* s = &unmatched_feedback_;
  if (entry != nullptr) {
    s = &Version(entry->version);
  } else {
    ++feedback_unmatched_;
  }
  s->feedback.Observe(f.score);
  if (f.value) s->outcome_value += *f.value;
  return std::nullopt;
}

std::optional<EventError> ModelState::ApplyEvaluation(
    const ingest::EvaluationEvent& e) {
  // The version: as sent, else the evaluated call's, else the default.
  int version = BoundedInterner::kRejected;
  if (!e.version.empty()) {
    if (auto err = CheckVersion(e.version)) return err;
  } else if (!e.id.empty()) {
    if (const JoinEntry* entry = join_->Find(e.id)) version = entry->version;
  }
  if (version == BoundedInterner::kRejected && e.version.empty()) {
    if (auto err = CheckVersion(model_.default_version)) return err;
  }
  const int evaluator = evaluators_.Find(e.evaluator);
  if (evaluator == BoundedInterner::kRejected &&
      !evaluators_.CanIntern(e.evaluator)) {
    return Reject(
        RejectReason::kInvalidField,
        evaluators_.learns()
            ? absl::StrCat("evaluator: more than limits.max_evaluators (",
                           evaluators_.cap(), ") evaluators")
            : absl::StrCat("evaluator: \"", e.evaluator,
                           "\" is not declared for this model"));
  }

  // Apply.
  if (version == BoundedInterner::kRejected) {
    version = versions_.Intern(e.version.empty() ? model_.default_version
                                                 : e.version);
  }
  const int ev = evaluators_.Intern(e.evaluator);
  const int label = e.label ? evaluation_labels_.Intern(*e.label) : -1;
  if (static_cast<int>(evaluations_.size()) <= ev) evaluations_.resize(ev + 1);
  std::vector<uint64_t>& counts = evaluations_[static_cast<size_t>(ev)];
  if (static_cast<int>(counts.size()) <= label + 1) counts.resize(label + 2);
  ++counts[static_cast<size_t>(label + 1)];
  // Always: a newly interned version needs its stats and windows.
  VersionStats& stats = Version(version);
  if (e.score) EvaluationScores(stats, ev).Observe(*e.score);
  return std::nullopt;
}

std::optional<EventError> ModelState::ApplyLatencyPoint(
    const ingest::LatencyPointEvent& p) {
  const std::string& version_name =
      p.version.empty() ? model_.default_version : p.version;
  if (auto err = CheckVersion(version_name)) return err;
  std::vector<uint64_t> counts = p.bucket_counts;
  double sum = p.sum;
  std::string key;
  if (p.cumulative) {
    key = absl::StrCat(static_cast<int>(p.metric), "\n", p.stream);
    auto it = metric_streams_.find(key);
    if (it == metric_streams_.end() &&
        static_cast<int>(metric_streams_.size()) >= max_metric_streams_) {
      // Streams of exited processes (their resource names the process)
      // stop; an SDK exports every minute or so.
      const absl::Time stale = clock_->Now() - kMetricStreamTtl;
      std::erase_if(metric_streams_, [stale](const auto& entry) {
        return entry.second.last_seen < stale;
      });
    }
    if (it == metric_streams_.end() &&
        static_cast<int>(metric_streams_.size()) >= max_metric_streams_) {
      return Reject(
          RejectReason::kTooLarge,
          absl::StrCat("more than limits.max_metric_streams (",
                       max_metric_streams_,
                       ") cumulative OTLP streams for this model; send delta "
                       "temporality, or fewer attribute combinations"));
    }
    // The difference from the stream's last point; a new stream, or one
    // that restarted (another start time, or counts that went down),
    // counts whole.
    if (it != metric_streams_.end()) {
      const CumulativePoint& last = it->second;
      bool continues = last.start_time_unix_nano == p.start_time_unix_nano &&
                       last.bounds == p.bounds &&
                       last.counts.size() == counts.size();
      for (size_t i = 0; continues && i < counts.size(); ++i) {
        continues = counts[i] >= last.counts[i];
      }
      if (continues) {
        for (size_t i = 0; i < counts.size(); ++i) counts[i] -= last.counts[i];
        sum = std::max(0.0, sum - last.sum);
      }
    }
  }
  VersionStats& s = Version(versions_.Intern(version_name));
  Histogram& h =
      p.metric == ingest::LatencyPointEvent::Metric::kTimeToFirstToken
          ? s.time_to_first_token
          : s.time_per_output_token;
  h.Merge(p.bounds, counts, sum);
  if (p.cumulative) {
    metric_streams_[key] = {clock_->Now(), p.start_time_unix_nano, p.bounds,
                            p.bucket_counts, p.sum};
  }
  return std::nullopt;
}

void ModelState::EncodeGenAi(util::BinaryWriter& w) const {
  EncodePart(w, evaluators_);
  EncodePart(w, evaluation_labels_);
  w.Varint(evaluations_.size());
  for (const std::vector<uint64_t>& counts : evaluations_) w.Varints(counts);
  w.Varint(per_version_.size());
  for (const VersionStats& v : per_version_) {
    EncodePart(w, v.time_to_first_token);
    EncodePart(w, v.time_per_output_token);
    w.Varint(v.evaluation_scores.size());
    for (const Histogram& h : v.evaluation_scores) EncodePart(w, h);
  }
  w.Varint(metric_streams_.size());
  for (const auto& [key, point] : metric_streams_) {
    w.String(key);
    w.Time(point.last_seen);
    w.Varint(point.start_time_unix_nano);
    w.Doubles(point.bounds);
    w.Varints(point.counts);
    w.Double(point.sum);
  }
}

absl::Status ModelState::DecodeGenAi(util::BinaryReader& r, bool versions_ok,
                                     std::vector<std::string>& dropped) {
  absl::StatusOr<bool> evaluators =
      DecodePart(r, "evaluators", evaluators_, dropped);
  if (!evaluators.ok()) return evaluators.status();
  absl::StatusOr<bool> labels =
      DecodePart(r, "evaluation labels", evaluation_labels_, dropped);
  if (!labels.ok()) return labels.status();
  const size_t ne = r.Count("evaluations", 1);
  std::vector<std::vector<uint64_t>> evaluations(std::min(ne, r.remaining()));
  for (auto& counts : evaluations) counts = r.Varints("evaluations");
  if (!r.ok()) return r.status();
  // Counts are indexed by evaluator and label: kept only with both tables.
  if (*evaluators && *labels) {
    evaluations_ = std::move(evaluations);
    evaluations_.resize(
        std::min(evaluations_.size(), static_cast<size_t>(evaluators_.size())));
  }
  const size_t nv = r.Count("streaming latency", 1);
  if (!r.ok()) return r.status();
  const bool keep = versions_ok && nv == per_version_.size();
  if (versions_ok && !keep) {
    dropped.push_back(absl::StrCat(
        "streaming latency and evaluation scores: ", nv, " versions encoded, ",
        per_version_.size(), " known (starts empty)"));
  }
  for (size_t i = 0; i < nv; ++i) {
    VersionStats scratch = NewVersionStats();
    VersionStats& v = keep ? per_version_[i] : scratch;
    for (auto [what, h] :
         {std::pair{"time to first token", &v.time_to_first_token},
          std::pair{"time per output token", &v.time_per_output_token}}) {
      absl::StatusOr<bool> ok = DecodePart(r, what, *h, dropped);
      if (!ok.ok()) return ok.status();
    }
    const size_t ns = r.Count("evaluation scores", 1);
    if (!r.ok()) return r.status();
    for (size_t e = 0; e < ns; ++e) {
      // Scores of an evaluator that is no longer known are skipped.
      if (!*evaluators || static_cast<int>(e) >= evaluators_.size()) {
        if (absl::Status st = SkipParts(r, 1, "evaluation scores"); !st.ok()) {
          return st;
        }
        continue;
      }
      absl::StatusOr<bool> ok = DecodePart(
          r, absl::StrCat("evaluation scores of ", evaluators_.names()[e]),
          EvaluationScores(v, static_cast<int>(e)), dropped);
      if (!ok.ok()) return ok.status();
    }
  }
  const size_t ns = r.Count("metric streams", 4);
  std::map<std::string, CumulativePoint> streams;
  for (size_t i = 0; i < ns && r.ok(); ++i) {
    std::string key = r.String("metric stream");
    CumulativePoint& point = streams[std::move(key)];
    point.last_seen = r.Time("metric stream time");
    point.start_time_unix_nano = r.Varint("metric stream start");
    point.bounds = r.Doubles("metric stream bounds");
    point.counts = r.Varints("metric stream counts");
    point.sum = r.Double("metric stream sum");
  }
  if (!r.ok()) return r.status();
  // Streams whose versions are gone still continue (their next point is
  // counted as a difference), under whatever version it names.
  metric_streams_ = std::move(streams);
  return absl::OkStatus();
}

void ModelState::EncodeTo(util::BinaryWriter& w) const {
  absl::MutexLock lock(&mu_);
  EncodePart(w, versions_);
  EncodePart(w, classes_);
  EncodePart(w, error_reasons_);
  EncodePart(w, safety_categories_);
  w.Varint(per_version_.size());
  for (const VersionStats& v : per_version_) {
    EncodePart(w, VersionStatsPart<const VersionStats>{v});
  }
  EncodePart(w, VersionStatsPart<const VersionStats>{unmatched_feedback_});
  w.Varint(drift_windows_.size());
  for (const auto& d : drift_windows_) EncodePart(w, *d);
  w.Varint(quality_windows_.size());
  for (const QualityWindow& q : quality_windows_) EncodePart(w, q);
  EncodePart(w, *join_);
  std::vector<std::string> features;
  for (const config::FeatureConfig& f : model_.features) {
    features.push_back(f.name);
  }
  w.Strings(features);
  for (const auto& counts : feature_type_errors_) {
    for (uint64_t c : counts) w.Varint(c);
  }
  w.Varint(labels_unmatched_);
  w.Varint(feedback_unmatched_);
  // Last, so that a state written before it existed still reads.
  const size_t genai = w.BeginBlock();
  EncodeGenAi(w);
  w.EndBlock(genai);
  // After it, for the same reason (and a build that predates it ignores it).
  const size_t late = w.BeginBlock();
  for (uint64_t n : late_events_) w.Varint(n);
  w.EndBlock(late);
}

absl::Status ModelState::DecodeFrom(util::BinaryReader& r,
                                    std::vector<std::string>& dropped) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> versions = DecodePart(r, "versions", versions_, dropped);
  if (!versions.ok()) return versions.status();
  absl::StatusOr<bool> classes = DecodePart(r, "classes", classes_, dropped);
  if (!classes.ok()) return classes.status();
  for (auto [what, interner] :
       {std::pair{"error reasons", &error_reasons_},
        std::pair{"safety categories", &safety_categories_}}) {
    absl::StatusOr<bool> ok = DecodePart(r, what, *interner, dropped);
    if (!ok.ok()) return ok.status();
  }
  // Everything below is indexed by version (and, in windows and the join
  // table, by class): with either table dropped, it is dropped too.
  const bool indexed_ok = *versions && *classes;
  if (versions_.size() > 0) Version(versions_.size() - 1);
  OnClassesChanged();
  auto decode_indexed =
      [&](std::string_view what, size_t expected, auto&& decode_one)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    const size_t n = r.Count(what, 1);
    if (!r.ok()) return r.status();
    if (!indexed_ok || n != expected) {
      if (indexed_ok) {
        dropped.push_back(absl::StrCat(std::string(what), ": ", n,
                                       " versions encoded, ", expected,
                                       " known (starts empty)"));
      }
      return SkipParts(r, n, what);
    }
    for (size_t i = 0; i < n; ++i) {
      if (absl::Status st = decode_one(i); !st.ok()) return st;
    }
    return absl::OkStatus();
  };
  const size_t nv = per_version_.size();
  if (absl::Status st = decode_indexed(
          "version counters", nv,
          [&](size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            VersionStatsPart<VersionStats> c{per_version_[i]};
            return DecodePart(r, "version counters", c, dropped).status();
          });
      !st.ok()) {
    return st;
  }
  {
    VersionStatsPart<VersionStats> c{unmatched_feedback_};
    if (absl::Status st =
            DecodePart(r, "unmatched feedback", c, dropped).status();
        !st.ok()) {
      return st;
    }
  }
  if (absl::Status st = decode_indexed(
          "drift window", nv,
          [&](size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            drift_cache_[i] = DriftCache{};
            return DecodePart(r, "drift window", *drift_windows_[i], dropped)
                .status();
          });
      !st.ok()) {
    return st;
  }
  if (absl::Status st = decode_indexed(
          "quality window", nv,
          [&](size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return DecodePart(r, "quality window", quality_windows_[i], dropped)
                .status();
          });
      !st.ok()) {
    return st;
  }
  if (indexed_ok) {
    absl::StatusOr<bool> join = DecodePart(r, "join table", *join_, dropped);
    if (!join.ok()) return join.status();
  } else {
    if (absl::Status st = SkipParts(r, 1, "join table"); !st.ok()) return st;
  }
  const std::vector<std::string> features = r.Strings("feature names");
  const size_t nf = features.size();
  std::vector<std::array<uint64_t, ingest::kNumTypeErrorReasons>> type_errors(
      std::min(nf, r.remaining()));
  for (auto& counts : type_errors) {
    for (uint64_t& c : counts) c = r.Varint("feature type errors");
  }
  const uint64_t labels_unmatched = r.Varint("labels unmatched");
  const uint64_t feedback_unmatched = r.Varint("feedback unmatched");
  if (!r.ok()) return r.status();
  // Type-error counts follow features by name, so an added or removed
  // feature keeps the others' counts.
  for (size_t f = 0; f < nf && f < type_errors.size(); ++f) {
    for (size_t now = 0; now < model_.features.size(); ++now) {
      if (model_.features[now].name == features[f]) {
        feature_type_errors_[now] = type_errors[f];
      }
    }
  }
  labels_unmatched_ = labels_unmatched;
  feedback_unmatched_ = feedback_unmatched;
  // A state from before evaluations and streaming latency ends here.
  if (r.remaining() == 0) return absl::OkStatus();
  const std::string_view genai = r.Block("genai");
  if (!r.ok()) return r.status();
  util::BinaryReader gr(genai);
  absl::Status st = DecodeGenAi(gr, indexed_ok, dropped);
  if (st.ok()) st = gr.Finish();
  if (!st.ok()) {
    return absl::DataLossError(absl::StrCat("genai: ", st.message()));
  }
  // A state from before event time ends here.
  if (r.remaining() == 0) return absl::OkStatus();
  const std::string_view late = r.Block("late events");
  if (!r.ok()) return r.status();
  util::BinaryReader lr(late);
  std::array<uint64_t, ingest::kNumEventKinds> late_events{};
  // Kinds added later read as 0; more kinds than this build knows are kept
  // up to the ones it has.
  for (uint64_t& n : late_events) {
    if (lr.remaining() == 0) break;
    n = lr.Varint("late events");
  }
  if (!lr.ok()) {
    return absl::DataLossError(
        absl::StrCat("late events: ", lr.status().message()));
  }
  late_events_ = late_events;
  return absl::OkStatus();
}

ModelSnapshot ModelState::Snapshot(SnapshotScope scope) const {
  ModelSnapshot snap;
  snap.name = model_.name;
  snap.task = model_.task;
  snap.cost_budget_per_day = model_.budget.cost_per_day;
  snap.token_budget_per_day = model_.budget.tokens_per_day;
  {
    absl::MutexLock lock(&mu_);
    // Expiry is the only state change a scrape makes: it keeps
    // aiq_join_pending and the eviction count current without traffic.
    if (snapshot_expires_joins_) join_->Expire(clock_->Now());
    snap.versions = versions_.names();
    snap.per_version = per_version_;
    snap.per_version.resize(snap.versions.size(), NewVersionStats());
    snap.unmatched_feedback = unmatched_feedback_;
    snap.error_reasons = error_reasons_.names();
    snap.safety_categories = safety_categories_.names();
    snap.evaluators = evaluators_.names();
    snap.evaluation_labels = evaluation_labels_.names();
    snap.evaluations = evaluations_;
    snap.classes = classes_.names();
    for (const config::FeatureConfig& f : model_.features) {
      snap.features.push_back(f.name);
    }
    snap.feature_type_errors = feature_type_errors_;
    snap.labels_unmatched = labels_unmatched_;
    snap.late_events = late_events_;
    snap.reference = reference_;
    snap.feedback_unmatched = feedback_unmatched_;
    snap.join_evicted = static_cast<uint64_t>(join_->evicted_unlabeled());
    snap.join_pending = join_->unlabeled();
    snap.join_entries = join_->size();
    snap.join_capacity = join_->capacity();
    if (scope == SnapshotScope::kCountersOnly) return snap;
    const absl::Time now = clock_->Now();
    for (size_t v = 0; v < snap.versions.size(); ++v) {
      snap.quality.push_back(quality_windows_[v].Snapshot(now));
    }
  }
  snap.drift = CurrentDrift();
  snap.drift.resize(snap.versions.size());
  return snap;
}

}  // namespace aiq::model
