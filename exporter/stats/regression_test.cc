// Regression metrics against the sklearn oracle, large offsets, sklearn's
// edge cases, and the accumulator against batch.
#include "exporter/stats/regression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/stats/oracle_test_util.h"
#include "exporter/testing/codec_test_util.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Cases;
using ::aiq::stats::testing::Near;
using ::testing::HasSubstr;

void ExpectMetrics(const RegressionMetrics& m, double mae, double mse,
                   double rmse, double r2, double mape) {
  EXPECT_PRED_FORMAT2(Near, m.mae, mae);
  EXPECT_PRED_FORMAT2(Near, m.mse, mse);
  EXPECT_PRED_FORMAT2(Near, m.rmse, rmse);
  EXPECT_PRED_FORMAT2(Near, m.r2, r2);
  EXPECT_PRED_FORMAT2(Near, m.mape, mape);
}

TEST(RegressionOracleTest, EveryRegressionCase) {
  const auto cases = Cases("regression");
  ASSERT_EQ(cases.size(), 1u);
  for (const auto& c : cases) {
    const auto y = c["y_true"].get<std::vector<double>>();
    const auto p = c["y_pred"].get<std::vector<double>>();
    const auto& e = c["expected"];
    absl::StatusOr<RegressionMetrics> m = EvaluateRegression(y, p);
    ASSERT_TRUE(m.ok()) << m.status();
    ExpectMetrics(*m, e["mae"], e["mse"], e["rmse"], e["r2"], e["mape"]);
    RegressionAccumulator acc;
    for (size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(acc.Add(y[i], p[i]).ok());
    ExpectMetrics(*acc.Metrics(), e["mae"], e["mse"], e["rmse"], e["r2"],
                  e["mape"]);
  }
}

// y ~ 1e6 with unit spread: the naive sum-of-squares formula loses ~12
// digits here. Expected values from sklearn 1.2 on the same formula.
void LargeOffsetData(std::vector<double>* y, std::vector<double>* p) {
  for (int i = 0; i < 1000; ++i) {
    const double yi = 1e6 + ((i * 7919) % 1000) / 1000.0 - 0.5;
    y->push_back(yi);
    p->push_back(yi +
                 ((static_cast<int64_t>(i) * 104729) % 601 - 300) / 1000.0);
  }
}
constexpr double kMae = 0.15025100000004749, kMse = 0.030100302999920052,
                 kRmse = 0.17349438895802957, kR2 = 0.6387960027965505,
                 kMape = 1.50251000174172e-07;

TEST(RegressionTest, LargeOffsetBatchAndAccumulator) {
  std::vector<double> y, p;
  LargeOffsetData(&y, &p);
  ExpectMetrics(*EvaluateRegression(y, p), kMae, kMse, kRmse, kR2, kMape);
  // Accumulators need a shift near the data (y^2 ~ 1e12 would lose the
  // spread): an explicit one, or the default first value.
  RegressionAccumulator near_data(1e6);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_TRUE(near_data.Add(y[i], p[i]).ok());
  ExpectMetrics(*near_data.Metrics(), kMae, kMse, kRmse, kR2, kMape);
  RegressionAccumulator first_value;  // default: shift = first y
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_TRUE(first_value.Add(y[i], p[i]).ok());
  ExpectMetrics(*first_value.Metrics(), kMae, kMse, kRmse, kR2, kMape);
}

TEST(RegressionTest, BucketsWithDifferentShiftsMergeAndExpire) {
  std::vector<double> y, p;
  LargeOffsetData(&y, &p);
  std::vector<RegressionAccumulator> buckets;
  for (size_t i = 0; i < y.size(); ++i) {
    if (i % 100 == 0) buckets.emplace_back();  // each its own first-y shift
    ASSERT_TRUE(buckets.back().Add(y[i], p[i]).ok());
  }
  RegressionAccumulator window;
  for (const auto& b : buckets) window.Merge(b);
  for (int round = 0; round < 50; ++round) {  // slide back and forth
    window.Unmerge(buckets[static_cast<size_t>(round % 10)]);
    window.Merge(buckets[static_cast<size_t>(round % 10)]);
  }
  EXPECT_EQ(window.count(), 1000);
  ExpectMetrics(*window.Metrics(), kMae, kMse, kRmse, kR2, kMape);
  // Per-row subtract then add back.
  ASSERT_TRUE(window.Subtract(y[5], p[5]).ok());
  ASSERT_TRUE(window.Add(y[5], p[5]).ok());
  ExpectMetrics(*window.Metrics(), kMae, kMse, kRmse, kR2, kMape);
  // Expiring everything leaves an empty accumulator.
  for (const auto& b : buckets) window.Unmerge(b);
  EXPECT_EQ(window.count(), 0);
  EXPECT_FALSE(window.Metrics().ok());
}

TEST(RegressionTest, SklearnEdgeCases) {
  // Constant target: r2 = 1 when perfect, else 0 (force_finite).
  std::vector<double> c = {2, 2, 2}, off = {1, 2, 2};
  EXPECT_EQ(EvaluateRegression(c, c)->r2, 1.0);
  EXPECT_EQ(EvaluateRegression(c, off)->r2, 0.0);
  RegressionAccumulator acc(0.7);  // shift away from the data
  for (double v : {0.1, 0.1, 0.1}) ASSERT_TRUE(acc.Add(v, 0.2).ok());
  EXPECT_EQ(acc.Metrics()->r2, 0.0);
  // MAPE divides by max(|y|, eps): sklearn gives 562949953421312.1.
  std::vector<double> y = {0.0, 1.0, -2.0, 1e-20}, p = {0.5, 1.0, -1.0, 0.0};
  EXPECT_PRED_FORMAT2(Near, EvaluateRegression(y, p)->mape, 562949953421312.1);
  // n = 1.
  std::vector<double> one = {3.0}, pred = {5.0};
  RegressionMetrics m = *EvaluateRegression(one, pred);
  EXPECT_EQ(m.mae, 2.0);
  EXPECT_EQ(m.mse, 4.0);
  EXPECT_EQ(m.r2, 0.0);
}

TEST(RegressionTest, Errors) {
  std::vector<double> empty, one = {1.0}, two = {1.0, 2.0};
  absl::StatusOr<RegressionMetrics> m = EvaluateRegression(empty, empty);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("empty"));
  EXPECT_FALSE(EvaluateRegression(one, two).ok());
  std::vector<double> nan = {std::nan("")};
  EXPECT_FALSE(EvaluateRegression(nan, one).ok());
  RegressionAccumulator acc;
  EXPECT_FALSE(acc.Add(std::nan(""), 1).ok());
  EXPECT_FALSE(acc.Add(1, HUGE_VAL).ok());
  EXPECT_EQ(acc.count(), 0);
  EXPECT_EQ(acc.Subtract(1, 1).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RegressionTest, HugeValues) {
  // Errors ~1e150 square to ~1e300: finite; MAE of 1e300-scale errors too.
  std::vector<double> y = {1e300, -1e300}, p = {1e300, -1e300};
  RegressionMetrics m = *EvaluateRegression(y, p);
  EXPECT_EQ(m.mae, 0);
  EXPECT_EQ(m.r2, 1.0);
  std::vector<double> y2 = {1e150, 2e150}, p2 = {2e150, 1e150};
  m = *EvaluateRegression(y2, p2);
  EXPECT_PRED_FORMAT2(Near, m.mse, 1e300);
  EXPECT_PRED_FORMAT2(Near, m.mape, 0.75);
}

using aiq::testing::Decoded;
using aiq::testing::Encoded;
using aiq::testing::ExpectTruncationIsDataLoss;

TEST(RegressionAccumulatorCodecTest, ContinuesIdenticallyAfterDecode) {
  for (const bool with_shift : {false, true}) {
    RegressionAccumulator acc =
        with_shift ? RegressionAccumulator(1e6) : RegressionAccumulator();
    RegressionAccumulator empty = Decoded<RegressionAccumulator>(Encoded(acc));
    EXPECT_EQ(empty.shift(), acc.shift());
    auto feed = [](RegressionAccumulator& a, uint64_t seed, int n) {
      std::mt19937_64 local(seed);
      std::normal_distribution<double> nd;
      for (int i = 0; i < n; ++i) {
        const double y = 1e6 + nd(local);
        ASSERT_TRUE(a.Add(y, y + 0.1 * nd(local)).ok());
      }
    };
    feed(acc, 1, 2000);
    RegressionAccumulator copy = Decoded<RegressionAccumulator>(Encoded(acc));
    EXPECT_EQ(Encoded(copy), Encoded(acc));
    EXPECT_EQ(copy.Metrics()->r2, acc.Metrics()->r2);
    feed(acc, 2, 1000);
    feed(copy, 2, 1000);
    EXPECT_EQ(Encoded(copy), Encoded(acc));
    const RegressionMetrics a = *acc.Metrics(), b = *copy.Metrics();
    EXPECT_EQ(a.count, b.count);
    EXPECT_EQ(a.mae, b.mae);
    EXPECT_EQ(a.mse, b.mse);
    EXPECT_EQ(a.r2, b.r2);
    EXPECT_EQ(a.mape, b.mape);
    RegressionAccumulator target;
    ASSERT_TRUE(target.Add(1, 2).ok());
    ExpectTruncationIsDataLoss(Encoded(acc), target);
  }
}

}  // namespace
}  // namespace aiq::stats
