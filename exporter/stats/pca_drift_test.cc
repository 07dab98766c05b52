// PCA reconstruction drift against the oracle's `multivariate` case
// (sklearn StandardScaler + PCA(0.65), NannyML's error), plus edge cases.
#include "exporter/stats/pca_drift.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "exporter/stats/oracle_test_util.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Cases;
using ::aiq::stats::testing::Near;
using ::testing::HasSubstr;

// A data set and its view (row-major).
struct Matrix {
  Matrix(int64_t r, int64_t c, std::vector<double> v = {})
      : rows(r), cols(c), values(std::move(v)) {
    values.resize(static_cast<size_t>(r * c));
  }
  double& operator()(int64_t r, int64_t c) {
    return values[static_cast<size_t>(r * cols + c)];
  }
  operator MatrixView() const { return {values, rows, cols}; }  // NOLINT
  int64_t rows, cols;
  std::vector<double> values;
};

Matrix ToMatrix(const nlohmann::json& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  const auto d = static_cast<int64_t>(rows[0].size());
  Matrix m(n, d);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < d; ++c) {
      m(r, c) = rows[static_cast<size_t>(r)][static_cast<size_t>(c)];
    }
  }
  return m;
}

TEST(PcaDriftOracleTest, EveryMultivariateCase) {
  const auto cases = Cases("multivariate");
  ASSERT_EQ(cases.size(), 1u);
  for (const auto& c : cases) {
    const auto& e = c["expected"];
    absl::StatusOr<PcaDriftModel> model =
        PcaDriftModel::Fit(ToMatrix(c["reference"]));
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(model->num_components(), e["components"].get<int>());
    EXPECT_PRED_FORMAT2(Near, model->reference_error(),
                        e["reference_error"].get<double>());
    EXPECT_PRED_FORMAT2(Near,
                        *model->ReconstructionError(ToMatrix(c["reference"])),
                        e["reference_error"].get<double>());
    const double same =
        *model->ReconstructionError(ToMatrix(c["current_same"]));
    const double broken =
        *model->ReconstructionError(ToMatrix(c["current_broken_correlation"]));
    EXPECT_PRED_FORMAT2(Near, same, e["current_same_error"].get<double>());
    EXPECT_PRED_FORMAT2(Near, broken, e["current_broken_error"].get<double>());
    // The threshold separates them.
    EXPECT_EQ(model->chunk_errors().size(), 10u);
    EXPECT_LE(same, model->upper_threshold());
    EXPECT_GE(same, model->lower_threshold());
    EXPECT_GT(broken, model->upper_threshold());
    // Streaming: sum of per-row errors / rows.
    const auto rows = c["current_broken_correlation"];
    double sum = 0;
    for (const auto& row : rows)
      sum += *model->RowError(row.get<std::vector<double>>());
    EXPECT_PRED_FORMAT2(Near, sum / static_cast<double>(rows.size()), broken);
  }
}

TEST(PcaDriftTest, ComponentRuleIsStrictlyAbove) {
  // Two independent features with equal variance: ratios 0.5, 0.5. With
  // threshold 0.5 the first component alone is not "> 0.5" -> 2 components.
  const Matrix m(4, 2, {1, 1, -1, 1, 1, -1, -1, -1});
  PcaDriftOptions o;
  o.explained_variance = 0.5;
  o.num_chunks = 2;
  PcaDriftModel model = *PcaDriftModel::Fit(m, o);
  EXPECT_EQ(model.num_components(), 2);
  EXPECT_NEAR(model.reference_error(), 0, 1e-12);
}

TEST(PcaDriftTest, ConstantFeatureAndChunkSize) {
  Matrix m(100, 3);
  for (int r = 0; r < 100; ++r) {
    m(r, 0) = r;
    m(r, 1) = 2.0 * r + (r % 7);
    m(r, 2) = 5.0;  // constant: scale 1, standardizes to 0
  }
  PcaDriftOptions o;
  o.chunk_size = 30;  // 3 chunks, the last one with 40 rows
  absl::StatusOr<PcaDriftModel> model = PcaDriftModel::Fit(m, o);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->scale()[2], 1.0);
  EXPECT_EQ(model->mean()[0], 49.5);
  EXPECT_EQ(model->mean()[2], 5.0);
  EXPECT_EQ(model->chunk_errors().size(), 3u);
  EXPECT_TRUE(std::isfinite(model->upper_threshold()));
  // The axes are orthonormal; the ratios of all axes sum to 1.
  ASSERT_EQ(model->explained_variance_ratio().size(), 3u);
  double ratio_sum = 0;
  for (double v : model->explained_variance_ratio()) ratio_sum += v;
  EXPECT_NEAR(ratio_sum, 1.0, 1e-12);
  ASSERT_GE(model->num_components(), 1);
  for (int a = 0; a < model->num_components(); ++a) {
    ASSERT_EQ(model->component(a).size(), 3u);
    for (int b = 0; b < model->num_components(); ++b) {
      double dot = 0;
      for (size_t i = 0; i < 3; ++i) {
        dot += model->component(a)[i] * model->component(b)[i];
      }
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12) << a << "," << b;
    }
  }
  // A copy shares the fitted state and gives the same errors.
  const PcaDriftModel copy = *model;
  const std::vector<double> row = {3.0, 7.0, 5.0};
  EXPECT_EQ(*copy.RowError(row), *model->RowError(row));
}

TEST(PcaDriftTest, Errors) {
  const Matrix empty(0, 3), one(1, 3, {1, 2, 3}),
      nan(2, 2, {1, 2, std::nan(""), 4});
  absl::StatusOr<PcaDriftModel> r = PcaDriftModel::Fit(empty);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
  EXPECT_FALSE(PcaDriftModel::Fit(one).ok());
  EXPECT_FALSE(PcaDriftModel::Fit(nan).ok());
  const std::vector<double> five(5, 1.0);
  r = PcaDriftModel::Fit({five, 3, 2});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("3 rows x 2 columns do not match 5 values"));
  const Matrix ok(3, 2, {1, 2, 2, 1, 3, 5});
  PcaDriftModel model = *PcaDriftModel::Fit(ok);
  EXPECT_FALSE(model.ReconstructionError(one).ok());  // 3 columns vs 2
  std::vector<double> row = {1.0, std::nan("")};
  EXPECT_FALSE(model.RowError(row).ok());
}

}  // namespace
}  // namespace aiq::stats
