// The sliding window of one (model, version)'s inputs and outputs, as the
// drift statistics need them, and the drift computed from it against the
// model's reference.
//
// Per feature (and per prediction) each bucket keeps: counts of values,
// missing, out-of-range and new-category values; counts per reference
// decile bin (so PSI and Jensen-Shannon are exact); counts per category
// (categorical features, and numeric ones tested as categories: chi-square
// and Z are exact); and values for KS and Wasserstein. Values are kept
// exactly while the window holds at most `window.max_exact_samples` of
// them; beyond that the window keeps a uniform random sample of that size
// (each value gets a random priority; the lowest priorities survive, and a
// query thins every bucket to the smallest threshold any live bucket had to
// apply, so the result is a Bernoulli sample of the whole window). The
// error of KS's D from a sample of m values is at most
// sqrt(ln(2/alpha) / (2m)) with probability 1 - alpha (Dvoretzky-Kiefer-
// Wolfowitz); docs/streaming.md states it and drift_window_test.cc checks it.
//
// Example, given `const config::ModelConfig& model_config`,
// `std::shared_ptr<const ModelReference> reference`, `absl::Time now`,
// `std::span<const DriftInput> feature_inputs` (parallel to the features),
// `const DriftInput& prediction_input` and
// `std::optional<double> pca_row_error`:
//   DriftWindow w(model_config, reference, /*max_categories=*/100,
//                 /*seed=*/1);
//   w.Add(now, feature_inputs, prediction_input, pca_row_error);
//   DriftInputs in = w.Collect(now);                 // under the model lock
//   WindowDrift d = ComputeDrift(*reference, model_config, in);  // outside
//
// Checkpoints hold the buckets, samples, thresholds and the random
// generator's position, so a decoded window collects, stamps and samples
// exactly as the original; the config, reference, category cap and seed
// come from the constructor.
//
// Example (a checkpoint), given `const DriftWindow& original`,
// `const config::ModelConfig& model_config` and
// `std::shared_ptr<const ModelReference> reference`:
//   util::BinaryWriter out;
//   original.EncodeTo(out);
//   DriftWindow restored(model_config, reference, /*max_categories=*/100,
//                        /*seed=*/1);
//   util::BinaryReader r(out.data());
//   absl::Status st = restored.DecodeFrom(r);
// DecodeFrom is FailedPrecondition when the checkpoint's shape differs from
// this window's: window buckets or width, max_exact_samples, the features
// (count, names, types) or a numeric channel's reference bin edges (a
// replaced reference); DataLoss when the input is truncated or malformed.
// The category cap is not checked: buckets keep the categories they held.
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_DRIFT_WINDOW_H_
#define AIQ_EXPORTER_MODEL_DRIFT_WINDOW_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/model/model_reference.h"
#include "exporter/model/sliding_window.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/drift_policy.h"
#include "exporter/util/binary_codec.h"

namespace aiq::model {

// One event's value for one feature (or its prediction).
struct DriftInput {
  enum class Kind { kMissing, kNumber, kCategory };
  Kind kind = Kind::kMissing;
  double number = 0;
  std::string_view category;

  static DriftInput Number(double v) { return {Kind::kNumber, v, {}}; }
  static DriftInput Category(std::string_view c) {
    return {Kind::kCategory, 0, c};
  }
};

// What a channel (feature or prediction) holds over the live window.
struct ChannelInputs {
  int64_t total = 0;  // predictions seen
  int64_t missing = 0;
  int64_t out_of_range = 0;
  int64_t new_category = 0;
  std::vector<int64_t> bins;         // numeric: per reference bin
  stats::CategoryCounts categories;  // categorical / numeric-as-categories
  std::vector<double> values;        // numeric: all values, or a sample
  bool sampled = false;              // values is a sample of the window
};

struct DriftInputs {
  int64_t predictions = 0;
  std::vector<ChannelInputs> features;  // parallel to the model's features
  std::optional<ChannelInputs> prediction;
  double pca_error_sum = 0;
  int64_t pca_rows = 0;
};

// Drift of one channel over the window. Statistics are absent when the
// channel has fewer than window.min_samples present values.
struct ChannelDrift {
  std::string name;
  bool numeric = true;
  int64_t total = 0;
  int64_t present = 0;
  bool sampled = false;
  int64_t sample_size = 0;
  std::optional<double> missing_ratio;
  std::optional<double> out_of_range_ratio;  // numeric
  std::optional<double> new_category_ratio;  // categorical
  std::optional<stats::NumericDrift> numeric_stats;
  // Categorical features, and numeric ones tested as categories.
  std::optional<stats::CategoricalDrift> categorical_stats;
  std::optional<stats::ZTestResult> z;  // when the decision test is Z
  std::optional<stats::DriftDecision> decision;
  std::string error;  // why statistics are missing despite enough samples
};

struct WindowDrift {
  int64_t predictions = 0;
  std::vector<ChannelDrift> features;
  std::optional<ChannelDrift> prediction;
  std::optional<stats::DatasetDrift> dataset;  // over features with a decision
  std::optional<double> reconstruction_error;
  int64_t min_samples = 0;
};

class DriftWindow {
 public:
  DriftWindow(const config::ModelConfig& model,
              std::shared_ptr<const ModelReference> reference,
              int max_categories, uint64_t seed);

  // `features` is parallel to the model's features. `pca_row_error` is the
  // event's reconstruction error when all PCA inputs were present. The
  // event goes into the bucket of `at`, its time, which must be inside
  // the window at `now` (see ModelState; else it is not added).
  void Add(absl::Time now, absl::Time at, std::span<const DriftInput> features,
           const DriftInput& prediction, std::optional<double> pca_row_error);
  void Add(absl::Time now, std::span<const DriftInput> features,
           const DriftInput& prediction, std::optional<double> pca_row_error) {
    Add(now, now, features, prediction, pca_row_error);
  }

  DriftInputs Collect(absl::Time now);

  // Changes whenever the window's contents (as Collect would see them at
  // `now`) may have changed: writes, and buckets ageing out.
  uint64_t Stamp(absl::Time now);

  const std::shared_ptr<const ModelReference>& reference() const {
    return reference_;
  }

  // Writes the dynamic state (everything not derived from the constructor's
  // arguments) after a header of the window's shape.
  void EncodeTo(util::BinaryWriter& w) const;
  // Restores what EncodeTo wrote into a window constructed with the same
  // arguments (errors above). Unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  struct Sampled {
    double value;
    uint32_t priority;
  };
  struct Channel {
    int64_t total = 0, missing = 0, out_of_range = 0, new_category = 0;
    std::vector<int64_t> bins;
    stats::CategoryCounts categories;
    std::vector<Sampled> heap;          // max-heap by priority
    uint64_t threshold = kNoThreshold;  // keep values with priority < this
  };
  struct Bucket {
    int64_t id = kNever;
    int64_t predictions = 0;
    double pca_error_sum = 0;
    int64_t pca_rows = 0;
    std::vector<Channel> channels;
  };
  static constexpr int64_t kNever = INT64_MIN;
  static constexpr uint64_t kNoThreshold = uint64_t{1} << 32;

  // Channel c's reference profile (c == features: the prediction's); null
  // without a reference.
  const FeatureProfile* ProfileOf(size_t c) const;
  // Reference bins of a numeric channel with a profile; empty otherwise.
  std::span<const double> BinEdgesOf(size_t c) const;
  void EncodeShape(util::BinaryWriter& w) const;
  absl::Status CheckShape(util::BinaryReader& r) const;
  absl::Status DecodeBucket(util::BinaryReader& r, Bucket& b) const;

  // The bucket of `at` after expiring those that left the window at `now`;
  // null when `at`'s has left it too.
  Bucket* BucketAt(absl::Time now, absl::Time at);
  void ExpireOld(int64_t now_id);
  void ClearBucket(Bucket& b);
  void AddToChannel(int c, Bucket& b, const FeatureProfile* profile,
                    bool numeric, const DriftInput& in);
  void Sample(int c, Bucket& b, double value);
  uint32_t NextRandom();

  const config::ModelConfig& model_;
  std::shared_ptr<const ModelReference> reference_;
  int max_categories_;
  int64_t max_samples_;
  BucketClock clock_;
  std::vector<Bucket> buckets_;
  std::vector<int64_t> stored_;  // sampled values per channel, all buckets
  std::vector<bool> channel_numeric_;
  uint64_t rng_;
  uint64_t generation_ = 0;
};

// Computes drift from collected inputs; pure and lock-free.
WindowDrift ComputeDrift(const ModelReference& reference,
                         const config::ModelConfig& model,
                         const DriftInputs& inputs);

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_DRIFT_WINDOW_H_
