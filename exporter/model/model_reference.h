// Everything the streaming exporter derives from a model's reference data
// (a CSV of feature columns, optionally target, prediction and confidence):
// per-feature drift profiles (bins, sorted values, categories, the default
// test), the prediction's profile for prediction drift, baseline quality,
// the PCA model for multivariate drift, and calibration pairs. Immutable
// once built and shared by pointer, so replacing a reference is one swap.
// Features with `drift_threshold: auto` (and the prediction, when the model
// sets it) get their threshold calibrated from the reference here, so every
// consumer of the profile (drift windows, the drift API) decides with it.
//
// Example, given `const config::ModelConfig& m`, `std::string_view text`
// (the CSV file's contents) and `const config::LimitsConfig& limits`:
//   absl::StatusOr<data::Dataset> csv =
//       data::ParseCsv(text, "upload", ReferenceCsvOptions(m));
//   absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
//       ModelReference::Build(m, *csv);
//   // For an upload (PUT), also:
//   absl::Status upload = CheckReferenceUpload(m, limits, *csv);
#ifndef AIQ_EXPORTER_MODEL_MODEL_REFERENCE_H_
#define AIQ_EXPORTER_MODEL_MODEL_REFERENCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/config/config.h"
#include "exporter/data/csv.h"
#include "exporter/data/dataset.h"
#include "exporter/stats/classification.h"
#include "exporter/stats/drift_policy.h"
#include "exporter/stats/pca_drift.h"
#include "exporter/stats/regression.h"

namespace aiq::model {

// The drift profile of one feature (or of the model's prediction).
struct FeatureProfile {
  std::string name;
  stats::FeatureReference reference;
  // Numeric: the reference range, for the out-of-range ratio.
  double min = 0;
  double max = 0;
};

// The checks a reference uploaded by a client (PUT) must pass on top of
// ModelReference::Build's, so one upload cannot widen what traffic may do:
// at least window.min_samples rows (fewer make every drift statistic
// absent), target and prediction values among the declared classes (when
// classes are declared), and no text cell longer than
// limits.max_string_bytes. Errors name the column (and row).
absl::Status CheckReferenceUpload(const config::ModelConfig& model,
                                  const config::LimitsConfig& limits,
                                  const data::Dataset& reference);

class ModelReference {
 public:
  // Validates fully: every declared feature must be a column with values of
  // its declared type; configured target/prediction/confidence columns must
  // exist. Errors name the column. `drift_threshold: auto` needs two
  // calibration chunks of values (docs/statistics.md, "Adaptive
  // thresholds"); fewer is an error naming the model and the feature.
  static absl::StatusOr<std::shared_ptr<const ModelReference>> Build(
      const config::ModelConfig& model, const data::Dataset& reference);

  const std::string& source() const { return source_; }
  int64_t rows() const { return rows_; }
  // Parallel to ModelConfig::features.
  const std::vector<FeatureProfile>& features() const { return features_; }
  // Profile of the reference's prediction column, if configured.
  const std::optional<FeatureProfile>& prediction() const {
    return prediction_;
  }
  // Quality of the reference's predictions against its target.
  const std::optional<stats::ClassificationReport>& baseline_classification()
      const {
    return baseline_classification_;
  }
  const std::optional<stats::RegressionMetrics>& baseline_regression() const {
    return baseline_regression_;
  }
  // Multivariate drift over the numeric features (at least two).
  const std::optional<stats::PcaDriftModel>& pca() const { return pca_; }
  // Indices (into ModelConfig::features) of the PCA's input columns.
  const std::vector<int>& pca_features() const { return pca_features_; }
  // (confidence, prediction was correct) per reference row that has both,
  // for calibrating estimated accuracy.
  const std::vector<double>& calibration_confidence() const {
    return calibration_confidence_;
  }
  const std::vector<bool>& calibration_correct() const {
    return calibration_correct_;
  }

 private:
  std::string source_;
  int64_t rows_ = 0;
  std::vector<FeatureProfile> features_;
  std::optional<FeatureProfile> prediction_;
  std::optional<stats::ClassificationReport> baseline_classification_;
  std::optional<stats::RegressionMetrics> baseline_regression_;
  std::optional<stats::PcaDriftModel> pca_;
  std::vector<int> pca_features_;
  std::vector<double> calibration_confidence_;
  std::vector<bool> calibration_correct_;
};

// CSV options that fix the declared features' column types, so a numeric
// feature with a non-number in the file is an error naming line and column.
data::CsvOptions ReferenceCsvOptions(const config::ModelConfig& model);

// Reads and builds the reference named in the model's config.
absl::StatusOr<std::shared_ptr<const ModelReference>> LoadReference(
    const config::ModelConfig& model);

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_MODEL_REFERENCE_H_
