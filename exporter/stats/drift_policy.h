// Which drift test a feature gets, its threshold and the drift decision, per
// feature and for the whole dataset (Evidently's default rules, see
// docs/statistics.md). Also the batch entry point the `report` command uses:
// a per-feature reference profile and the comparison of a current column.
//
// Example, given `std::span<const double> ref_values_without_missing` and
// `std::span<const double> cur_values_without_missing`:
//   aiq::stats::DriftTestOverride ovr;            // optional, per feature
//   absl::StatusOr<aiq::stats::FeatureReference> ref =
//       aiq::stats::FeatureReference::Numeric(ref_values_without_missing,
//                                             ovr);
//   // drift_threshold: auto (the reference must hold two chunks):
//   absl::Status calibrated = ref->CalibrateThreshold(/*chunk=*/100);
//   absl::StatusOr<aiq::stats::FeatureDrift> d =
//       aiq::stats::CompareFeature(*ref, cur_values_without_missing);
//   // d->drift.test, d->drift.score, d->drift.threshold, d->drift.detected
//   // d->numeric (ks, psi, ...) or d->categorical (chi_square, ...)
//   aiq::stats::DatasetDrift ds = aiq::stats::ComputeDatasetDrift(4, 6);
//
// Default rule, decided from the reference only (its non-missing values):
//   rows <= 1000: numeric with > 5 unique values -> KS       (p <= 0.05)
//                 <= 2 unique values              -> Z        (p <  0.05)
//                 otherwise                       -> chi-square (p < 0.05)
//   rows > 1000:  numeric with > 5 unique values -> normed Wasserstein (>= 0.1)
//                 otherwise                       -> Jensen–Shannon     (>=
//                 0.1)
// Numeric features with <= 5 unique reference values are tested as
// categories (value -> NumericCategoryKey). Dataset drift: share of drifted
// features >= 0.5. A fixed threshold false-alarms at a rate that depends on
// the window's size and the data; `drift_threshold: auto` calibrates it from
// the reference instead (CalibrateThreshold, drift_calibration.h).
#ifndef AIQ_EXPORTER_STATS_DRIFT_POLICY_H_
#define AIQ_EXPORTER_STATS_DRIFT_POLICY_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/feature_kind.h"
#include "exporter/stats/numeric_drift.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/enum_names.h"

namespace aiq::stats {

enum class DriftTest {
  kKs,             // score = p-value, drift if p <= threshold
  kZ,              // score = p-value, drift if p <  threshold
  kChiSquare,      // score = p-value, drift if p <  threshold
  kWasserstein,    // score = normed Wasserstein, drift if >= threshold
  kJensenShannon,  // score = distance, drift if >= threshold
  kPsi,            // score = PSI, drift if >= threshold
};

// The spelling in reports, configs and the `test` metric label.
inline constexpr auto kDriftTestNames = util::MakeEnumNames<DriftTest>({
    {DriftTest::kKs, "ks"},
    {DriftTest::kZ, "z"},
    {DriftTest::kChiSquare, "chi_square"},
    {DriftTest::kWasserstein, "wasserstein"},
    {DriftTest::kJensenShannon, "jensen_shannon"},
    {DriftTest::kPsi, "psi"},
});
std::string_view DriftTestName(DriftTest test);
// InvalidArgument naming the valid tests for an unknown name.
absl::StatusOr<DriftTest> ParseDriftTest(std::string_view name);

bool IsPValueTest(DriftTest test);
// 0.05 for p-value tests, 0.1 for distances and PSI.
double DefaultThreshold(DriftTest test);
// The comparison direction of each test (see the enum).
bool IsDrift(DriftTest test, double score, double threshold);

inline constexpr int64_t kSmallReferenceRows = 1000;
inline constexpr int64_t kMaxCategoricalUnique = 5;  // numeric -> categories
inline constexpr int64_t kMaxBinaryUnique = 2;
inline constexpr double kDatasetDriftShare = 0.5;

struct DriftTestOverride {
  std::optional<DriftTest> test;
  std::optional<double> threshold;
};

struct DriftTestChoice {
  DriftTest test = DriftTest::kKs;
  double threshold = 0.05;
  // > 0: `threshold` was calibrated from the reference (`drift_threshold:
  // auto`, FeatureReference::CalibrateThreshold) with chunks of this many
  // values; 0: the test's default or a configured number.
  int64_t calibration_chunk = 0;
  // Numeric feature tested over categories (<= 5 unique reference values),
  // or any categorical feature.
  bool as_categories = false;
};

// The default rule plus overrides. An override of a numeric-only test (KS,
// Wasserstein) on a categorical (or boolean) feature is InvalidArgument; a
// numeric feature overridden to Z / chi-square is tested over its values as
// categories.
absl::StatusOr<DriftTestChoice> ChooseDriftTest(
    FeatureKind kind, int64_t reference_rows, int64_t reference_unique,
    const DriftTestOverride& override_spec = {});

struct DriftDecision {
  DriftTest test = DriftTest::kKs;
  double score = 0;
  double threshold = 0;
  bool detected = false;
};

// Reference side of one feature (missing values already left out).
class FeatureReference {
 public:
  static absl::StatusOr<FeatureReference> Numeric(
      std::span<const double> values, const DriftTestOverride& ovr = {});
  static absl::StatusOr<FeatureReference> Categorical(
      const CategoryCounts& counts, const DriftTestOverride& ovr = {});

  // kNumeric or kCategorical.
  FeatureKind type() const { return type_; }
  const DriftTestChoice& choice() const { return choice_; }
  // Numeric features only.
  const NumericReference& numeric() const { return numeric_; }
  // Categorical features, and numeric ones with choice().as_categories.
  const CategoryCounts& categories() const { return categories_; }
  // Whether `key` is one of categories() (a hash lookup: once per event).
  bool HasCategory(std::string_view key) const {
    return category_set_.contains(util::ToAbsl(key));
  }
  CategoryOrder category_order() const {
    return type_ == FeatureKind::kNumeric ? CategoryOrder::kNumeric
                                          : CategoryOrder::kLexicographic;
  }

  // `drift_threshold: auto`: replaces choice().threshold by one calibrated
  // from this reference with chunks of `chunk` values (drift_calibration.h,
  // docs/statistics.md "Adaptive thresholds"); sets
  // choice().calibration_chunk. InvalidArgument, and nothing changed, when
  // `chunk` is below kMinCalibrationChunk or the reference holds fewer than
  // two chunks. Deterministic: the same values give the same threshold.
  absl::Status CalibrateThreshold(int64_t chunk);

 private:
  FeatureKind type_ = FeatureKind::kNumeric;
  DriftTestChoice choice_;
  NumericReference numeric_;
  CategoryCounts categories_;
  absl::flat_hash_set<std::string> category_set_;  // categories_'s keys
  void IndexCategories();
};

struct FeatureDrift {
  FeatureKind type = FeatureKind::kNumeric;  // kNumeric or kCategorical
  // Set for numeric features (always the numeric statistics, also when the
  // drift test runs over categories).
  std::optional<NumericDrift> numeric;
  // Set for categorical features.
  std::optional<CategoricalDrift> categorical;
  DriftDecision drift;
};

// Current values without missing ones; must be non-empty and finite.
absl::StatusOr<FeatureDrift> CompareFeature(const FeatureReference& reference,
                                            std::span<const double> current);
absl::StatusOr<FeatureDrift> CompareFeature(const FeatureReference& reference,
                                            const CategoryCounts& current);

// Drift decision from already computed statistics (streaming consumers that
// maintain the pieces themselves). `current_categories` is needed when
// choice.as_categories (numeric) or for Z; `numeric` for numeric tests.
absl::StatusOr<DriftDecision> DecideDrift(
    const FeatureReference& reference, const NumericDrift* numeric,
    const CategoryCounts* current_categories);

struct DatasetDrift {
  int64_t drifted_features = 0;
  int64_t total_features = 0;
  double share = 0;
  bool detected = false;
};
// No features: share 0, not detected.
DatasetDrift ComputeDatasetDrift(int64_t drifted_features,
                                 int64_t total_features,
                                 double share_threshold = kDatasetDriftShare);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_DRIFT_POLICY_H_
