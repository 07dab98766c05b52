// Multivariate drift by PCA reconstruction error (NannyML's "data
// reconstruction drift"): a change in the correlation between features
// shows up even when every marginal distribution is unchanged.
//
// Example, given `const std::vector<double>& ref` (row-major),
// `int64_t rows`, `int64_t features`,
// `const std::vector<double>& current` and `int64_t current_rows`:
//   absl::StatusOr<aiq::stats::PcaDriftModel> model =
//       aiq::stats::PcaDriftModel::Fit({ref, rows, features});
//   absl::StatusOr<double> err =
//       model->ReconstructionError({current, current_rows, features});
//   bool drift = *err > model->upper_threshold() ||
//                *err < model->lower_threshold();
//
// Method: standardize with the reference's mean and std (ddof 0; a constant
// feature gets scale 1, as sklearn's StandardScaler); PCA on the
// standardized reference keeping the fewest components whose cumulative
// explained variance ratio is strictly greater than 0.65 (sklearn
// PCA(n_components=0.65)); error of a data set = mean over rows of
// ||z - z^||_2, z^ = projection of z onto the components. Threshold:
// the reference is cut into chunks (10 equal consecutive chunks by default,
// as NannyML's default chunker; or a fixed chunk size), the remainder rows
// joining the last chunk (NannyML's incomplete="append"); errors per chunk;
// mean +- 3 * std (ddof 0) of those, the lower one clipped at 0.
// Streaming: RowError() per event, then the window's error is
// (sum of row errors) / rows, a mergeable sum.
#ifndef AIQ_EXPORTER_STATS_PCA_DRIFT_H_
#define AIQ_EXPORTER_STATS_PCA_DRIFT_H_

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace aiq::stats {

// A data set as the model reads it: `rows` rows of `cols` values each,
// row-major (row r is values[r * cols, (r + 1) * cols)). Does not own the
// values.
struct MatrixView {
  std::span<const double> values;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct PcaDriftOptions {
  double explained_variance = 0.65;  // keep components until ratio > this
  int num_chunks = 10;               // reference chunks for the threshold
  int64_t chunk_size = 0;            // > 0: fixed-size chunks instead
  double sigmas = 3;                 // threshold = mean +- sigmas * std
};

// Immutable once fitted; copies share the fitted state. The linear algebra
// (Eigen) stays in pca_drift.cc.
class PcaDriftModel {
 public:
  // Reference: at least 2 rows and 1 column, all finite.
  static absl::StatusOr<PcaDriftModel> Fit(MatrixView reference,
                                           const PcaDriftOptions& options = {});

  int num_features() const;
  int num_components() const;
  // Per feature: the reference's mean and the scale it is divided by.
  std::span<const double> mean() const;
  std::span<const double> scale() const;
  // Principal axis k (0 = most variance, k < num_components()): a unit
  // vector of num_features() values in standardized space.
  std::span<const double> component(int k) const;
  // Of every axis, not only the kept ones (num_features() values).
  std::span<const double> explained_variance_ratio() const;

  double reference_error() const;
  const std::vector<double>& chunk_errors() const;
  double lower_threshold() const;
  double upper_threshold() const;

  // Mean row error; data must have num_features() columns, >= 1 row, finite.
  absl::StatusOr<double> ReconstructionError(MatrixView data) const;
  // ||z - z^||_2 of one row (num_features() finite values).
  absl::StatusOr<double> RowError(std::span<const double> row) const;

 private:
  struct Impl;  // the fitted matrices; defined in pca_drift.cc
  explicit PcaDriftModel(std::shared_ptr<const Impl> impl)
      : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_PCA_DRIFT_H_
