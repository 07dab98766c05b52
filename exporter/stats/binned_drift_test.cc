// Building blocks: compensated sums, validation, numpy-compatible
// percentiles and histograms, PSI / Jensen–Shannon from counts and the
// Wasserstein distance (expected values from numpy 1.24 / scipy 1.10).
#include "exporter/stats/binned_drift.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "exporter/stats/oracle_test_util.h"
#include "exporter/stats/summation.h"
#include "exporter/stats/wasserstein.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Near;
using ::testing::HasSubstr;

TEST(CompensatedSumTest, AddSubtractRecoversSmallTerms) {
  CompensatedSum s;
  s.Add(1e16);
  for (int i = 0; i < 1000; ++i) s.Add(1.0);
  s.Subtract(1e16);
  EXPECT_EQ(s.Value(), 1000.0);
}

TEST(CompensatedSumTest, MergeUnmerge) {
  CompensatedSum a, b;
  for (int i = 0; i < 100; ++i) a.Add(0.1);
  for (int i = 0; i < 50; ++i) b.Add(1e10 + 0.3);
  CompensatedSum w = a;
  w.Merge(b);
  w.Unmerge(b);
  EXPECT_NEAR(w.Value(), a.Value(), 1e-12);
}

TEST(ValidationTest, EmptyAndNonFiniteAreClearErrors) {
  std::vector<double> empty;
  absl::Status s = CheckFiniteNonEmpty(empty, "psi: current");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("psi: current: empty input"));
  std::vector<double> nan = {1, std::nan(""), 3};
  s = CheckFiniteNonEmpty(nan, "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("index 1"));
  std::vector<double> inf = {std::numeric_limits<double>::infinity()};
  EXPECT_FALSE(CheckFinite(inf, "x").ok());
}

TEST(MeanStdTest, MatchesNumpyAndSurvivesHugeValues) {
  std::vector<double> v = {0.1, 0.2, 0.3, 0.4, 10.5};
  EXPECT_PRED_FORMAT2(Near, StdDevPopulation(v, Mean(v)), 4.1012193308819755);
  std::vector<double> huge = {1e300, -1e300, 5e299, 2e299};
  // numpy overflows to inf here; we rescale (value = np.std(x/1e300)*1e300).
  EXPECT_PRED_FORMAT2(Near, Mean(huge), 1.75e299);
  EXPECT_PRED_FORMAT2(Near, StdDevPopulation(huge, Mean(huge)),
                      7.36121593216773e+299);
  std::vector<double> big(1000, 1.5e306);  // the plain sum overflows
  EXPECT_EQ(Mean(big), 1.5e306);
  EXPECT_EQ(StdDevPopulation(big, Mean(big)), 0);
}

TEST(NumpySumTest, PairwiseMatchesPlainForExactData) {
  std::vector<double> v(1000);
  for (int i = 0; i < 1000; ++i) v[static_cast<size_t>(i)] = i;
  EXPECT_EQ(NumpySum(v), 499500.0);
}

TEST(PercentileTest, LinearInterpolationAsNumpy) {
  std::vector<double> v = {1, 2, 3, 4, 10};
  const double expected[] = {1.0,
                             1.4,
                             1.8,
                             2.2,
                             2.6,
                             3.0,
                             3.4,
                             3.8,
                             5.200000000000001,
                             7.6000000000000005,
                             10.0};
  for (int i = 0; i <= 10; ++i) {
    EXPECT_EQ(PercentileSorted(v, 10.0 * i), expected[i]) << i;
  }
}

TEST(QuantileBinsTest, TiesMakeEmptyZeroWidthBinsLikeNumpyHistogram) {
  // Deciles of a constant reference are all 5: edges -inf,5,...,5,+inf.
  std::vector<double> ref(20, 5.0);
  absl::StatusOr<QuantileBins> bins = MakeQuantileBins(ref);
  ASSERT_TRUE(bins.ok());
  EXPECT_EQ(bins->BinOf(4.9), 0);
  EXPECT_EQ(bins->BinOf(5.0), 9);  // x >= last finite edge -> last bin
  EXPECT_EQ(bins->BinOf(7.0), 9);
  std::vector<int64_t> counts = bins->Count(ref);
  EXPECT_EQ(counts, (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 20}));
}

TEST(QuantileBinsTest, RejectsBadReference) {
  std::vector<double> empty, unsorted = {2, 1}, nan = {1, std::nan("")};
  EXPECT_FALSE(MakeQuantileBins(empty).ok());
  EXPECT_FALSE(MakeQuantileBins(unsorted).ok());
  EXPECT_FALSE(MakeQuantileBins(nan).ok());
}

TEST(PsiTest, CountsValidation) {
  std::vector<int64_t> a = {1, 2}, b = {1}, zero = {0, 0}, neg = {1, -1};
  EXPECT_FALSE(PsiFromCounts(a, b).ok());
  EXPECT_THAT(PsiFromCounts(a, zero).status().message(),
              HasSubstr("empty current"));
  EXPECT_FALSE(PsiFromCounts(zero, a).ok());
  EXPECT_FALSE(JensenShannonFromCounts(a, neg).ok());
  EXPECT_EQ(*PsiFromCounts(a, a), 0.0);
  EXPECT_EQ(*JensenShannonFromCounts(a, a), 0.0);
}

TEST(PsiTest, DisjointSupportsUseTheZeroReplacement) {
  std::vector<int64_t> p = {10, 0}, q = {0, 10};
  // 2 * (1 - 1e-4) * ln(1e4)
  EXPECT_PRED_FORMAT2(Near, *PsiFromCounts(p, q),
                      2 * (1 - 1e-4) * std::log(1e4));
  EXPECT_PRED_FORMAT2(Near, *JensenShannonFromCounts(p, q),
                      std::sqrt(std::log(2.0)));
}

TEST(WassersteinTest, SmallExamples) {
  std::vector<double> a = {0, 1, 3}, b = {5, 6, 8};
  EXPECT_PRED_FORMAT2(Near, *WassersteinDistance(a, b), 5.0);
  std::vector<double> u = {3.0}, v = {1.0, 2.0, 3.0, 4.0};
  EXPECT_PRED_FORMAT2(Near, *WassersteinDistance(u, v), 1.0);
  EXPECT_EQ(*WassersteinDistance(v, v), 0.0);
}

TEST(WassersteinTest, HugeValuesDoNotOverflow) {
  std::vector<double> u = {1e300, 2e300, -1e300}, v = {0.0, 5e299};
  EXPECT_PRED_FORMAT2(Near, *WassersteinDistance(u, v),
                      1.0833333333333334e+300);
}

TEST(WassersteinTest, Errors) {
  std::vector<double> empty, one = {1}, nan = {std::nan("")}, unsorted = {2, 1};
  EXPECT_EQ(WassersteinDistance(empty, one).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(WassersteinDistance(one, nan).ok());
  EXPECT_FALSE(WassersteinDistanceSorted(unsorted, one).ok());
}

TEST(WassersteinTest, NormedUsesStdFloor) {
  EXPECT_EQ(NormedWasserstein(0.5, 0.0), 500.0);
  EXPECT_EQ(NormedWasserstein(0.5, 2.0), 0.25);
}

TEST(WassersteinTest, SortedMergeEqualsBruteForceCdfIntegral) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> d(0, 20);  // many ties
  std::vector<double> u(300), v(200);
  for (double& x : u) x = d(rng);
  for (double& x : v) x = d(rng) + 1;
  // Integral of |F_u - F_v| over the integer grid.
  double brute = 0;
  for (int x = 0; x < 21; ++x) {
    double fu = 0, fv = 0;
    for (double y : u) fu += y <= x;
    for (double y : v) fv += y <= x;
    brute += std::abs(fu / 300 - fv / 200);
  }
  EXPECT_PRED_FORMAT2(Near, *WassersteinDistance(u, v), brute);
}

}  // namespace
}  // namespace aiq::stats
