#include "exporter/stats/pca_drift.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "absl/strings/str_cat.h"
#include "exporter/stats/summation.h"

namespace aiq::stats {
namespace {

absl::Status CheckMatrix(const Eigen::MatrixXd& m, std::string_view what) {
  if (m.rows() == 0 || m.cols() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": empty input"));
  }
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      if (!std::isfinite(m(r, c))) {
        return absl::InvalidArgumentError(absl::StrCat(
            std::string(what), ": non-finite value at row ", r, ", column ", c,
            " (impute or drop missing values first)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PcaDriftModel> PcaDriftModel::Fit(
    const Eigen::MatrixXd& reference, const PcaDriftOptions& options) {
  if (absl::Status s = CheckMatrix(reference, "pca drift: reference");
      !s.ok()) {
    return s;
  }
  const Eigen::Index n = reference.rows(), d = reference.cols();
  if (n < 2) {
    return absl::InvalidArgumentError(
        "pca drift: reference needs at least 2 rows");
  }
  if (!(options.explained_variance > 0 && options.explained_variance < 1)) {
    return absl::InvalidArgumentError(
        "pca drift: explained_variance must be in (0, 1)");
  }
  if (options.chunk_size <= 0 && options.num_chunks < 1) {
    return absl::InvalidArgumentError("pca drift: num_chunks must be >= 1");
  }
  PcaDriftModel model;
  model.mean_.resize(d);
  model.scale_.resize(d);
  std::vector<double> col(static_cast<size_t>(n));
  for (Eigen::Index c = 0; c < d; ++c) {
    for (Eigen::Index r = 0; r < n; ++r) {
      col[static_cast<size_t>(r)] = reference(r, c);
    }
    const double mean = Mean(col);
    const double sd = StdDevPopulation(col, mean);
    model.mean_(c) = mean;
    // sklearn StandardScaler: a (numerically) constant feature is scaled by
    // 1, so it standardizes to ~0 instead of dividing by ~0.
    const double tiny = static_cast<double>(n) *
                        std::numeric_limits<double>::epsilon() * std::abs(mean);
    model.scale_(c) = sd <= tiny ? 1.0 : sd;
  }
  const Eigen::MatrixXd z =
      (reference.rowwise() - model.mean_.transpose()).array().rowwise() /
      model.scale_.transpose().array();
  // sklearn's PCA centres again (its mean_ of the standardized data, ~0).
  model.center_ = z.colwise().mean().transpose();
  const Eigen::MatrixXd zc = z.rowwise() - model.center_.transpose();
  const Eigen::MatrixXd cov =
      (zc.transpose() * zc) / static_cast<double>(n - 1);
  // Principal axes = eigenvectors of the covariance, the same subspace as
  // sklearn's SVD of the centred data (sign is irrelevant: only the
  // projector V V^T is used).
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  if (eig.info() != Eigen::Success) {
    return absl::InternalError("pca drift: eigen decomposition failed");
  }
  const Eigen::VectorXd values = eig.eigenvalues().reverse().cwiseMax(0.0);
  const Eigen::MatrixXd vectors = eig.eigenvectors().rowwise().reverse();
  const double total = values.sum();
  model.explained_variance_ratio_ =
      total > 0 ? Eigen::VectorXd(values / total) : Eigen::VectorXd::Zero(d);
  // sklearn: n_components = searchsorted(cumsum(ratio), 0.65, "right") + 1,
  // the fewest components with cumulative ratio strictly above 0.65.
  Eigen::Index k = d;
  double cumulative = 0;
  for (Eigen::Index i = 0; i < d; ++i) {
    cumulative += model.explained_variance_ratio_(i);
    if (cumulative > options.explained_variance) {
      k = i + 1;
      break;
    }
  }
  model.components_ = vectors.leftCols(k);

  // Per-row errors of the reference, then chunk means (NannyML: threshold
  // from the spread of the reference chunks' errors).
  std::vector<double> row_errors(static_cast<size_t>(n));
  for (Eigen::Index r = 0; r < n; ++r) {
    row_errors[static_cast<size_t>(r)] =
        model.RowErrorUnchecked(reference.row(r));
  }
  model.reference_error_ = Mean(row_errors);
  int64_t chunk = options.chunk_size > 0
                      ? options.chunk_size
                      : static_cast<int64_t>(n) / options.num_chunks;
  chunk = std::max<int64_t>(chunk, 1);
  const int64_t num_chunks =
      std::max<int64_t>(static_cast<int64_t>(n) / chunk, 1);
  for (int64_t i = 0; i < num_chunks; ++i) {
    const int64_t begin = i * chunk;
    const int64_t end =
        i + 1 == num_chunks ? static_cast<int64_t>(n) : begin + chunk;
    model.chunk_errors_.push_back(
        Mean(std::span<const double>(row_errors)
                 .subspan(static_cast<size_t>(begin),
                          static_cast<size_t>(end - begin))));
  }
  const double chunk_mean = Mean(model.chunk_errors_);
  const double chunk_std = StdDevPopulation(model.chunk_errors_, chunk_mean);
  model.upper_threshold_ = chunk_mean + options.sigmas * chunk_std;
  model.lower_threshold_ =
      std::max(0.0, chunk_mean - options.sigmas * chunk_std);
  return model;
}

// ||z - z^|| with z^ = (z - c) V V^T + c, i.e. the norm of the part of
// (z - c) orthogonal to the kept components.
double PcaDriftModel::RowErrorUnchecked(
    const Eigen::Ref<const Eigen::RowVectorXd>& row) const {
  const Eigen::RowVectorXd zc =
      (row - mean_.transpose()).cwiseQuotient(scale_.transpose()) -
      center_.transpose();
  const Eigen::RowVectorXd projected =
      (zc * components_) * components_.transpose();
  return (zc - projected).norm();
}

absl::StatusOr<double> PcaDriftModel::ReconstructionError(
    const Eigen::MatrixXd& data) const {
  if (absl::Status s = CheckMatrix(data, "pca drift: data"); !s.ok()) return s;
  if (data.cols() != mean_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pca drift: data has ", data.cols(),
                     " columns, the reference had ", mean_.size()));
  }
  CompensatedSum sum;
  for (Eigen::Index r = 0; r < data.rows(); ++r) {
    sum.Add(RowErrorUnchecked(data.row(r)));
  }
  return sum.Value() / static_cast<double>(data.rows());
}

absl::StatusOr<double> PcaDriftModel::RowError(
    std::span<const double> row) const {
  if (static_cast<Eigen::Index>(row.size()) != mean_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("pca drift: row has ",
                                                   row.size(),
                                                   " values, the "
                                                   "reference had ",
                                                   mean_.size(), " columns"));
  }
  if (absl::Status s = CheckFinite(row, "pca drift: row"); !s.ok()) return s;
  const Eigen::Map<const Eigen::RowVectorXd> r(
      row.data(), static_cast<Eigen::Index>(row.size()));
  return RowErrorUnchecked(r);
}

}  // namespace aiq::stats
