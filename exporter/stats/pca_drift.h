// Multivariate drift by PCA reconstruction error (NannyML's "data
// reconstruction drift"): a change in the correlation between features
// shows up even when every marginal distribution is unchanged.
//
// Example, given `const Eigen::MatrixXd& ref` (rows = observations, cols =
// features) and `const Eigen::MatrixXd& current` (the same columns):
//   absl::StatusOr<aiq::stats::PcaDriftModel> model =
//       aiq::stats::PcaDriftModel::Fit(ref);
//   absl::StatusOr<double> err = model->ReconstructionError(current);
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

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace aiq::stats {

struct PcaDriftOptions {
  double explained_variance = 0.65;  // keep components until ratio > this
  int num_chunks = 10;               // reference chunks for the threshold
  int64_t chunk_size = 0;            // > 0: fixed-size chunks instead
  double sigmas = 3;                 // threshold = mean +- sigmas * std
};

class PcaDriftModel {
 public:
  // Reference: at least 2 rows and 1 column, all finite.
  static absl::StatusOr<PcaDriftModel> Fit(const Eigen::MatrixXd& reference,
                                           const PcaDriftOptions& options = {});

  int num_features() const { return static_cast<int>(mean_.size()); }
  int num_components() const { return static_cast<int>(components_.cols()); }
  const Eigen::VectorXd& mean() const { return mean_; }
  const Eigen::VectorXd& scale() const { return scale_; }
  // Columns = orthonormal principal axes in standardized space.
  const Eigen::MatrixXd& components() const { return components_; }
  const Eigen::VectorXd& explained_variance_ratio() const {
    return explained_variance_ratio_;
  }

  double reference_error() const { return reference_error_; }
  const std::vector<double>& chunk_errors() const { return chunk_errors_; }
  double lower_threshold() const { return lower_threshold_; }
  double upper_threshold() const { return upper_threshold_; }

  // Mean row error; data must have num_features() columns, >= 1 row, finite.
  absl::StatusOr<double> ReconstructionError(const Eigen::MatrixXd& data) const;
  // ||z - z^||_2 of one row (num_features() finite values).
  absl::StatusOr<double> RowError(std::span<const double> row) const;

 private:
  double RowErrorUnchecked(
      const Eigen::Ref<const Eigen::RowVectorXd>& row) const;

  Eigen::VectorXd mean_;
  Eigen::VectorXd scale_;
  Eigen::VectorXd center_;  // mean of the standardized reference (~0)
  Eigen::MatrixXd components_;
  Eigen::VectorXd explained_variance_ratio_;
  double reference_error_ = 0;
  std::vector<double> chunk_errors_;
  double lower_threshold_ = 0;
  double upper_threshold_ = 0;
};

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_PCA_DRIFT_H_
