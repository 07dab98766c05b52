#include "exporter/stats/pca_drift.h"

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "exporter/stats/summation.h"

namespace aiq::stats {
namespace {

using RowMajorMap =
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                   Eigen::RowMajor>>;

// Checks shape and values; the Eigen view of `m` if they are fine.
absl::StatusOr<RowMajorMap> CheckMatrix(MatrixView m, std::string_view what) {
  if (m.rows < 0 || m.cols < 0 ||
      (m.cols > 0 && m.rows > std::numeric_limits<int64_t>::max() / m.cols) ||
      static_cast<int64_t>(m.values.size()) != m.rows * m.cols) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": ", m.rows, " rows x ", m.cols,
                     " columns do not match ", m.values.size(), " values"));
  }
  if (m.rows == 0 || m.cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": empty input"));
  }
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) {
      if (!std::isfinite(m.values[static_cast<size_t>(r * m.cols + c)])) {
        return absl::InvalidArgumentError(absl::StrCat(
            std::string(what), ": non-finite value at row ", r, ", column ", c,
            " (impute or drop missing values first)"));
      }
    }
  }
  return RowMajorMap(m.values.data(), static_cast<Eigen::Index>(m.rows),
                     static_cast<Eigen::Index>(m.cols));
}

}  // namespace

struct PcaDriftModel::Impl {
  // ||z - z^|| with z^ = (z - c) V V^T + c, i.e. the norm of the part of
  // (z - c) orthogonal to the kept components.
  // Plain loops, without heap allocations for the usual few features: this
  // runs once per prediction, and at these sizes Eigen's matrix-vector
  // products spend more time choosing a kernel than multiplying.
  double RowError(const Eigen::Ref<const Eigen::RowVectorXd>& row) const {
    const Eigen::Index d = mean.size();
    const Eigen::Index k = components.cols();
    absl::InlinedVector<double, 16> zc(static_cast<size_t>(d));
    absl::InlinedVector<double, 16> c(static_cast<size_t>(k), 0.0);
    for (Eigen::Index i = 0; i < d; ++i) {
      zc[static_cast<size_t>(i)] = (row(i) - mean(i)) / scale(i) - center(i);
    }
    for (Eigen::Index j = 0; j < k; ++j) {
      double dot = 0;
      for (Eigen::Index i = 0; i < d; ++i) {
        dot += components(i, j) * zc[static_cast<size_t>(i)];
      }
      c[static_cast<size_t>(j)] = dot;
    }
    double squared = 0;  // of the part orthogonal to the axes
    for (Eigen::Index i = 0; i < d; ++i) {
      double projected = 0;
      for (Eigen::Index j = 0; j < k; ++j) {
        projected += components(i, j) * c[static_cast<size_t>(j)];
      }
      const double orthogonal = zc[static_cast<size_t>(i)] - projected;
      squared += orthogonal * orthogonal;
    }
    return std::sqrt(squared);
  }

  Eigen::VectorXd mean;
  Eigen::VectorXd scale;
  Eigen::VectorXd center;  // mean of the standardized reference (~0)
  // Columns = orthonormal principal axes in standardized space.
  Eigen::MatrixXd components;
  Eigen::VectorXd explained_variance_ratio;
  double reference_error = 0;
  std::vector<double> chunk_errors;
  double lower_threshold = 0;
  double upper_threshold = 0;
};

absl::StatusOr<PcaDriftModel> PcaDriftModel::Fit(
    MatrixView reference_view, const PcaDriftOptions& options) {
  absl::StatusOr<RowMajorMap> checked =
      CheckMatrix(reference_view, "pca drift: reference");
  if (!checked.ok()) return checked.status();
  const RowMajorMap& reference = *checked;
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
  auto model = std::make_shared<Impl>();
  model->mean.resize(d);
  model->scale.resize(d);
  std::vector<double> col(static_cast<size_t>(n));
  for (Eigen::Index c = 0; c < d; ++c) {
    for (Eigen::Index r = 0; r < n; ++r) {
      col[static_cast<size_t>(r)] = reference(r, c);
    }
    const double mean = Mean(col);
    const double sd = StdDevPopulation(col, mean);
    model->mean(c) = mean;
    // sklearn StandardScaler: a (numerically) constant feature is scaled by
    // 1, so it standardizes to ~0 instead of dividing by ~0.
    const double tiny = static_cast<double>(n) *
                        std::numeric_limits<double>::epsilon() * std::abs(mean);
    model->scale(c) = sd <= tiny ? 1.0 : sd;
  }
  const Eigen::MatrixXd z =
      (reference.rowwise() - model->mean.transpose()).array().rowwise() /
      model->scale.transpose().array();
  // sklearn's PCA centres again (its mean_ of the standardized data, ~0).
  model->center = z.colwise().mean().transpose();
  const Eigen::MatrixXd zc = z.rowwise() - model->center.transpose();
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
  model->explained_variance_ratio =
      total > 0 ? Eigen::VectorXd(values / total) : Eigen::VectorXd::Zero(d);
  // sklearn: n_components = searchsorted(cumsum(ratio), 0.65, "right") + 1,
  // the fewest components with cumulative ratio strictly above 0.65.
  Eigen::Index k = d;
  double cumulative = 0;
  for (Eigen::Index i = 0; i < d; ++i) {
    cumulative += model->explained_variance_ratio(i);
    if (cumulative > options.explained_variance) {
      k = i + 1;
      break;
    }
  }
  model->components = vectors.leftCols(k);

  // Per-row errors of the reference, then chunk means (NannyML: threshold
  // from the spread of the reference chunks' errors).
  std::vector<double> row_errors(static_cast<size_t>(n));
  for (Eigen::Index r = 0; r < n; ++r) {
    row_errors[static_cast<size_t>(r)] = model->RowError(reference.row(r));
  }
  model->reference_error = Mean(row_errors);
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
    model->chunk_errors.push_back(
        Mean(std::span<const double>(row_errors)
                 .subspan(static_cast<size_t>(begin),
                          static_cast<size_t>(end - begin))));
  }
  const double chunk_mean = Mean(model->chunk_errors);
  const double chunk_std = StdDevPopulation(model->chunk_errors, chunk_mean);
  model->upper_threshold = chunk_mean + options.sigmas * chunk_std;
  model->lower_threshold =
      std::max(0.0, chunk_mean - options.sigmas * chunk_std);
  return PcaDriftModel(std::move(model));
}

int PcaDriftModel::num_features() const {
  return static_cast<int>(impl_->mean.size());
}
int PcaDriftModel::num_components() const {
  return static_cast<int>(impl_->components.cols());
}
std::span<const double> PcaDriftModel::mean() const {
  return {impl_->mean.data(), static_cast<size_t>(impl_->mean.size())};
}
std::span<const double> PcaDriftModel::scale() const {
  return {impl_->scale.data(), static_cast<size_t>(impl_->scale.size())};
}
std::span<const double> PcaDriftModel::component(int k) const {
  // Column-major: each axis (column) is contiguous.
  return {impl_->components.col(k).data(),
          static_cast<size_t>(impl_->components.rows())};
}
std::span<const double> PcaDriftModel::explained_variance_ratio() const {
  return {impl_->explained_variance_ratio.data(),
          static_cast<size_t>(impl_->explained_variance_ratio.size())};
}
double PcaDriftModel::reference_error() const { return impl_->reference_error; }
const std::vector<double>& PcaDriftModel::chunk_errors() const {
  return impl_->chunk_errors;
}
double PcaDriftModel::lower_threshold() const { return impl_->lower_threshold; }
double PcaDriftModel::upper_threshold() const { return impl_->upper_threshold; }

absl::StatusOr<double> PcaDriftModel::ReconstructionError(
    MatrixView data_view) const {
  absl::StatusOr<RowMajorMap> data = CheckMatrix(data_view, "pca drift: data");
  if (!data.ok()) return data.status();
  if (data->cols() != impl_->mean.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pca drift: data has ", data->cols(),
                     " columns, the reference had ", impl_->mean.size()));
  }
  CompensatedSum sum;
  for (Eigen::Index r = 0; r < data->rows(); ++r) {
    sum.Add(impl_->RowError(data->row(r)));
  }
  return sum.Value() / static_cast<double>(data->rows());
}

absl::StatusOr<double> PcaDriftModel::RowError(
    std::span<const double> row) const {
  if (static_cast<Eigen::Index>(row.size()) != impl_->mean.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pca drift: row has ", row.size(), " values, the reference had ",
        impl_->mean.size(), " columns"));
  }
  if (absl::Status s = CheckFinite(row, "pca drift: row"); !s.ok()) return s;
  const Eigen::Map<const Eigen::RowVectorXd> r(
      row.data(), static_cast<Eigen::Index>(row.size()));
  return impl_->RowError(r);
}

}  // namespace aiq::stats
