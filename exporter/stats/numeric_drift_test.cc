// Numeric drift statistics against every `numeric` case of the scipy oracle,
// plus edge cases.
#include "exporter/stats/numeric_drift.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exporter/stats/oracle_test_util.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Cases;
using ::aiq::stats::testing::Near;
using ::testing::HasSubstr;

TEST(NumericDriftOracleTest, EveryNumericCase) {
  const auto cases = Cases("numeric");
  ASSERT_EQ(cases.size(), 10u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ref = c["reference"].get<std::vector<double>>();
    const auto cur = c["current"].get<std::vector<double>>();
    const auto& e = c["expected"];
    absl::StatusOr<NumericReference> profile = MakeNumericReference(ref);
    ASSERT_TRUE(profile.ok()) << profile.status();
    absl::StatusOr<NumericDrift> d = CompareNumeric(*profile, cur);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_PRED_FORMAT2(Near, d->psi, e["psi"].get<double>());
    EXPECT_PRED_FORMAT2(Near, d->jensen_shannon,
                        e["jensen_shannon"].get<double>());
    EXPECT_PRED_FORMAT2(Near, d->wasserstein, e["wasserstein"].get<double>());
    EXPECT_PRED_FORMAT2(Near, d->wasserstein_normed,
                        e["wasserstein_normed"].get<double>());
    // KS statistic/p-value are tested in ks_test.cc (KS owner); here only
    // that the profile hands the samples through.
  }
}

TEST(NumericDriftOracleTest, StreamingCountsEqualBatch) {
  for (const auto& c : Cases("numeric")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ref = c["reference"].get<std::vector<double>>();
    const auto cur = c["current"].get<std::vector<double>>();
    NumericReference profile = *MakeNumericReference(ref);
    // Current window as 3 buckets, one expired and re-added.
    std::vector<int64_t> window(static_cast<size_t>(profile.bins.num_bins()));
    const size_t third = cur.size() / 3;
    std::span<const double> all(cur);
    std::vector<int64_t> b0 = profile.bins.Count(all.subspan(0, third));
    profile.bins.AddCounts(all.subspan(0, third), window);
    profile.bins.AddCounts(all.subspan(third), window);
    for (size_t i = 0; i < window.size(); ++i) window[i] -= b0[i];
    profile.bins.AddCounts(all.subspan(0, third), window);
    const NumericDrift batch = *CompareNumeric(profile, cur);
    EXPECT_EQ(*NumericPsi(profile, window), batch.psi);
    EXPECT_EQ(*NumericJensenShannon(profile, window), batch.jensen_shannon);
  }
}

TEST(NumericDriftTest, EmptyInputIsInvalidArgument) {
  std::vector<double> empty, one = {1.0};
  absl::StatusOr<NumericReference> r = MakeNumericReference(empty);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
  NumericReference p = *MakeNumericReference(one);
  EXPECT_EQ(CompareNumeric(p, empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NumericDriftTest, NanAndInfRejected) {
  std::vector<double> bad = {1.0, std::nan(""), 2.0};
  EXPECT_EQ(MakeNumericReference(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<double> ok = {1.0, 2.0};
  NumericReference p = *MakeNumericReference(ok);
  std::vector<double> inf = {HUGE_VAL};
  EXPECT_FALSE(CompareNumeric(p, bad).ok());
  EXPECT_FALSE(CompareNumeric(p, inf).ok());
}

TEST(NumericDriftTest, SingleReferenceValue) {
  // scipy/numpy: psi 4.604318466668949, js 0.46450140402245893, W 1.
  std::vector<double> ref = {3.0}, cur = {1.0, 2.0, 3.0, 4.0};
  NumericReference p = *MakeNumericReference(ref);
  EXPECT_EQ(p.unique_count, 1);
  NumericDrift d = *CompareNumeric(p, cur);
  EXPECT_PRED_FORMAT2(Near, d.psi, 4.604318466668949);
  EXPECT_PRED_FORMAT2(Near, d.jensen_shannon, 0.46450140402245893);
  EXPECT_PRED_FORMAT2(Near, d.wasserstein, 1.0);
  EXPECT_PRED_FORMAT2(Near, d.wasserstein_normed, 1000.0);  // std floor
}

TEST(NumericDriftTest, HugeValues) {
  // numpy: psi 11.295857176965331, js 0.7028268990457806, W 3.583e299.
  std::vector<double> ref = {1e300, -1e300, 5e299, 2e299};
  std::vector<double> cur = {1e300, 0.0, 3e299};
  NumericReference p = *MakeNumericReference(ref);
  EXPECT_TRUE(std::isfinite(p.std_dev));
  NumericDrift d = *CompareNumeric(p, cur);
  EXPECT_PRED_FORMAT2(Near, d.psi, 11.295857176965331);
  EXPECT_PRED_FORMAT2(Near, d.jensen_shannon, 0.7028268990457806);
  EXPECT_PRED_FORMAT2(Near, d.wasserstein, 3.5833333333333335e+299);
  EXPECT_PRED_FORMAT2(Near, d.wasserstein_normed,
                      3.5833333333333335e+299 / 7.36121593216773e+299);
}

TEST(NumericDriftTest, SortedEntryRejectsUnsorted) {
  std::vector<double> ref = {1, 2, 3}, cur = {3, 1};
  NumericReference p = *MakeNumericReference(ref);
  EXPECT_FALSE(CompareNumericSorted(p, cur).ok());
}

}  // namespace
}  // namespace aiq::stats
