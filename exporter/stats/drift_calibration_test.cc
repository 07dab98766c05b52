// `drift_threshold: auto`: the quantile rule on known scores, exact
// thresholds for references whose every chunk scores the same, errors,
// determinism, and the false-alarm rate over many stationary windows drawn
// from the reference's own distribution (against the fixed defaults, and
// with a shifted window still detected).
#include "exporter/stats/drift_calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "exporter/stats/categorical.h"
#include "exporter/stats/ks.h"
#include "exporter/stats/wasserstein.h"

namespace aiq::stats {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ThresholdFromChunkScoresTest, FiftiethMostExtremeOfTenThousand) {
  ASSERT_EQ(kCalibrationDraws, 10000);
  ASSERT_EQ(kCalibrationExtremes, 50);
  std::vector<double> distances, p_values;
  for (int i = 1; i <= 10000; ++i) {
    // Out of order, to show that order does not matter.
    const int v = (i * 7919) % 10000 + 1;
    distances.push_back(v);
    p_values.push_back(static_cast<double>(v) / 10000);
  }
  // The 50th largest of 1..10000 is 9951; a score of 9951 is not drift, the
  // next double above is the threshold (drift when >=).
  for (DriftTest t :
       {DriftTest::kWasserstein, DriftTest::kJensenShannon, DriftTest::kPsi}) {
    const double th = ThresholdFromChunkScores(t, distances);
    EXPECT_EQ(th, std::nextafter(9951.0, kInf));
    EXPECT_FALSE(IsDrift(t, 9951, th));
    EXPECT_TRUE(IsDrift(t, 9952, th));
  }
  // The 50th smallest p-value is 0.005. Z and chi-square drift when p <
  // threshold: the threshold is that p-value. KS drifts when p <=: one
  // double below it.
  EXPECT_EQ(ThresholdFromChunkScores(DriftTest::kZ, p_values), 50.0 / 10000);
  EXPECT_EQ(ThresholdFromChunkScores(DriftTest::kChiSquare, p_values),
            50.0 / 10000);
  const double ks = ThresholdFromChunkScores(DriftTest::kKs, p_values);
  EXPECT_EQ(ks, std::nextafter(50.0 / 10000, 0.0));
  EXPECT_FALSE(IsDrift(DriftTest::kKs, 50.0 / 10000, ks));
  EXPECT_TRUE(IsDrift(DriftTest::kKs, 49.0 / 10000, ks));
  // Exactly 49 scores are strictly beyond each threshold: 49 / 10000 of the
  // chunks themselves would be flagged, below alpha = 50 / 10001.
  int beyond = 0, beyond_z = 0, beyond_w = 0;
  const double z = ThresholdFromChunkScores(DriftTest::kZ, p_values);
  const double w = ThresholdFromChunkScores(DriftTest::kWasserstein, distances);
  for (size_t i = 0; i < p_values.size(); ++i) {
    beyond += IsDrift(DriftTest::kKs, p_values[i], ks) ? 1 : 0;
    beyond_z += IsDrift(DriftTest::kZ, p_values[i], z) ? 1 : 0;
    beyond_w += IsDrift(DriftTest::kWasserstein, distances[i], w) ? 1 : 0;
  }
  EXPECT_EQ(beyond, 49);
  EXPECT_EQ(beyond_z, 49);
  EXPECT_EQ(beyond_w, 49);
  // Another rank: the 3rd most extreme of four.
  const std::vector<double> four = {0.4, 0.1, 0.3, 0.2};
  EXPECT_EQ(ThresholdFromChunkScores(DriftTest::kChiSquare, four, 3), 0.3);
  EXPECT_EQ(ThresholdFromChunkScores(DriftTest::kPsi, four, 3),
            std::nextafter(0.2, kInf));
  // Ties: with every score equal nothing is strictly beyond, so nothing in
  // the calibration sample is flagged.
  const std::vector<double> same(1000, 0.25);
  EXPECT_EQ(ThresholdFromChunkScores(DriftTest::kChiSquare, same), 0.25);
  EXPECT_FALSE(IsDrift(DriftTest::kChiSquare, 0.25, 0.25));
}

// A reference of 99 "a" and one "b", in chunks of 50: every chunk either
// holds the "b" (49 a + 1 b against a rest of 50 a) or not (50 a against
// 49 a + 1 b). Both score the same (the tests are symmetric), so every
// calibration score is one known number and so is the threshold.
TEST(CalibrateThresholdTest, ExactOnAReferenceWhoseChunksAllScoreTheSame) {
  CategoryCounts ref;
  ref.Add("a", 99);
  ref.Add("b", 1);
  const std::vector<int64_t> with_b = {49, 1}, rest_without = {50, 0};
  const std::vector<int64_t> without_b = {50, 0}, rest_with = {49, 1};

  // Z (the default for two categories): success = "b".
  FeatureReference z = *FeatureReference::Categorical(ref);
  ASSERT_EQ(z.choice().test, DriftTest::kZ);
  ASSERT_TRUE(z.CalibrateThreshold(50).ok());
  const double p1 = TwoProportionZTest(0, 50, 1, 50)->p_value;
  const double p2 = TwoProportionZTest(1, 50, 0, 50)->p_value;
  // By hand: pooled 0.01, se = sqrt(0.01 * 0.99 * 2 / 50) = 0.0198997,
  // z = 0.02 / se = 1.00504, p = 2 * Phi(-1.00504) = 0.31488.
  EXPECT_NEAR(p1, 0.3148786, 1e-6);
  EXPECT_EQ(z.choice().threshold, std::min(p1, p2));
  EXPECT_EQ(z.choice().calibration_chunk, 50);

  DriftTestOverride o;
  o.test = DriftTest::kChiSquare;
  FeatureReference chi = *FeatureReference::Categorical(ref, o);
  ASSERT_TRUE(chi.CalibrateThreshold(50).ok());
  EXPECT_EQ(chi.choice().threshold,
            std::min(ChiSquareFromCounts(rest_without, with_b)->p_value,
                     ChiSquareFromCounts(rest_with, without_b)->p_value));
  // chi2 = z^2 for a 2 x 2 table: the same p-value.
  EXPECT_NEAR(chi.choice().threshold, p1, 1e-12);

  o.test = DriftTest::kJensenShannon;
  FeatureReference js = *FeatureReference::Categorical(ref, o);
  ASSERT_TRUE(js.CalibrateThreshold(50).ok());
  const double js_max =
      std::max(*JensenShannonFromCounts(rest_without, with_b),
               *JensenShannonFromCounts(rest_with, without_b));
  EXPECT_EQ(js.choice().threshold, std::nextafter(js_max, kInf));

  o.test = DriftTest::kPsi;
  FeatureReference psi = *FeatureReference::Categorical(ref, o);
  ASSERT_TRUE(psi.CalibrateThreshold(50).ok());
  // PSI with 0 -> 1e-4: (0.02 - 1e-4) * ln(0.02 / 1e-4) + (0.98 - 1) *
  // ln(0.98) = 0.0199 * 5.29832 + 0.000404 = 0.105841.
  EXPECT_NEAR(psi.choice().threshold, 0.1058411, 1e-6);
}

TEST(CalibrateThresholdTest, ExactForNumericTestsOnTwoValues) {
  // 99 zeros and a one, tested on its values (KS, Wasserstein are never
  // tested over categories). Every chunk of 50 against its rest: D = 0.02
  // (49/50 vs 50/50 at x = 0), W = 0.02 (the CDFs differ by 0.02 on
  // [0, 1)).
  std::vector<double> values(99, 0.0);
  values.push_back(1.0);
  DriftTestOverride o;
  o.test = DriftTest::kWasserstein;
  FeatureReference w = *FeatureReference::Numeric(values, o);
  absl::StatusOr<std::vector<double>> scores = CalibrationScores(w, 50);
  ASSERT_TRUE(scores.ok()) << scores.status();
  ASSERT_EQ(scores->size(), 10000u);
  // std (ddof 0) = sqrt(0.01 * 0.99) = 0.0994987.
  const double normed = 0.02 / std::sqrt(0.01 * 0.99);
  for (double s : *scores) EXPECT_NEAR(s, normed, 1e-12);
  ASSERT_TRUE(w.CalibrateThreshold(50).ok());
  EXPECT_NEAR(w.choice().threshold, 0.2010076, 1e-6);
  EXPECT_GT(w.choice().threshold, normed);  // just beyond every chunk

  o.test = DriftTest::kKs;
  FeatureReference ks = *FeatureReference::Numeric(values, o);
  scores = CalibrationScores(ks, 50);
  ASSERT_TRUE(scores.ok());
  for (double s : *scores) EXPECT_NEAR(s, 0.02, 1e-15);
  ASSERT_TRUE(ks.CalibrateThreshold(50).ok());
  // D = 0.02 = 1/50 between 50 and 50 values: p = 1 (scipy's exact
  // distribution), so only p < 1 is drift.
  EXPECT_EQ(ks.choice().threshold, std::nextafter(1.0, 0.0));
}

TEST(CalibrateThresholdTest, TooSmallReferenceOrChunkIsAnError) {
  std::vector<double> values;
  for (int i = 0; i < 150; ++i) values.push_back(i);
  FeatureReference r = *FeatureReference::Numeric(values);
  const DriftTestChoice before = r.choice();
  absl::Status s = r.CalibrateThreshold(100);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "drift_threshold: auto needs at least 200 reference values (two "
            "calibration chunks of 100); the reference has 150");
  EXPECT_EQ(r.choice().threshold, before.threshold);  // unchanged
  EXPECT_EQ(r.choice().calibration_chunk, 0);
  s = r.CalibrateThreshold(9);
  EXPECT_THAT(s.message(), HasSubstr("chunks of 9 values are too small"));
  EXPECT_TRUE(r.CalibrateThreshold(75).ok());  // exactly two chunks
}

TEST(CalibrateThresholdTest, DeterministicAndIndependentOfRowOrder) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> values(3000);
  for (double& v : values) v = normal(rng);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());  // a time-ordered reference
  for (DriftTest t : {DriftTest::kKs, DriftTest::kWasserstein, DriftTest::kPsi,
                      DriftTest::kJensenShannon}) {
    DriftTestOverride o;
    o.test = t;
    FeatureReference a = *FeatureReference::Numeric(values, o);
    FeatureReference b = *FeatureReference::Numeric(values, o);
    FeatureReference c = *FeatureReference::Numeric(sorted, o);
    ASSERT_TRUE(a.CalibrateThreshold(300).ok());
    ASSERT_TRUE(b.CalibrateThreshold(300).ok());
    ASSERT_TRUE(c.CalibrateThreshold(300).ok());
    EXPECT_EQ(a.choice().threshold, b.choice().threshold) << DriftTestName(t);
    EXPECT_EQ(a.choice().threshold, c.choice().threshold) << DriftTestName(t);
  }
}

// The O(chunk) D and W (chunk against the whole reference, rescaled by
// n / (n - m)) equal ks.h's and wasserstein.h's on the chunk and the rest,
// ties included.
TEST(CalibrationScoresTest, EqualTheDirectStatisticsOfChunkAndRest) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> smooth(3001), tied(2000);
  for (double& v : smooth) v = normal(rng);
  for (double& v : tied) v = std::round(normal(rng) * 2);  // ~15 values
  for (const std::vector<double>* values : {&smooth, &tied}) {
    for (int64_t chunk : {10, 137, 1000}) {
      DriftTestOverride ks_o, w_o;
      ks_o.test = DriftTest::kKs;
      w_o.test = DriftTest::kWasserstein;
      const FeatureReference ks = *FeatureReference::Numeric(*values, ks_o);
      const FeatureReference w = *FeatureReference::Numeric(*values, w_o);
      const std::vector<double> d = *CalibrationScores(ks, chunk, 20);
      const std::vector<double> wn = *CalibrationScores(w, chunk, 20);
      const std::vector<double>& sorted = ks.numeric().sorted;
      for (int draw = 0; draw < 20; ++draw) {
        const std::vector<uint32_t> q =
            CalibrationChunk(ks.numeric().size(), chunk, draw);
        ASSERT_EQ(q.size(), static_cast<size_t>(chunk));
        ASSERT_TRUE(std::is_sorted(q.begin(), q.end()));
        std::vector<double> in, rest;
        size_t next = 0;
        for (size_t p = 0; p < sorted.size(); ++p) {
          if (next < q.size() && q[next] == p) {
            in.push_back(sorted[p]);
            ++next;
          } else {
            rest.push_back(sorted[p]);
          }
        }
        ASSERT_EQ(next, q.size());  // distinct positions
        const double direct_d = KsTwoSampleSorted(rest, in)->statistic;
        const double direct_w =
            *WassersteinDistanceSorted(rest, in) / ks.numeric().std_dev;
        EXPECT_NEAR(d[static_cast<size_t>(draw)], direct_d, 1e-12 * direct_d)
            << chunk << " " << draw;
        EXPECT_NEAR(wn[static_cast<size_t>(draw)], direct_w, 1e-10 * direct_w)
            << chunk << " " << draw;
      }
    }
  }
}

// --- False alarms ---------------------------------------------------------
//
// A reference of 10,000 values, calibrated with chunks of 200; 2,000
// stationary windows of 200 fresh values from the same distribution, and
// 200 shifted ones. Each window is scored once and decided with both the
// fixed default threshold and the calibrated one. Seeded: the counts are
// the same on every run (measured rates are in docs/statistics.md).

// The documented bound plus three binomial standard deviations over
// `windows` windows: a stationary window must be flagged no more often.
double Bound(int windows) {
  const double b = kCalibratedFalseAlarmBound;
  return b + 3 * std::sqrt(b * (1 - b) / windows);
}

// Three binomial standard deviations around `p` over `windows` windows.
double Tolerance(double p, int windows) {
  return 3 * std::sqrt(p * (1 - p) / windows);
}

struct Rates {
  double fixed = 0;       // the test's default threshold
  double calibrated = 0;  // drift_threshold: auto
  double shifted = 0;     // auto, on shifted windows
};

constexpr int kWindows = 2000;
constexpr int kShiftedWindows = 200;
constexpr int64_t kChunk = 200;
constexpr int kReferenceValues = 10000;

// Draws `windows` stationary then kShiftedWindows shifted windows with
// `draw(shifted, window)` and decides each with both thresholds.
template <typename Window, typename Draw>
Rates Measure(const FeatureReference& fixed, const FeatureReference& calibrated,
              int windows, Draw draw) {
  Rates r;
  Window w;
  for (int i = 0; i < windows + kShiftedWindows; ++i) {
    const bool shifted = i >= windows;
    draw(shifted, w);
    absl::StatusOr<FeatureDrift> d = CompareFeature(fixed, w);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return r;
    const DriftTest t = fixed.choice().test;
    if (shifted) {
      r.shifted += IsDrift(t, d->drift.score, calibrated.choice().threshold);
    } else {
      r.fixed += IsDrift(t, d->drift.score, fixed.choice().threshold);
      r.calibrated += IsDrift(t, d->drift.score, calibrated.choice().threshold);
    }
  }
  r.fixed /= windows;
  r.calibrated /= windows;
  r.shifted /= kShiftedWindows;
  return r;
}

// The measured rates, in the test's XML output (--gtest_output=xml).
void Record(const std::string& what, const Rates& r) {
  ::testing::Test::RecordProperty(what + "_fixed", std::to_string(r.fixed));
  ::testing::Test::RecordProperty(what + "_auto", std::to_string(r.calibrated));
  ::testing::Test::RecordProperty(what + "_shifted", std::to_string(r.shifted));
}

Rates NumericRates(DriftTest test, int64_t window_size, int windows) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::vector<double> ref(kReferenceValues);
  for (double& v : ref) v = normal(rng);
  DriftTestOverride o;
  o.test = test;
  const FeatureReference fixed = *FeatureReference::Numeric(ref, o);
  FeatureReference calibrated = fixed;
  EXPECT_TRUE(calibrated.CalibrateThreshold(kChunk).ok());
  return Measure<std::vector<double>>(
      fixed, calibrated, windows, [&](bool shifted, std::vector<double>& w) {
        w.resize(static_cast<size_t>(window_size));
        // Shifted: half a standard deviation.
        for (double& v : w) v = normal(rng) + (shifted ? 0.5 : 0.0);
      });
}

Rates CategoryRates(DriftTest test, int64_t window_size, int windows) {
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e"};
  std::mt19937_64 rng(12);
  std::discrete_distribution<int> stationary({40, 30, 15, 10, 5});
  std::discrete_distribution<int> moved({30, 30, 15, 10, 15});
  CategoryCounts ref;
  for (int i = 0; i < kReferenceValues; ++i) ref.Add(keys[stationary(rng)]);
  DriftTestOverride o;
  o.test = test;
  const FeatureReference fixed = *FeatureReference::Categorical(ref, o);
  FeatureReference calibrated = fixed;
  EXPECT_TRUE(calibrated.CalibrateThreshold(kChunk).ok());
  return Measure<CategoryCounts>(
      fixed, calibrated, windows, [&](bool shifted, CategoryCounts& w) {
        w = CategoryCounts();
        for (int64_t j = 0; j < window_size; ++j) {
          w.Add(keys[shifted ? moved(rng) : stationary(rng)]);
        }
      });
}

TEST(FalseAlarmTest, NumericTestsStayUnderTheBoundAndDetectAShift) {
  const double bound = Bound(kWindows);
  // KS at p <= 0.05 flags 5 % of stationary windows by design; auto flags
  // at most the bound.
  Rates ks = NumericRates(DriftTest::kKs, kChunk, kWindows);
  Record("ks", ks);
  EXPECT_NEAR(ks.fixed, 0.05, Tolerance(0.05, kWindows));
  EXPECT_GT(ks.fixed, bound);
  EXPECT_LE(ks.calibrated, bound);
  EXPECT_EQ(ks.shifted, 1.0);
  // Normed Wasserstein >= 0.1 is far too tight for 200 values: about a
  // third of stationary windows.
  Rates w = NumericRates(DriftTest::kWasserstein, kChunk, kWindows);
  Record("wasserstein", w);
  EXPECT_GT(w.fixed, 0.25);
  EXPECT_LE(w.calibrated, bound);
  EXPECT_EQ(w.shifted, 1.0);
  Rates psi = NumericRates(DriftTest::kPsi, kChunk, kWindows);
  Record("psi", psi);
  EXPECT_LE(psi.calibrated, bound);
  EXPECT_EQ(psi.shifted, 1.0);
  // Jensen-Shannon >= 0.1 on deciles flags 8 % at this size.
  Rates js = NumericRates(DriftTest::kJensenShannon, kChunk, kWindows);
  Record("jensen_shannon", js);
  EXPECT_GT(js.fixed, bound);
  EXPECT_LE(js.calibrated, bound);
  EXPECT_EQ(js.shifted, 1.0);
}

TEST(FalseAlarmTest, CategoryTestsStayUnderTheBoundAndDetectAShift) {
  const double bound = Bound(kWindows);
  Rates chi = CategoryRates(DriftTest::kChiSquare, kChunk, kWindows);
  Rates z = CategoryRates(DriftTest::kZ, kChunk, kWindows);
  Rates js = CategoryRates(DriftTest::kJensenShannon, kChunk, kWindows);
  Rates psi = CategoryRates(DriftTest::kPsi, kChunk, kWindows);
  Record("chi_square", chi);
  Record("z", z);
  Record("jensen_shannon", js);
  Record("psi", psi);
  for (const Rates* r : {&chi, &z}) {
    EXPECT_NEAR(r->fixed, 0.05, Tolerance(0.05, kWindows));
    EXPECT_LE(r->calibrated, bound);
  }
  // The distances at 0.1 are too loose for five categories instead: they
  // flag almost nothing, and auto more (but still under the bound).
  for (const Rates* r : {&js, &psi}) {
    EXPECT_LT(r->fixed, r->calibrated);
    EXPECT_LE(r->calibrated, bound);
  }
  // "a" from 40 % to 30 % and "e" from 5 % to 15 % in windows of 200.
  EXPECT_GE(chi.shifted, 0.95);
  EXPECT_GE(js.shifted, 0.9);
  EXPECT_GE(psi.shifted, 0.9);
  // Z sees only the share of "a" (40 % -> 30 %): it misses a third.
  EXPECT_GE(z.shifted, 0.6);
}

// Windows larger than the chunk: p-values do not depend on the size, and
// distances shrink as windows grow, so the rate stays under the bound.
TEST(FalseAlarmTest, WindowsLargerThanTheChunk) {
  constexpr int kFewer = 500;
  for (DriftTest t :
       {DriftTest::kKs, DriftTest::kWasserstein, DriftTest::kJensenShannon}) {
    SCOPED_TRACE(DriftTestName(t));
    Rates r = NumericRates(t, 1000, kFewer);
    Record(std::string(DriftTestName(t)) + "_1000", r);
    EXPECT_LE(r.calibrated, Bound(kFewer));
    EXPECT_EQ(r.shifted, 1.0);
  }
}

}  // namespace
}  // namespace aiq::stats
